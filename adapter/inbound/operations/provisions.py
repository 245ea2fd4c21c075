"""Provisions: upsert one or many, read, delete the latest, query, history."""

from __future__ import annotations

from spyne import Array, Boolean, Unicode, rpc

from adapter.app.context import CallContext
from adapter.inbound import mapping as m
from adapter.inbound import mapping_provisions as mp
from adapter.inbound import types as t
from adapter.inbound import types_provisions as tp
from adapter.inbound.operations.base import (
    KEY_ARGS,
    KEY_NAMES,
    PAGE_ARGS,
    PAGE_SIZE,
    page,
    run_operation,
    runtime_of,
)

HISTORY_NAMES = {
    "lawsuit_id": "lawsuitId",
    "lawsuit_source_system": "lawsuitSourceSystem",
    "lawsuit_external_id": "lawsuitExternalId",
    "include_deleted": "includeDeleted",
}


@rpc(tp.ProvisionInput.customize(min_occurs=1), _returns=tp.ProvisionChangeResult)
def UpsertProvision(ctx, provision):
    def work(call: CallContext) -> tp.ProvisionChangeResult:
        data = mp.provision_data(m.required(provision, "provision"))
        view, outcome, moves = runtime_of(ctx).provisions.upsert(call, data)
        return mp.change_out(view, outcome, moves)

    return run_operation(ctx, "UpsertProvision", work)


@rpc(
    Array(
        tp.ProvisionInput.customize(nillable=False), member_name="provision"
    ).customize(min_occurs=1),
    _returns=t.BulkResult,
)
def UpsertProvisions(ctx, provisions):
    def work(call: CallContext) -> t.BulkResult:
        items = runtime_of(ctx).provisions.upsert_many(
            call, provisions or [], mp.provision_data
        )
        return m.bulk_out(items)

    return run_operation(ctx, "UpsertProvisions", work)


@rpc(*KEY_ARGS, _returns=tp.Provision, _in_arg_names=KEY_NAMES)
def GetProvision(ctx, record_id, source_system, external_id):
    def work(call: CallContext) -> tp.Provision:
        provision_id, key = m.record_key(record_id, source_system, external_id)
        view = runtime_of(ctx).provisions.get(call, provision_id=provision_id, key=key)
        return mp.provision_out(view)

    return run_operation(ctx, "GetProvision", work)


@rpc(*KEY_ARGS, _returns=tp.ProvisionChangeResult, _in_arg_names=KEY_NAMES)
def DeleteProvision(ctx, record_id, source_system, external_id):
    def work(call: CallContext) -> tp.ProvisionChangeResult:
        provision_id, key = m.record_key(record_id, source_system, external_id)
        view, outcome, moves = runtime_of(ctx).provisions.delete(
            call, provision_id=provision_id, key=key
        )
        return mp.change_out(view, outcome, moves)

    return run_operation(ctx, "DeleteProvision", work)


@rpc(
    tp.ProvisionFilter,
    PAGE_SIZE,
    Unicode(max_len=200),
    _returns=tp.ProvisionPage,
    _in_arg_names=PAGE_ARGS,
)
def QueryProvisions(ctx, where, size, cursor):
    def work(call: CallContext) -> tp.ProvisionPage:
        after, limit = page(size, cursor)
        rows, following = runtime_of(ctx).provisions.query(
            call, mp.provision_filter(where), after, limit
        )
        items = [mp.provision_out(r) for r in rows]
        return tp.ProvisionPage(items=items, nextCursor=following)

    return run_operation(ctx, "QueryProvisions", work)


@rpc(
    Unicode(max_len=36),
    Unicode(max_len=40),
    Unicode(max_len=80),
    Boolean,
    _returns=tp.ProvisionHistory,
    _in_arg_names=HISTORY_NAMES,
)
def GetProvisionHistory(
    ctx, lawsuit_id, lawsuit_source_system, lawsuit_external_id, include_deleted
):
    def work(call: CallContext) -> tp.ProvisionHistory:
        ref = mp.lawsuit_ref(lawsuit_id, lawsuit_source_system, lawsuit_external_id)
        found, entries = runtime_of(ctx).provisions.history(
            call, ref, include_deleted=bool(include_deleted)
        )
        return mp.history_out(found, entries)

    return run_operation(ctx, "GetProvisionHistory", work)


OPERATIONS = {
    "UpsertProvision": UpsertProvision,
    "UpsertProvisions": UpsertProvisions,
    "GetProvision": GetProvision,
    "DeleteProvision": DeleteProvision,
    "QueryProvisions": QueryProvisions,
    "GetProvisionHistory": GetProvisionHistory,
}
