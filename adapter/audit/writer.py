"""Writes audit entries inside the caller's transaction.

An entry is written in the same session as the change it records, so a change
never commits without its entry. Personal data is masked before it is stored.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from adapter.storage.models import AuditEntry


@dataclass(frozen=True)
class AuditRecord:
    actor: str
    channel: str
    action: str
    outcome: str
    record_type: str | None = None
    record_id: str | None = None
    fault_code: str | None = None
    correlation_id: str | None = None
    client_address: str | None = None
    duration_ms: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


# Entries are written with the change they record: in its ORM session, or on
# its Core connection where a hot path runs without the ORM.
Executor = Session | Connection


class AuditSink(Protocol):
    def record(self, session: Executor, entry: AuditRecord) -> None: ...

    def record_many(
        self, session: Executor, entries: Sequence[AuditRecord]
    ) -> None: ...


def _row(entry: AuditRecord, at: dt.datetime) -> dict[str, Any]:
    detail = (
        json.dumps(entry.detail, sort_keys=True, default=str) if entry.detail else None
    )
    return {
        "at": at,
        "actor": entry.actor,
        "channel": entry.channel,
        "action": entry.action,
        "record_type": entry.record_type,
        "record_id": entry.record_id,
        "outcome": entry.outcome,
        "fault_code": entry.fault_code,
        "correlation_id": entry.correlation_id,
        "client_address": entry.client_address,
        "duration_ms": entry.duration_ms,
        "detail": detail,
    }


_INSERT = insert(AuditEntry)


class AuditWriter:
    """The audit sink Ponte ships: rows inserted in the caller's transaction."""

    def record(self, session: Executor, entry: AuditRecord) -> None:
        session.execute(_INSERT, [_row(entry, dt.datetime.now(dt.UTC))])

    def record_many(self, session: Executor, entries: Sequence[AuditRecord]) -> None:
        if entries:
            at = dt.datetime.now(dt.UTC)
            session.execute(_INSERT, [_row(e, at) for e in entries])


def latest(session: Session, limit: int = 20) -> Sequence[AuditEntry]:
    """The newest entries first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    return session.scalars(query).all()
