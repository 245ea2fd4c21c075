"""Lawsuits: upsert one or many, read, soft-delete and page through them.

Closing a lawsuit puts ``lawsuit.closed`` in the outbox, and closing,
archiving or deleting one ends the access-control flags it justified
(``adapter.app.access``), all in the transaction of the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.app.access import (
    AccessFlags,
    EndReason,
    Justification,
    audit_detail,
    open_for,
)
from adapter.app.context import CallContext
from adapter.app.records import (
    BulkSpec,
    ItemResult,
    Upserted,
    bulk_upsert,
    find_by_keys,
    find_record,
    upsert_row,
)
from adapter.audit.writer import AuditRecord, AuditSink
from adapter.delivery.outbox import Outbox
from adapter.domain.events_lawsuits import LawsuitClosure, lawsuit_closed
from adapter.domain.lawsuits import (
    LawsuitInput,
    LawsuitStatus,
    check_lawsuit_transition,
)
from adapter.domain.provisions_rules import is_open_provision
from adapter.errors import ConflictError
from adapter.storage.db import Database
from adapter.storage.models import Lawsuit, Provision
from adapter.storage.paging import Cursor, keyset, next_cursor

Clock = Callable[[], dt.datetime]
_ENDED = frozenset({LawsuitStatus.CLOSED.value, LawsuitStatus.ARCHIVED.value})


@dataclass(frozen=True)
class LawsuitView:
    id: str
    source_system: str
    external_id: str
    kind: str
    cnj_number: str | None
    segment: int | None
    court: str | None
    origin: str | None
    year: int | None
    area: str
    company_role: str
    claim_value: Decimal
    risk: str
    status: str
    filing_date: dt.date
    closure_date: dt.date | None
    closure_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None


_FIELDS = tuple(LawsuitView.__dataclass_fields__)


def lawsuit_view(row: Lawsuit) -> LawsuitView:
    return LawsuitView(**{name: getattr(row, name) for name in _FIELDS})


@dataclass(frozen=True)
class LawsuitFilter:
    status: str | None = None
    area: str | None = None
    company_role: str | None = None
    cnj_number: str | None = None
    modified_since: dt.datetime | None = None
    include_deleted: bool = False


def lawsuit_values(data: LawsuitInput) -> dict[str, Any]:
    cnj = data.cnj
    return {
        "kind": data.kind.value,
        "cnj_number": data.cnj_number,
        "segment": cnj.segment if cnj else None,
        "court": cnj.court if cnj else None,
        "origin": cnj.origin if cnj else None,
        "year": cnj.year if cnj else None,
        "area": data.area.value,
        "company_role": data.company_role.value,
        "claim_value": data.claim_value,
        "risk": data.risk.value,
        "status": data.status.value,
        "filing_date": data.filing_date,
        "closure_date": data.closure_date,
        "closure_reason": data.closure_reason,
    }


def _key(data: LawsuitInput) -> tuple[str, str]:
    return data.source_system, data.external_id


def _closure(row: Lawsuit, previous_status: str) -> LawsuitClosure:
    assert row.closure_date is not None and row.closure_reason is not None
    return LawsuitClosure(
        id=row.id,
        source_system=row.source_system,
        external_id=row.external_id,
        kind=row.kind,
        cnj_number=row.cnj_number,
        area=row.area,
        company_role=row.company_role,
        previous_status=previous_status,
        closure_date=row.closure_date,
        closure_reason=row.closure_reason,
    )


class LawsuitService:
    """Each method is one transaction with its audit entries and events.

    ``outbox`` defaults to one that names no target: the events are still
    written, and go nowhere until a target subscribes.
    """

    def __init__(
        self,
        db: Database,
        audit: AuditSink,
        clock: Clock,
        outbox: Outbox | None = None,
    ) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock
        self._outbox = outbox or Outbox(lambda _type: ())
        self._flags = AccessFlags(self._outbox)

    def upsert(self, call: CallContext, data: LawsuitInput) -> tuple[LawsuitView, str]:
        with self._db.transaction() as session:
            existing = find_by_keys(session, Lawsuit, [_key(data)]).get(_key(data))
            done, entry = self._upsert_one(session, call, data, existing)
            if entry is not None:
                self._audit.record(session, entry)
            return lawsuit_view(done.row), done.outcome

    def upsert_many(
        self,
        call: CallContext,
        items: Sequence[Any],
        validate: Callable[[Any], LawsuitInput],
    ) -> list[ItemResult]:
        """Upsert up to 10,000 lawsuits; one bad item does not stop the others."""
        spec = BulkSpec("lawsuits", Lawsuit, _key, lambda d: d.external_id)

        def upsert_one(
            session: Session, data: LawsuitInput, existing: Any
        ) -> tuple[Upserted[Any], AuditRecord | None]:
            return self._upsert_one(session, call, data, existing)

        return bulk_upsert(self._db, self._audit, items, validate, spec, upsert_one)

    def _upsert_one(
        self,
        session: Session,
        call: CallContext,
        data: LawsuitInput,
        existing: Lawsuit | None,
    ) -> tuple[Upserted[Lawsuit], AuditRecord | None]:
        """Apply one lawsuit; every rule is checked before anything changes."""
        if existing is not None and existing.status != data.status.value:
            check_lawsuit_transition(
                LawsuitStatus(existing.status),
                data.status,
                closure_date=data.closure_date,
                closure_reason=data.closure_reason,
            )
        before = None if existing is None else existing.status
        now = self._clock()
        done = upsert_row(
            session, Lawsuit, _key(data), lawsuit_values(data), now, existing
        )
        if done.outcome == "unchanged":
            return done, None
        detail = {"result": done.outcome, **done.changes}
        if before is not None and before not in _ENDED and done.row.status in _ENDED:
            self._closed(session, done.row, before, now, detail)
        entry = call.audit_record(
            "ok", record_type="lawsuit", record_id=done.row.id, detail=detail
        )
        return done, entry

    def _closed(
        self,
        session: Session,
        row: Lawsuit,
        before: str,
        now: dt.datetime,
        detail: dict[str, Any],
    ) -> None:
        """The lawsuit is no longer open: its event, and the end of its flags."""
        if row.status == LawsuitStatus.CLOSED.value:
            event = lawsuit_closed(_closure(row, before), now)
            targets = self._outbox.enqueue(session, event)
            detail["event"], detail["targets"] = event.id, list(targets)
        self._end_flags(session, row, EndReason.LAWSUIT_CLOSED, now, detail)

    def _end_flags(
        self,
        session: Session,
        row: Lawsuit,
        why: EndReason,
        now: dt.datetime,
        detail: dict[str, Any],
    ) -> None:
        """End the flags the lawsuit justified; name their events in ``detail``."""
        rows = open_for(session, Justification("lawsuit", row.id))
        emitted = self._flags.end(session, rows, why, now)
        if emitted:
            detail["access"] = audit_detail(emitted)

    def get(
        self,
        call: CallContext,
        *,
        lawsuit_id: str | None = None,
        key: tuple[str, str] | None = None,
    ) -> LawsuitView:
        with self._db.transaction() as session:
            row = self._find(session, lawsuit_id, key)
            self._record(session, call, row.id, {})
            return lawsuit_view(row)

    def delete(
        self,
        call: CallContext,
        *,
        lawsuit_id: str | None = None,
        key: tuple[str, str] | None = None,
    ) -> LawsuitView:
        """Soft-delete; refused while the lawsuit has an open provision."""
        with self._db.transaction() as session:
            row = self._find(session, lawsuit_id, key)
            latest = session.scalars(
                select(Provision)
                .where(Provision.lawsuit_id == row.id)
                .order_by(Provision.reporting_date.desc())
                .limit(1)
            ).first()
            if latest is not None and is_open_provision(
                latest.classification, latest.amount
            ):
                raise ConflictError(
                    f"lawsuit {row.id} has an open provision of {latest.amount} "
                    f"({latest.classification}, {latest.reporting_date}); "
                    "reverse it before deleting the lawsuit"
                )
            detail: dict[str, Any] = {"result": "deleted"}
            if row.deleted_at is None:
                now = self._clock()
                row.deleted_at = now
                row.updated_at = now
                self._end_flags(session, row, EndReason.LAWSUIT_DELETED, now, detail)
            self._record(session, call, row.id, detail)
            return lawsuit_view(row)

    def query(
        self,
        call: CallContext,
        where: LawsuitFilter,
        cursor: Cursor | None,
        size: int,
    ) -> tuple[list[LawsuitView], str | None]:
        """One page in ``(updated_at, id)`` order, and the cursor of the next."""
        query = select(Lawsuit)
        for column, value in (
            (Lawsuit.status, where.status),
            (Lawsuit.area, where.area),
            (Lawsuit.company_role, where.company_role),
            (Lawsuit.cnj_number, where.cnj_number),
        ):
            if value is not None:
                query = query.where(column == value)
        if where.modified_since is not None:
            query = query.where(Lawsuit.updated_at >= where.modified_since)
        if not where.include_deleted:
            query = query.where(Lawsuit.deleted_at.is_(None))
        with self._db.transaction() as session:
            rows = list(session.scalars(keyset(query, Lawsuit, cursor, size)))
            following = next_cursor(rows, size)
            self._record(session, call, None, {"returned": len(rows)})
            return [lawsuit_view(r) for r in rows], following

    def _find(
        self, session: Session, lawsuit_id: str | None, key: tuple[str, str] | None
    ) -> Lawsuit:
        row: Lawsuit = find_record(session, Lawsuit, "lawsuit", lawsuit_id, key)
        return row

    def _record(
        self,
        session: Session,
        call: CallContext,
        record_id: str | None,
        detail: dict[str, Any],
    ) -> None:
        entry = call.audit_record(
            "ok", record_type="lawsuit", record_id=record_id, detail=detail
        )
        self._audit.record(session, entry)
