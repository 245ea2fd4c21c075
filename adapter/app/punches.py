"""Time-clock punches: bulk upsert, AFD import, reads and paging by punch time.

Punches are evidence and only ever added: a repeated punch is ``unchanged``, a
changed one is refused (``ConflictError``), and delete is always refused. Audit
details hold counts, ids and the file's SHA-256, never a CPF, PIS or punch.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, and_, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from adapter.app.context import CallContext
from adapter.app.records import (
    ItemResult,
    apply_bulk,
    check_bulk_size,
    find_by_keys,
    find_record,
    validate_all,
)
from adapter.audit.writer import AuditSink
from adapter.domain.afd import AfdLayout, AfdReport, Punch, parse_afd
from adapter.domain.punches import (
    DEFAULT_LOCAL_ZONE,
    NEVER_DELETED,
    NEVER_EDITED,
    AfdUpload,
    PunchInput,
    check_employer,
)
from adapter.errors import ConflictError, NotFoundError, ValidationError
from adapter.storage.db import Database
from adapter.storage.models_punches import AfdFile, TimePunch
from adapter.storage.paging import Cursor, encode_cursor

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
AFD_SOURCE = "AFD"  # source_system of punches read from an AFD file
_INSERT_BATCH = 5000


@dataclass(frozen=True)
class PunchView:
    """A stored punch. ``punched_at`` is naive when ``local_time`` is set."""

    id: str
    origin: str
    source_system: str
    external_id: str | None
    afd_file_id: str | None
    nsr: int | None
    record_type: int | None
    employee_cpf: str | None
    employee_pis: str | None
    punched_at: dt.datetime
    local_time: bool
    local_zone: str | None
    recorded_at: dt.datetime | None
    collector: str | None
    online: bool | None
    hash: str | None
    created_at: dt.datetime


_PUNCH_FIELDS = tuple(PunchView.__dataclass_fields__)


def punch_view(row: TimePunch) -> PunchView:
    values = {name: getattr(row, name) for name in _PUNCH_FIELDS}
    if row.local_time:
        values["punched_at"] = row.punched_at.replace(tzinfo=None)
    return PunchView(**values)


@dataclass(frozen=True)
class LineView:
    """A refused line or a warning of an AFD import."""

    line_number: int | None
    nsr: int | None
    reason: str


@dataclass(frozen=True)
class AfdFileView:
    """An imported AFD; ``content`` is None unless it was asked for."""

    id: str
    file_name: str
    employer_tax_id: str
    layout: str
    layout_version: str | None
    rep_id: str
    period_start: dt.date
    period_end: dt.date
    local_zone: str | None
    sha256: str
    size: int
    line_count: int
    imported_at: dt.datetime
    imported_by: str
    accepted_count: int
    refused_count: int
    refused_lines: tuple[LineView, ...]
    warnings: tuple[LineView, ...]
    content: bytes | None = None


def _lines_json(lines: Iterable[Any]) -> str:
    return json.dumps(
        [
            {"lineNumber": x.line_number, "nsr": x.nsr, "reason": x.reason}
            for x in lines
        ],
        ensure_ascii=False,
    )


def _lines(text: str) -> tuple[LineView, ...]:
    return tuple(
        LineView(x["lineNumber"], x["nsr"], x["reason"]) for x in json.loads(text)
    )


def afd_view(row: AfdFile, *, with_content: bool = False) -> AfdFileView:
    return AfdFileView(
        id=row.id,
        file_name=row.file_name,
        employer_tax_id=row.employer_tax_id,
        layout=row.layout,
        layout_version=row.layout_version,
        rep_id=row.rep_id,
        period_start=row.period_start,
        period_end=row.period_end,
        local_zone=row.local_zone,
        sha256=row.sha256,
        size=row.size,
        line_count=row.line_count,
        imported_at=row.imported_at,
        imported_by=row.imported_by,
        accepted_count=row.accepted_count,
        refused_count=row.refused_count,
        refused_lines=_lines(row.refused_lines),
        warnings=_lines(row.warnings),
        content=row.content if with_content else None,
    )


@dataclass(frozen=True)
class PunchFilter:
    """At least one of employee CPF, employee PIS or AFD file id is required.

    ``punched_from`` is inclusive and ``punched_to`` exclusive. Local-time
    punches (Portaria 1510) are compared by their wall-clock time as written.
    Punches never change, so ``modified_since`` selects by the time stored.
    """

    employee_cpf: str | None = None
    employee_pis: str | None = None
    afd_file_id: str | None = None
    punched_from: dt.datetime | None = None
    punched_to: dt.datetime | None = None
    modified_since: dt.datetime | None = None

    def __post_init__(self) -> None:
        if not (self.employee_cpf or self.employee_pis or self.afd_file_id):
            raise ValidationError(
                "filter", "give employeeCpf, employeePis or afdFileId"
            )


def _key(data: PunchInput) -> tuple[str, str]:
    return data.source_system, data.external_id


def _api_row(data: PunchInput, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "origin": "api",
        "source_system": data.source_system,
        "external_id": data.external_id,
        "employee_cpf": data.employee_cpf,
        "punched_at": data.punched_at,
        "local_time": False,
        "collector": data.collector,
        "created_at": now,
    }


def _check_same_punch(row: TimePunch, data: PunchInput) -> None:
    """Refuse a key sent again with another punch: punches are never edited."""
    differs = [
        name
        for name, stored, sent in (
            ("punchedAt", row.punched_at, data.punched_at),
            ("employeeCpf", row.employee_cpf, data.employee_cpf),
            ("collector", row.collector, data.collector),
        )
        if stored != sent
    ]
    if differs:
        raise ConflictError(
            f"externalId {data.external_id}: the punch stored under this key "
            f"has another {' and '.join(differs)}; {NEVER_EDITED}"
        )


def _counts(results: dict[int, ItemResult]) -> dict[str, int]:
    """What a bulk call's audit entry holds: how many of each outcome."""
    outcomes = [r.outcome for r in results.values()]
    counted = {o: outcomes.count(o) for o in ("created", "unchanged", "refused")}
    return {"received": len(outcomes), **counted}


