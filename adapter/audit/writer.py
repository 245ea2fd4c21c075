"""Writes audit entries inside the caller's transaction, chained by hash.

An entry is written in the same transaction as the change it records, so a
change never commits without its entry. Each entry takes the next ``seq`` and
the hash of the one before it from the chain head (``audit_chain_head``),
which it locks: on PostgreSQL with ``SELECT ... FOR UPDATE``, on SQLite by
``BEGIN IMMEDIATE`` (every transaction is a writer from its start). Two
transactions therefore never chain onto the same entry; the head's update is
also checked, so a writer that bypassed the lock would fail rather than fork
the chain. CPFs are masked before an entry is stored and hashed.

The statements are built once and compiled once per dialect; ``record`` runs
three of them (head, insert, advance) on the DBAPI cursor of the caller's
connection, an ORM session's, a Core connection's or a bare cursor's alike.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from adapter.audit.chain import GENESIS, HASHED, fields_hash
from adapter.privacy import mask_cpfs
from adapter.storage.cursor import Prepared, RawTransaction
from adapter.storage.models import AuditEntry
from adapter.storage.models_audit import CHAIN_HEAD_ID, AuditChainHead

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditRecord:
    """One entry as callers describe it; the writer adds time, seq and hashes.

    ``request_sha256`` / ``response_sha256``: of the SOAP request as received,
    or of an outbound attempt's request and answer.
    """

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
    request_sha256: str | None = None
    response_sha256: str | None = None


# Entries are written with the change they record: in its ORM session, or on
# its Core connection or DBAPI cursor where a hot path runs without the ORM.
Executor = Session | Connection | RawTransaction


class AuditSink(Protocol):
    def record(self, session: Executor, entry: AuditRecord) -> None: ...

    def record_many(
        self, session: Executor, entries: Sequence[AuditRecord]
    ) -> None: ...


class ChainError(RuntimeError):
    """The chain head moved under a writer that held its lock: a bug or tampering."""


_ENTRIES = cast(Table, AuditEntry.__table__)
_HEAD_TABLE = cast(Table, AuditChainHead.__table__)
_ROW = (*HASHED, "prev_hash", "hash")
_HEAD = (
    select(_HEAD_TABLE.c.seq, _HEAD_TABLE.c.hash)
    .where(_HEAD_TABLE.c.id == bindparam("head_id"))
    .with_for_update()
)
_INSERT = insert(_ENTRIES).values({name: bindparam(name) for name in _ROW})
_ADVANCE = (
    update(_HEAD_TABLE)
    .where(
        _HEAD_TABLE.c.id == bindparam("head_id"),
        _HEAD_TABLE.c.seq == bindparam("from_seq"),
    )
    .values(seq=bindparam("to_seq"), hash=bindparam("to_hash"))
)
_LAST_ENTRY = (
    select(_ENTRIES.c.seq, _ENTRIES.c.hash).order_by(_ENTRIES.c.id.desc()).limit(1)
)
_NEW_HEAD = insert(_HEAD_TABLE).values(
    id=bindparam("head_id"), seq=bindparam("to_seq"), hash=bindparam("to_hash")
)


class _Statements:
    """The writer's statements, run on the DBAPI cursor of the caller's
    connection (inside its transaction).

    SQLAlchemy's per-execution work (about 40 µs a statement) was most of an
    entry's cost; prepared once (``storage.cursor.Prepared``), the three
    statements of an entry cost a few µs each.
    """

    head = Prepared(_HEAD)
    insert = Prepared(_INSERT)
    advance = Prepared(_ADVANCE)
    last_entry = Prepared(_LAST_ENTRY, literal=True)  # LIMIT 1
    new_head = Prepared(_NEW_HEAD)


def _fields(entry: AuditRecord, at: dt.datetime, seq: int) -> tuple[Any, ...]:
    """The stored fields, in the chain's ``HASHED`` order, CPFs masked."""
    detail = (
        mask_cpfs(json.dumps(entry.detail, sort_keys=True, default=str))
        if entry.detail
        else None
    )
    record_id = mask_cpfs(entry.record_id) if entry.record_id else entry.record_id
    return (
        seq,
        at,
        entry.actor,
        entry.channel,
        entry.action,
        entry.record_type,
        record_id,
        entry.outcome,
        entry.fault_code,
        entry.correlation_id,
        entry.client_address,
        entry.duration_ms,
        detail,
        entry.request_sha256,
        entry.response_sha256,
    )


class AuditWriter:
    """The audit sink Ponte ships: chained rows in the caller's transaction."""

    def record(self, session: Executor, entry: AuditRecord) -> None:
        self.record_many(session, (entry,))

    def record_many(self, session: Executor, entries: Sequence[AuditRecord]) -> None:
        if not entries:
            return
        if isinstance(session, RawTransaction):
            self._append(session, entries)
            return
        connection = session.connection() if isinstance(session, Session) else session
        cursor = connection.connection.cursor()
        try:
            self._append(RawTransaction(cursor, connection.dialect), entries)
        finally:
            cursor.close()

    def _append(self, tx: RawTransaction, entries: Sequence[AuditRecord]) -> None:
        at = dt.datetime.now(dt.UTC)
        first_seq, prev_hash = _take_head(tx)
        seq = first_seq
        rows = []
        for entry in entries:
            seq += 1
            fields = _fields(entry, at, seq)
            digest = fields_hash(fields, prev_hash)
            rows.append(dict(zip(_ROW, (*fields, prev_hash, digest), strict=True)))
            prev_hash = digest
        if len(rows) == 1:
            _Statements.insert.execute(tx, rows[0])
        else:
            _Statements.insert.execute_many(tx, rows)
        advance = {
            "head_id": CHAIN_HEAD_ID,
            "from_seq": first_seq,
            "to_seq": seq,
            "to_hash": prev_hash,
        }
        if _Statements.advance.execute(tx, advance).rowcount != 1:
            raise ChainError(
                f"the audit chain head left seq {first_seq} while this "
                "transaction held it"
            )


def _take_head(tx: RawTransaction) -> tuple[int, str]:
    """Lock the chain head and read it; recreate it if someone deleted it."""
    head = _Statements.head.first(tx, {"head_id": CHAIN_HEAD_ID})
    if head is not None:
        return int(head[0]), str(head[1])
    last = _Statements.last_entry.first(tx, {})
    seq, digest = (int(last[0]), str(last[1])) if last is not None else (0, GENESIS)
    if last is not None:
        log.warning(
            "audit chain head missing; restarted from entry seq %d "
            "(ponte audit verify checks what came before)",
            seq,
        )
    values = {"head_id": CHAIN_HEAD_ID, "to_seq": seq, "to_hash": digest}
    _Statements.new_head.execute(tx, values)
    return seq, digest
