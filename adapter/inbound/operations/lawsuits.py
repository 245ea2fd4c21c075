"""Lawsuits: upsert one or many, read, delete, query."""

from __future__ import annotations

from spyne import Array, Unicode, rpc

from adapter.app.context import CallContext
from adapter.inbound import mapping as m
from adapter.inbound import types as t
from adapter.inbound.operations.base import (
    KEY_ARGS,
    KEY_NAMES,
    PAGE_ARGS,
    PAGE_SIZE,
    page,
    run_operation,
    runtime_of,
)


@rpc(t.LawsuitInput.customize(min_occurs=1), _returns=t.UpsertLawsuitResult)
def UpsertLawsuit(ctx, lawsuit):
    def work(call: CallContext) -> t.UpsertLawsuitResult:
        data = m.lawsuit_data(m.required(lawsuit, "lawsuit"))
        view, outcome = runtime_of(ctx).lawsuits.upsert(call, data)
        return t.UpsertLawsuitResult(lawsuit=m.lawsuit_out(view), outcome=outcome)

    return run_operation(ctx, "UpsertLawsuit", work)


@rpc(
    Array(t.LawsuitInput.customize(nillable=False), member_name="lawsuit").customize(
        min_occurs=1
    ),
    _returns=t.BulkResult,
)
def UpsertLawsuits(ctx, lawsuits):
    def work(call: CallContext) -> t.BulkResult:
        items = runtime_of(ctx).lawsuits.upsert_many(
            call, lawsuits or [], m.lawsuit_data
        )
        return m.bulk_out(items)

    return run_operation(ctx, "UpsertLawsuits", work)


@rpc(*KEY_ARGS, _returns=t.Lawsuit, _in_arg_names=KEY_NAMES)
def GetLawsuit(ctx, record_id, source_system, external_id):
    def work(call: CallContext) -> t.Lawsuit:
        lawsuit_id, key = m.record_key(record_id, source_system, external_id)
        view = runtime_of(ctx).lawsuits.get(call, lawsuit_id=lawsuit_id, key=key)
        return m.lawsuit_out(view)

    return run_operation(ctx, "GetLawsuit", work)


@rpc(*KEY_ARGS, _returns=t.Lawsuit, _in_arg_names=KEY_NAMES)
def DeleteLawsuit(ctx, record_id, source_system, external_id):
    def work(call: CallContext) -> t.Lawsuit:
        lawsuit_id, key = m.record_key(record_id, source_system, external_id)
        view = runtime_of(ctx).lawsuits.delete(call, lawsuit_id=lawsuit_id, key=key)
        return m.lawsuit_out(view)

    return run_operation(ctx, "DeleteLawsuit", work)


@rpc(
    t.LawsuitFilter,
    PAGE_SIZE,
    Unicode(max_len=200),
    _returns=t.LawsuitPage,
    _in_arg_names=PAGE_ARGS,
)
def QueryLawsuits(ctx, where, size, cursor):
    def work(call: CallContext) -> t.LawsuitPage:
        after, limit = page(size, cursor)
        rows, following = runtime_of(ctx).lawsuits.query(
            call, m.lawsuit_filter(where), after, limit
        )
        items = [m.lawsuit_out(r) for r in rows]
        return t.LawsuitPage(items=items, nextCursor=following)

    return run_operation(ctx, "QueryLawsuits", work)


OPERATIONS = {
    "UpsertLawsuit": UpsertLawsuit,
    "UpsertLawsuits": UpsertLawsuits,
    "GetLawsuit": GetLawsuit,
    "DeleteLawsuit": DeleteLawsuit,
    "QueryLawsuits": QueryLawsuits,
}