def _afd_row(file_id: str, punch: Punch, zone: str, now: dt.datetime) -> dict[str, Any]:
    # A naive 1510 time is kept as written: its digits, flagged local.
    local = punch.timestamp.tzinfo is None
    when = punch.timestamp.replace(tzinfo=dt.UTC) if local else punch.timestamp
    return {
        "id": str(uuid.uuid4()),
        "origin": "afd",
        "source_system": AFD_SOURCE,
        "afd_file_id": file_id,
        "nsr": punch.nsr,
        "record_type": punch.record_type,
        "employee_cpf": punch.employee_cpf,
        "employee_pis": punch.employee_pis,
        "punched_at": when,
        "local_time": local,
        "local_zone": zone if local else None,
        "recorded_at": punch.recorded_at,
        "collector": punch.collector_id,
        "online": punch.online,
        "hash": punch.hash,
        "created_at": now,
    }


def _file_row(
    file_id: str,
    upload: AfdUpload,
    report: AfdReport,
    call: CallContext,
    now: dt.datetime,
) -> AfdFile:
    header = report.header
    legacy = report.layout is AfdLayout.PORTARIA_1510
    return AfdFile(
        id=file_id,
        file_name=upload.file_name,
        employer_tax_id=upload.employer_tax_id,
        layout=report.layout.value,
        layout_version=header.layout_version,
        rep_id=header.rep_id,
        period_start=header.start_date,
        period_end=header.end_date,
        local_zone=upload.local_zone if legacy else None,
        sha256=report.sha256,
        size=len(upload.content),
        line_count=report.line_count,
        content=upload.content,
        imported_at=now,
        imported_by=call.actor,
        accepted_count=len(report.punches),
        refused_count=len(report.refused),
        refused_lines=_lines_json(report.refused),
        warnings=_lines_json(report.warnings),
    )


