"""Time-clock punches and AFD files: bulk upsert, import, get, query, delete.

An ``ImportAfdFile`` request carries the file base64-encoded, 4/3 of its size.
Three limits apply to it, the smallest first:

- spyne's ``WsgiApplication`` refuses bodies over 2 MiB (its default
  ``max_content_length``, which ``adapter.inbound.app`` does not raise): an AFD
  of up to 1.57 MB fits, about 11,000 REP-P (type 7) or 30,000 type-3 punches;
- libxml2 refuses a text node over 10,000,000 characters unless the parsers use
  ``huge_tree``: 7.5 MB of AFD;
- ``server.max_body_bytes``, 20 MiB by default: 15.7 MB of AFD (113,000 type-7
  punches; measured 18 s and +110 MB of worker memory with the first two
  limits lifted).

TODO: a year of a large employer's punches (tens of MB) needs an upload in
parts; until then such an AFD is split by period on the client side.
"""

from __future__ import annotations

from spyne import Array, Boolean, Unicode, rpc

from adapter.app.context import CallContext
from adapter.inbound import mapping as m
from adapter.inbound import mapping_punches as mp
from adapter.inbound import types as t
from adapter.inbound import types_punches as tp
from adapter.inbound.operations.base import (
    KEY_ARGS,
    KEY_NAMES,
    PAGE_ARGS,
    PAGE_SIZE,
    page,
    run_operation,
    runtime_of,
)


@rpc(
    Array(tp.TimePunchInput.customize(nillable=False), member_name="punch").customize(
        min_occurs=1
    ),
    _returns=t.BulkResult,
)
def UpsertTimePunches(ctx, punches):
    def work(call: CallContext) -> t.BulkResult:
        items = runtime_of(ctx).punches.upsert_many(call, punches or [], mp.punch_data)
        return m.bulk_out(items)

    return run_operation(ctx, "UpsertTimePunches", work)


@rpc(*KEY_ARGS, _returns=tp.TimePunch, _in_arg_names=KEY_NAMES)
def GetTimePunch(ctx, record_id, source_system, external_id):
    def work(call: CallContext) -> tp.TimePunch:
        punch_id, key = m.record_key(record_id, source_system, external_id)
        view = runtime_of(ctx).punches.get(call, punch_id=punch_id, key=key)
        return mp.punch_out(view)

    return run_operation(ctx, "GetTimePunch", work)


@rpc(*KEY_ARGS, _returns=tp.TimePunch, _in_arg_names=KEY_NAMES)
def DeleteTimePunch(ctx, record_id, source_system, external_id):
    def work(call: CallContext) -> tp.TimePunch:
        punch_id, key = m.record_key(record_id, source_system, external_id)
        view = runtime_of(ctx).punches.delete(call, punch_id=punch_id, key=key)
        return mp.punch_out(view)

    return run_operation(ctx, "DeleteTimePunch", work)


@rpc(
    tp.TimePunchFilter,
    PAGE_SIZE,
    Unicode(max_len=200),
    _returns=tp.TimePunchPage,
    _in_arg_names=PAGE_ARGS,
)
def QueryTimePunches(ctx, where, size, cursor):
    def work(call: CallContext) -> tp.TimePunchPage:
        after, limit = page(size, cursor)
        rows, following = runtime_of(ctx).punches.query(
            call, mp.punch_filter(where), after, limit
        )
        items = [mp.punch_out(r) for r in rows]
        return tp.TimePunchPage(items=items, nextCursor=following)

    return run_operation(ctx, "QueryTimePunches", work)


@rpc(
    tp.AfdFileInput.customize(min_occurs=1),
    _returns=tp.ImportAfdFileResult,
    _in_arg_names={"afd_file": "afdFile"},
)
def ImportAfdFile(ctx, afd_file):
    def work(call: CallContext) -> tp.ImportAfdFileResult:
        service = runtime_of(ctx).punches
        upload = mp.afd_upload(m.required(afd_file, "afdFile"), service.local_zone)
        view, outcome = service.import_afd(call, upload)
        return tp.ImportAfdFileResult(afdFile=mp.afd_out(view), outcome=outcome)

    return run_operation(ctx, "ImportAfdFile", work)


@rpc(
    Unicode(max_len=36),
    Unicode(max_len=64),
    Boolean,
    _returns=tp.AfdFile,
    _in_arg_names={
        "file_id": "id",
        "sha256": "sha256",
        "include_content": "includeContent",
    },
)
def GetAfdFile(ctx, file_id, sha256, include_content):
    def work(call: CallContext) -> tp.AfdFile:
        view = runtime_of(ctx).punches.get_afd(
            call,
            file_id=(file_id or "").strip() or None,
            sha256=(sha256 or "").strip() or None,
            include_content=bool(include_content),
        )
        return mp.afd_out(view)

    return run_operation(ctx, "GetAfdFile", work)


OPERATIONS = {
    "UpsertTimePunches": UpsertTimePunches,
    "GetTimePunch": GetTimePunch,
    "DeleteTimePunch": DeleteTimePunch,
    "QueryTimePunches": QueryTimePunches,
    "ImportAfdFile": ImportAfdFile,
    "GetAfdFile": GetAfdFile,
}
