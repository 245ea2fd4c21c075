"""Between the audit trail's SOAP types and its queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from adapter.audit.query import AuditFilter
from adapter.domain.lawsuits import is_absent
from adapter.errors import ValidationError
from adapter.inbound import types_audit as ta
from adapter.inbound.mapping import utc


def _text(value: str | None) -> str | None:
    return None if is_absent(value) else (value or "").strip()


def audit_filter(f: ta.AuditEntryFilter | None) -> AuditFilter:
    if f is None:
        return AuditFilter()
    since, until = utc(f.since), utc(f.until)
    if since is not None and until is not None and until <= since:
        raise ValidationError("filter.until", "must be later than filter.since")
    return AuditFilter(
        actor=_text(f.user),
        action=_text(f.operation),
        record_type=_text(f.recordType),
        record_id=_text(f.recordId),
        outcome=_text(f.outcome),
        since=since,
        until=until,
    )


def audit_entry_out(view: dict[str, Any]) -> ta.AuditEntry:
    return ta.AuditEntry(
        id=view["id"],
        sequence=view["seq"],
        at=dt.datetime.fromisoformat(view["at"]),
        user=view["actor"],
        channel=view["channel"],
        operation=view["action"],
        recordType=view["recordType"],
        recordId=view["recordId"],
        outcome=view["outcome"],
        faultCode=view["fault"],
        correlationId=view["correlation"],
        clientAddress=view["clientAddress"],
        durationMs=view["ms"],
        requestSha256=view["requestSha256"],
        responseSha256=view["responseSha256"],
        detail=view["detailText"],
        previousHash=view["prevHash"],
        hash=view["hash"],
    )