def _insert_punches(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Insert ``rows`` a few thousand at a time, on the Core table (a year of an
    AFD is 100,000 rows: the ORM's bulk path would double the time)."""
    table = cast(Table, TimePunch.__table__)
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == _INSERT_BATCH:
            session.execute(insert(table), batch)
            batch = []
    if batch:
        session.execute(insert(table), batch)


def _read_afd(content: bytes) -> AfdReport:
    """``parse_afd``, its "not an AFD" error naming the SOAP field ``content``."""
    try:
        return parse_afd(content)
    except ValidationError as exc:
        raise ValidationError("content", exc.rule) from exc


def _by_time(query: Select[Any], cursor: Cursor | None, size: int) -> Select[Any]:
    """``query`` in ``(punched_at, id)`` order, after ``cursor``, one extra row.

    The shared ``keyset`` orders by ``updated_at``; punches page by their time.
    """
    if cursor is not None:
        moment = cursor.updated_at  # the cursor's instant is a punch time here
        query = query.where(
            or_(
                TimePunch.punched_at > moment,
                and_(TimePunch.punched_at == moment, TimePunch.id > cursor.id),
            )
        )
    return query.order_by(TimePunch.punched_at, TimePunch.id).limit(size + 1)


def _next_by_time(rows: list[TimePunch], size: int) -> str | None:
    if len(rows) <= size:
        return None
    del rows[size:]
    return encode_cursor(Cursor(rows[-1].punched_at, rows[-1].id))


class PunchService:
    """Each method is one transaction with its audit entry."""

    def __init__(
        self,
        db: Database,
        audit: AuditSink,
        clock: Clock,
        local_zone: str = DEFAULT_LOCAL_ZONE,
    ) -> None:
        """``local_zone`` is noted on Portaria 1510 punches when the caller
        names no zone for the file."""
        self._db = db
        self._audit = audit
        self._clock = clock
        self.local_zone = local_zone

    # Punches sent by an HR system

    def upsert_many(
        self,
        call: CallContext,
        items: Sequence[Any],
        validate: Callable[[Any], PunchInput],
    ) -> list[ItemResult]:
        """Add up to 10,000 punches; a key sent again with the same punch is
        ``unchanged``, with another punch it is refused for that item."""
        check_bulk_size(items, "punches")
        good, results = validate_all(items, validate, _key)
        with self._db.transaction() as session:
            existing = find_by_keys(session, TimePunch, (_key(d) for _, d in good))
            now = self._clock()
            rows: list[dict[str, Any]] = []

            def apply(data: PunchInput) -> tuple[str, str]:
                row = existing.get(_key(data))
                if row is not None:
                    _check_same_punch(row, data)
                    return row.id, "unchanged"
                rows.append(_api_row(data, now))
                return rows[-1]["id"], "created"

            apply_bulk(good, results, lambda d: d.external_id, apply)
            _insert_punches(session, rows)
            self._record(session, call, "time_punch", None, _counts(results))
        return [results[i] for i in range(len(items))]

    def get(
        self,
        call: CallContext,
        *,
        punch_id: str | None = None,
        key: tuple[str, str] | None = None,
    ) -> PunchView:
        with self._db.transaction() as session:
            row = self._find(session, punch_id, key)
            self._record(session, call, "time_punch", row.id, {})
            return punch_view(row)

    def delete(
        self,
        call: CallContext,
        *,
        punch_id: str | None = None,
        key: tuple[str, str] | None = None,
    ) -> PunchView:
        """Always refused: a punch is evidence (the fault is audited by the caller)."""
        named = punch_id or (f"{key[0]}/{key[1]}" if key else "")
        raise ConflictError(f"time-clock punch {named}: {NEVER_DELETED}")

    def query(
        self,
        call: CallContext,
        where: PunchFilter,
        cursor: Cursor | None,
        size: int,
    ) -> tuple[list[PunchView], str | None]:
        """One page in ``(punched_at, id)`` order, and the cursor of the next."""
        query = select(TimePunch)
        for column, value in (
            (TimePunch.employee_cpf, where.employee_cpf),
            (TimePunch.employee_pis, where.employee_pis),
            (TimePunch.afd_file_id, where.afd_file_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if where.punched_from is not None:
            query = query.where(TimePunch.punched_at >= where.punched_from)
        if where.punched_to is not None:
            query = query.where(TimePunch.punched_at < where.punched_to)
        if where.modified_since is not None:
            query = query.where(TimePunch.created_at >= where.modified_since)
        with self._db.transaction() as session:
            rows = list(session.scalars(_by_time(query, cursor, size)))
            following = _next_by_time(rows, size)
            self._record(session, call, "time_punch", None, {"returned": len(rows)})
            return [punch_view(r) for r in rows], following

    # AFD files

    def import_afd(
        self, call: CallContext, upload: AfdUpload
    ) -> tuple[AfdFileView, str]:
        """Store the file byte-exact and its accepted punches, in one transaction.

        Returns the file and ``created``, or the first import of the same bytes
        and ``unchanged`` (nothing is inserted). Raises ``ValidationError`` on
        ``content`` when the bytes are not an AFD, and on ``employerTaxId`` when
        the header names another employer.
        """
        report = _read_afd(upload.content)
        check_employer(report.header, upload.employer_tax_id)
        try:
            view, outcome = self._store(call, upload, report)
        except IntegrityError:
            # The same bytes committed by a concurrent call since the lookup?
            first = self._first_import(call, report.sha256)
            if first is None:
                raise
            view, outcome = first, "unchanged"
        log.info(
            "afd import file=%s sha256=%s layout=%s accepted=%d refused=%d "
            "outcome=%s cid=%s",
            view.id,
            view.sha256,
            view.layout,
            view.accepted_count,
            view.refused_count,
            outcome,
            call.correlation_id,
        )
        return view, outcome

    def _store(
        self, call: CallContext, upload: AfdUpload, report: AfdReport
    ) -> tuple[AfdFileView, str]:
        with self._db.transaction() as session:
            first = self._by_sha256(session, report.sha256)
            if first is not None:
                self._record_import(session, call, first, "unchanged")
                return afd_view(first), "unchanged"
            now, file_id = self._clock(), str(uuid.uuid4())
            row = _file_row(file_id, upload, report, call, now)
            session.add(row)
            session.flush()
            _insert_punches(
                session,
                (_afd_row(file_id, p, upload.local_zone, now) for p in report.punches),
            )
            self._record_import(session, call, row, "created")
            return afd_view(row), "created"

    def _first_import(self, call: CallContext, sha256: str) -> AfdFileView | None:
        with self._db.transaction() as session:
            first = self._by_sha256(session, sha256)
            if first is None:
                return None
            self._record_import(session, call, first, "unchanged")
            return afd_view(first)

    def get_afd(
        self,
        call: CallContext,
        *,
        file_id: str | None = None,
        sha256: str | None = None,
        include_content: bool = False,
    ) -> AfdFileView:
        """An imported file by id or SHA-256, with its bytes when asked."""
        with self._db.transaction() as session:
            if file_id:
                row = session.get(
                    AfdFile, file_id, options=self._content(include_content)
                )
                described = f"id {file_id}"
            elif sha256:
                row = self._by_sha256(session, sha256.lower(), include_content)
                described = f"sha256 {sha256}"
            else:
                raise ValidationError("id", "give id or sha256")
            if row is None:
                raise NotFoundError("id", "AFD file", described)
            detail = {"sha256": row.sha256, "includeContent": include_content}
            self._record(session, call, "afd_file", row.id, detail)
            return afd_view(row, with_content=include_content)

    # Shared steps

    @staticmethod
    def _content(include: bool) -> list[Any]:
        return [undefer(AfdFile.content)] if include else []

    def _by_sha256(
        self, session: Session, sha256: str, include_content: bool = False
    ) -> AfdFile | None:
        query = select(AfdFile).where(AfdFile.sha256 == sha256)
        return session.scalars(query.options(*self._content(include_content))).first()

    def _find(
        self, session: Session, punch_id: str | None, key: tuple[str, str] | None
    ) -> TimePunch:
        row: TimePunch = find_record(
            session, TimePunch, "time-clock punch", punch_id, key
        )
        return row

    def _record_import(
        self, session: Session, call: CallContext, row: AfdFile, outcome: str
    ) -> None:
        detail = {
            "result": outcome,
            "sha256": row.sha256,
            "layout": row.layout,
            "size": row.size,
            "accepted": row.accepted_count,
            "refused": row.refused_count,
        }
        self._record(session, call, "afd_file", row.id, detail)

    def _record(
        self,
        session: Session,
        call: CallContext,
        record_type: str,
        record_id: str | None,
        detail: dict[str, Any],
    ) -> None:
        entry = call.audit_record(
            "ok", record_type=record_type, record_id=record_id, detail=detail
        )
        self._audit.record(session, entry)
