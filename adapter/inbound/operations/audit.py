"""The audit trail: paged queries for auditors (and admins)."""

from __future__ import annotations

from spyne import Unicode, rpc

from adapter.app.context import CallContext
from adapter.audit.query import AuditQueries
from adapter.inbound import mapping_audit as ma
from adapter.inbound import types_audit as ta
from adapter.inbound.operations.base import (
    PAGE_ARGS,
    PAGE_SIZE,
    run_operation,
    runtime_of,
)
from adapter.storage.paging import page_size


@rpc(
    ta.AuditEntryFilter,
    PAGE_SIZE,
    Unicode(max_len=200),
    _returns=ta.AuditEntryPage,
    _in_arg_names=PAGE_ARGS,
)
def QueryAuditEntries(ctx, where, size, cursor):
    def work(call: CallContext) -> ta.AuditEntryPage:
        runtime = runtime_of(ctx)
        views, following = AuditQueries(runtime.db, runtime.audit).query(
            call, ma.audit_filter(where), cursor, page_size(size)
        )
        items = [ma.audit_entry_out(v) for v in views]
        return ta.AuditEntryPage(items=items, nextCursor=following)

    return run_operation(ctx, "QueryAuditEntries", work)


OPERATIONS = {"QueryAuditEntries": QueryAuditEntries}
