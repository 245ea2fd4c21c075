"""Contracts: upsert one or many, read, delete, query, amend."""

from __future__ import annotations

from spyne import Array, Unicode, rpc

from adapter.app.context import CallContext
from adapter.inbound import mapping as m
from adapter.inbound import mapping_contracts as mc
from adapter.inbound import types as t
from adapter.inbound import types_contracts as tc
from adapter.inbound.operations.base import (
    KEY_ARGS,
    KEY_NAMES,
    PAGE_ARGS,
    PAGE_SIZE,
    page,
    run_operation,
    runtime_of,
)


@rpc(tc.ContractInput.customize(min_occurs=1), _returns=tc.UpsertContractResult)
def UpsertContract(ctx, contract):
    def work(call: CallContext) -> tc.UpsertContractResult:
        data = mc.contract_data(m.required(contract, "contract"))
        view, outcome = runtime_of(ctx).contracts.upsert(call, data)
        return tc.UpsertContractResult(contract=mc.contract_out(view), outcome=outcome)

    return run_operation(ctx, "UpsertContract", work)


@rpc(
    Array(tc.ContractInput.customize(nillable=False), member_name="contract").customize(
        min_occurs=1
    ),
    _returns=t.BulkResult,
)
def UpsertContracts(ctx, contracts):
    def work(call: CallContext) -> t.BulkResult:
        items = runtime_of(ctx).contracts.upsert_many(
            call, contracts or [], mc.contract_data
        )
        return m.bulk_out(items)

    return run_operation(ctx, "UpsertContracts", work)


@rpc(*KEY_ARGS, _returns=tc.Contract, _in_arg_names=KEY_NAMES)
def GetContract(ctx, record_id, source_system, external_id):
    def work(call: CallContext) -> tc.Contract:
        contract_id, key = m.record_key(record_id, source_system, external_id)
        view = runtime_of(ctx).contracts.get(call, contract_id=contract_id, key=key)
        return mc.contract_out(view)

    return run_operation(ctx, "GetContract", work)


@rpc(*KEY_ARGS, _returns=tc.Contract, _in_arg_names=KEY_NAMES)
def DeleteContract(ctx, record_id, source_system, external_id):
    def work(call: CallContext) -> tc.Contract:
        contract_id, key = m.record_key(record_id, source_system, external_id)
        view = runtime_of(ctx).contracts.delete(call, contract_id=contract_id, key=key)
        return mc.contract_out(view)

    return run_operation(ctx, "DeleteContract", work)


@rpc(
    tc.ContractFilter,
    PAGE_SIZE,
    Unicode(max_len=200),
    _returns=tc.ContractPage,
    _in_arg_names=PAGE_ARGS,
)
def QueryContracts(ctx, where, size, cursor):
    def work(call: CallContext) -> tc.ContractPage:
        after, limit = page(size, cursor)
        rows, following = runtime_of(ctx).contracts.query(
            call, mc.contract_filter(where), after, limit
        )
        items = [mc.contract_out(r) for r in rows]
        return tc.ContractPage(items=items, nextCursor=following)

    return run_operation(ctx, "QueryContracts", work)


@rpc(
    *KEY_ARGS,
    tc.ContractAmendmentInput.customize(min_occurs=1),
    _returns=tc.AmendContractResult,
    _in_arg_names={**KEY_NAMES, "amendment": "amendment"},
)
def AmendContract(ctx, record_id, source_system, external_id, amendment):
    def work(call: CallContext) -> tc.AmendContractResult:
        contract_id, key = m.record_key(record_id, source_system, external_id)
        fields = mc.amendment_fields(m.required(amendment, "amendment"))
        view, outcome = runtime_of(ctx).contracts.amend(
            call, fields, contract_id=contract_id, key=key
        )
        return tc.AmendContractResult(contract=mc.contract_out(view), outcome=outcome)

    return run_operation(ctx, "AmendContract", work)


OPERATIONS = {
    "UpsertContract": UpsertContract,
    "UpsertContracts": UpsertContracts,
    "GetContract": GetContract,
    "DeleteContract": DeleteContract,
    "QueryContracts": QueryContracts,
    "AmendContract": AmendContract,
}
