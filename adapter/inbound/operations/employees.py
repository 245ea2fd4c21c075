"""Employees: upsert one or many, read (also by CPF), delete, query."""

from __future__ import annotations

from spyne import Array, Unicode, rpc

from adapter.app.context import CallContext
from adapter.inbound import mapping as m
from adapter.inbound import mapping_employees as me
from adapter.inbound import types as t
from adapter.inbound import types_employees as te
from adapter.inbound.operations.base import (
    KEY_ARGS,
    KEY_NAMES,
    PAGE_ARGS,
    PAGE_SIZE,
    page,
    run_operation,
    runtime_of,
)


@rpc(te.EmployeeInput.customize(min_occurs=1), _returns=te.UpsertEmployeeResult)
def UpsertEmployee(ctx, employee):
    def work(call: CallContext) -> te.UpsertEmployeeResult:
        data = me.employee_data(m.required(employee, "employee"))
        view, outcome = runtime_of(ctx).employees.upsert(call, data)
        return te.UpsertEmployeeResult(employee=me.employee_out(view), outcome=outcome)

    return run_operation(ctx, "UpsertEmployee", work)


@rpc(
    Array(te.EmployeeInput.customize(nillable=False), member_name="employee").customize(
        min_occurs=1
    ),
    _returns=t.BulkResult,
)
def UpsertEmployees(ctx, employees):
    def work(call: CallContext) -> t.BulkResult:
        items = runtime_of(ctx).employees.upsert_many(
            call, employees or [], me.employee_data
        )
        return m.bulk_out(items)

    return run_operation(ctx, "UpsertEmployees", work)


@rpc(
    *KEY_ARGS,
    Unicode(max_len=20),
    _returns=te.Employee,
    _in_arg_names={**KEY_NAMES, "cpf": "cpf"},
)
def GetEmployee(ctx, record_id, source_system, external_id, cpf):
    def work(call: CallContext) -> te.Employee:
        employee_id, key, by_cpf = me.employee_lookup(
            record_id, source_system, external_id, cpf
        )
        view = runtime_of(ctx).employees.get(
            call, employee_id=employee_id, key=key, cpf=by_cpf
        )
        return me.employee_out(view)

    return run_operation(ctx, "GetEmployee", work)


@rpc(*KEY_ARGS, _returns=te.Employee, _in_arg_names=KEY_NAMES)
def DeleteEmployee(ctx, record_id, source_system, external_id):
    def work(call: CallContext) -> te.Employee:
        employee_id, key = m.record_key(record_id, source_system, external_id)
        view = runtime_of(ctx).employees.delete(call, employee_id=employee_id, key=key)
        return me.employee_out(view)

    return run_operation(ctx, "DeleteEmployee", work)


@rpc(
    te.EmployeeFilter,
    PAGE_SIZE,
    Unicode(max_len=200),
    _returns=te.EmployeePage,
    _in_arg_names=PAGE_ARGS,
)
def QueryEmployees(ctx, where, size, cursor):
    def work(call: CallContext) -> te.EmployeePage:
        after, limit = page(size, cursor)
        rows, following = runtime_of(ctx).employees.query(
            call, me.employee_filter(where), after, limit
        )
        items = [me.employee_out(r) for r in rows]
        return te.EmployeePage(items=items, nextCursor=following)

    return run_operation(ctx, "QueryEmployees", work)


OPERATIONS = {
    "UpsertEmployee": UpsertEmployee,
    "UpsertEmployees": UpsertEmployees,
    "GetEmployee": GetEmployee,
    "DeleteEmployee": DeleteEmployee,
    "QueryEmployees": QueryEmployees,
}
