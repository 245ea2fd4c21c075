"""Parties: upsert one or many, read, delete, query."""

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


@rpc(t.PartyInput.customize(min_occurs=1), _returns=t.UpsertPartyResult)
def UpsertParty(ctx, party):
    def work(call: CallContext) -> t.UpsertPartyResult:
        data = m.party_data(m.required(party, "party"))
        view, outcome = runtime_of(ctx).parties.upsert(call, data)
        return t.UpsertPartyResult(party=m.party_out(view), outcome=outcome)

    return run_operation(ctx, "UpsertParty", work)


@rpc(
    Array(t.PartyInput.customize(nillable=False), member_name="party").customize(
        min_occurs=1
    ),
    _returns=t.BulkResult,
)
def UpsertParties(ctx, parties):
    def work(call: CallContext) -> t.BulkResult:
        items = runtime_of(ctx).parties.upsert_many(call, parties or [], m.party_data)
        return m.bulk_out(items)

    return run_operation(ctx, "UpsertParties", work)


@rpc(*KEY_ARGS, _returns=t.Party, _in_arg_names=KEY_NAMES)
def GetParty(ctx, record_id, source_system, external_id):
    def work(call: CallContext) -> t.Party:
        party_id, key = m.record_key(record_id, source_system, external_id)
        view = runtime_of(ctx).parties.get(call, party_id=party_id, key=key)
        return m.party_out(view)

    return run_operation(ctx, "GetParty", work)


@rpc(*KEY_ARGS, _returns=t.Party, _in_arg_names=KEY_NAMES)
def DeleteParty(ctx, record_id, source_system, external_id):
    def work(call: CallContext) -> t.Party:
        party_id, key = m.record_key(record_id, source_system, external_id)
        view = runtime_of(ctx).parties.delete(call, party_id=party_id, key=key)
        return m.party_out(view)

    return run_operation(ctx, "DeleteParty", work)


@rpc(
    t.PartyFilter,
    PAGE_SIZE,
    Unicode(max_len=200),
    _returns=t.PartyPage,
    _in_arg_names=PAGE_ARGS,
)
def QueryParties(ctx, where, size, cursor):
    def work(call: CallContext) -> t.PartyPage:
        after, limit = page(size, cursor)
        rows, following = runtime_of(ctx).parties.query(
            call, m.party_filter(where), after, limit
        )
        return t.PartyPage(items=[m.party_out(r) for r in rows], nextCursor=following)

    return run_operation(ctx, "QueryParties", work)


OPERATIONS = {
    "UpsertParty": UpsertParty,
    "UpsertParties": UpsertParties,
    "GetParty": GetParty,
    "DeleteParty": DeleteParty,
    "QueryParties": QueryParties,
}
