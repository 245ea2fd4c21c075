"""Reading the audit trail: filters, keyset pages, views with CPFs masked.

Entries are read in the order they were appended (``id``, which follows
``seq``: both are taken under the chain head's lock), so a reader that follows
``nextCursor`` to the end sees every entry once, including those appended
while it read. Views pass every text through ``mask_cpfs`` again, for entries
written before the writer masked them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from adapter.audit.chain import HASHED, fields_hash
from adapter.audit.writer import AuditRecord, AuditSink
from adapter.errors import ValidationError
from adapter.privacy import mask_cpfs, mask_cpfs_in
from adapter.storage.db import Database
from adapter.storage.models import AuditEntry
from adapter.storage.paging import Cursor, decode_cursor, encode_cursor


@dataclass(frozen=True)
class AuditFilter:
    """What to look for; every field given must match (``until`` excluded)."""

    actor: str | None = None
    action: str | None = None
    record_type: str | None = None
    record_id: str | None = None
    outcome: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def summary(self) -> dict[str, str]:
        """The filter as an audit entry's detail shows it."""
        shown = {
            "user": self.actor,
            "operation": self.action,
            "recordType": self.record_type,
            "recordId": self.record_id,
            "outcome": self.outcome,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {k: mask_cpfs(v) for k, v in shown.items() if v is not None}


def filtered(query: Select[Any], where: AuditFilter) -> Select[Any]:
    """``query`` on ``AuditEntry`` narrowed by ``where``."""
    checks = (
        (where.actor, AuditEntry.actor),
        (where.action, AuditEntry.action),
        (where.record_type, AuditEntry.record_type),
        (where.record_id, AuditEntry.record_id),
        (where.outcome, AuditEntry.outcome),
    )
    for value, column in checks:
        if value is not None:
            query = query.where(column == value)
    if where.since is not None:
        query = query.where(AuditEntry.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.at < where.until)
    return query


def after_cursor(value: str | None) -> int:
    """The id a cursor of ``QueryAuditEntries`` names (0: from the start)."""
    cursor = decode_cursor(value)
    if cursor is None:
        return 0
    if not cursor.id.isdigit():
        raise ValidationError("cursor", "is not a cursor returned by a previous page")
    return int(cursor.id)


def page(
    session: Session, where: AuditFilter, after: int, size: int
) -> tuple[list[AuditEntry], str | None]:
    """Up to ``size`` entries after id ``after``, oldest first, and the next cursor."""
    query = filtered(select(AuditEntry), where).where(AuditEntry.id > after)
    rows = list(session.scalars(query.order_by(AuditEntry.id).limit(size + 1)))
    if len(rows) <= size:
        return rows, None
    del rows[size:]
    last = rows[-1]
    return rows, encode_cursor(Cursor(last.at, str(last.id)))


def newest(session: Session, where: AuditFilter, limit: int) -> list[AuditEntry]:
    """The latest ``limit`` entries that match, newest first."""
    query = filtered(select(AuditEntry), where).order_by(AuditEntry.id.desc())
    return list(session.scalars(query.limit(limit)))


def count(session: Session, where: AuditFilter) -> int:
    return int(session.scalar(filtered(select(func.count(AuditEntry.id)), where)) or 0)


def oldest_first(
    session: Session, where: AuditFilter, batch: int = 2000
) -> Iterator[AuditEntry]:
    """Every matching entry, oldest first, read ``batch`` at a time (flat memory)."""
    after = 0
    while True:
        query = filtered(select(AuditEntry), where).where(AuditEntry.id > after)
        rows = list(session.scalars(query.order_by(AuditEntry.id).limit(batch)))
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id
        session.expunge_all()  # keep memory flat over a long export


def find(session: Session, entry_id: int) -> AuditEntry | None:
    return session.get(AuditEntry, entry_id)


# Views


def detail_of(entry: AuditEntry) -> Any:
    """The entry's detail as data, CPFs masked; text that is not JSON as text."""
    if not entry.detail:
        return {}
    try:
        return mask_cpfs_in(json.loads(entry.detail))
    except ValueError:
        return mask_cpfs(entry.detail)


def hash_holds(entry: AuditEntry) -> bool:
    """Whether the entry's fields still give its hash (its link is not checked)."""
    fields = tuple(getattr(entry, name) for name in HASHED)
    return fields_hash(fields, entry.prev_hash) == entry.hash


def view(entry: AuditEntry) -> dict[str, Any]:
    """An entry for people and exports: every field, CPFs masked."""
    record = None
    if entry.record_type:
        record = f"{entry.record_type}:{mask_cpfs(entry.record_id or '-')}"
    return {
        "id": entry.id,
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "channel": entry.channel,
        "action": entry.action,
        "record": record,
        "recordType": entry.record_type,
        "recordId": mask_cpfs(entry.record_id) if entry.record_id else None,
        "outcome": entry.outcome,
        "fault": entry.fault_code,
        "ms": entry.duration_ms,
        "correlation": entry.correlation_id,
        "clientAddress": entry.client_address,
        "requestSha256": entry.request_sha256,
        "responseSha256": entry.response_sha256,
        "detail": detail_of(entry),
        # As stored, so that the hash can be recomputed from an export; the
        # writer masked it already (masking again only touches older entries).
        "detailText": mask_cpfs(entry.detail) if entry.detail else None,
        "prevHash": entry.prev_hash,
        "hash": entry.hash,
    }


# The use case behind QueryAuditEntries


class Call(Protocol):
    """What the query needs of the call that asked for it."""

    def audit_record(
        self,
        outcome: str,
        *,
        fault_code: str | None = None,
        record_type: str | None = None,
        record_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditRecord: ...


class AuditQueries:
    """Auditors' reads of the trail; each read is itself an audit entry."""

    def __init__(self, db: Database, audit: AuditSink) -> None:
        self._db = db
        self._audit = audit

    def query(
        self, call: Call, where: AuditFilter, cursor: str | None, size: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of entries, oldest first, and the cursor of the next."""
        after = after_cursor(cursor)
        with self._db.transaction() as session:
            rows, following = page(session, where, after, size)
            views = [view(r) for r in rows]
            detail: dict[str, Any] = {"returned": len(rows), **where.summary()}
            self._audit.record(session, call.audit_record("ok", detail=detail))
        return views, following
