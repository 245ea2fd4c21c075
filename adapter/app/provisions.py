"""Provisions: upsert one or many, read, delete the latest, page, and history.

A lawsuit's provisions are its history, one per reporting date, and that
history is not rewritten:

- a new reporting date must come after the lawsuit's latest one;
- only the latest reporting date may get a new figure (a revision) or be
  deleted; its reporting date and lawsuit never change.

Every change stores the ledger movements it implies (CPC 25, see
``adapter.domain.provisions``) in ``provision_movements`` and puts them, with
the figures before and after, in a ``provision.changed`` event in the outbox,
in the same transaction (``adapter.domain.events_lawsuits``). A
deleted provision moves to ``deleted_provisions`` (see
``adapter.storage.models_provisions``), so the live history that the lawsuit's
open-provision check reads never holds it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.app.context import CallContext
from adapter.app.provision_records import (
    STORED,
    HistoryEntry,
    Key,
    LawsuitRef,
    MovementView,
    ProvisionBook,
    ProvisionData,
    ProvisionFilter,
    ProvisionView,
    filtered,
    latest_provision,
    listing,
    movement_view,
    movements_by_provision,
    previous_provision,
    provision_key,
    provision_view,
)
from adapter.app.records import (
    ItemResult,
    apply_bulk,
    apply_fields,
    check_bulk_size,
    find_by_keys,
    new_row,
    validate_all,
)
from adapter.audit.writer import AuditRecord, AuditSink
from adapter.delivery.outbox import Outbox
from adapter.domain.events_lawsuits import ProvisionChange, provision_changed
from adapter.domain.provisions import (
    Classification,
    Movement,
    ProvisionInput,
    ProvisionSnapshot,
    movements,
    revision_movements,
    snapshot_of,
    withdrawal_movements,
)
from adapter.errors import ConflictError, NotFoundError
from adapter.storage.db import Database
from adapter.storage.models import Lawsuit, Provision
from adapter.storage.models_provisions import DeletedProvision, ProvisionMovement
from adapter.storage.paging import Cursor, keyset, next_cursor

Clock = Callable[[], dt.datetime]


def _snapshot(row: Provision) -> ProvisionSnapshot:
    return ProvisionSnapshot(
        row.reporting_date, Classification(row.classification), row.amount
    )


def _values(figure: ProvisionInput) -> dict[str, Any]:
    return {
        "lawsuit_id": figure.lawsuit_id,
        "reporting_date": figure.reporting_date,
        "classification": figure.classification.value,
        "amount": figure.amount,
        "currency": figure.currency,
    }


def _same_figure(row: Provision, figure: ProvisionInput) -> bool:
    return (row.classification, row.amount, row.currency) == (
        figure.classification.value,
        figure.amount,
        figure.currency,
    )


def _change(
    row: Provision,
    lawsuit_number: str | None,
    cause: str,
    before: ProvisionSnapshot | None,
    after: ProvisionSnapshot | None,
    moves: Sequence[Movement],
) -> ProvisionChange:
    """What ``provision.changed`` says of one change of ``row``."""
    return ProvisionChange(
        provision_id=row.id,
        source_system=row.source_system,
        external_id=row.external_id,
        lawsuit_id=row.lawsuit_id,
        lawsuit_number=lawsuit_number,
        cause=cause,
        currency=row.currency,
        before=before,
        after=after,
        movements=tuple(moves),
    )


def _summary(moves: Sequence[Movement]) -> list[str]:
    """Movements as the audit entry shows them: ``increase 250.50``."""
    return [f"{m.kind.value} {m.amount}" for m in moves]


# The rules of the history


def _check_identity(
    row: Provision | DeletedProvision, key: Key, figure: ProvisionInput
) -> None:
    """A provision's key names one lawsuit for good."""
    if row.lawsuit_id != figure.lawsuit_id:
        raise ConflictError(
            f"provision {key[0]}/{key[1]} belongs to lawsuit {row.lawsuit_id}, "
            f"not to lawsuit {figure.lawsuit_id}"
        )


def _check_revision(row: Provision, latest: Provision | None, key: Key) -> None:
    """Only the latest reporting date of a lawsuit takes a new figure."""
    if latest is not None and latest.id != row.id:
        raise ConflictError(
            f"provision {key[0]}/{key[1]} for {row.reporting_date.isoformat()} is "
            f"not the latest of lawsuit {row.lawsuit_id} (that is "
            f"{latest.reporting_date.isoformat()}); history is not rewritten"
        )


def _check_date_kept(row: Provision, key: Key, figure: ProvisionInput) -> None:
    if row.reporting_date != figure.reporting_date:
        raise ConflictError(
            f"provision {key[0]}/{key[1]} is for "
            f"{row.reporting_date.isoformat()}; its reportingDate cannot change"
        )


def _check_follows(latest: Provision | None, figure: ProvisionInput) -> None:
    """A new reporting date comes after the lawsuit's latest one."""
    if latest is None or figure.reporting_date > latest.reporting_date:
        return
    when = figure.reporting_date.isoformat()
    if figure.reporting_date == latest.reporting_date:
        raise ConflictError(
            f"lawsuit {latest.lawsuit_id} already has provision "
            f"{latest.source_system}/{latest.external_id} for {when}; "
            "upsert that key to change the figure"
        )
    raise ConflictError(
        f"reportingDate {when} is before the latest provision of lawsuit "
        f"{latest.lawsuit_id} ({latest.reporting_date.isoformat()}); "
        "history is not rewritten"
    )


def _check_deletable(row: Provision, latest: Provision | None) -> None:
    if latest is not None and latest.id != row.id:
        raise ConflictError(
            f"provision {row.id} for {row.reporting_date.isoformat()} is not the "
            f"latest of lawsuit {row.lawsuit_id} (that is "
            f"{latest.reporting_date.isoformat()}); history is not rewritten"
        )


# The service


@dataclass(frozen=True)
class _Change:
    row: Provision
    outcome: str  # created, updated, unchanged
    moves: tuple[MovementView, ...]
    entry: AuditRecord | None


class ProvisionService:
    """Each method is one transaction with its audit entries, movements and events.

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

    def upsert(
        self, call: CallContext, data: ProvisionData
    ) -> tuple[ProvisionView, str, tuple[MovementView, ...]]:
        """Record one provision; return it, the outcome and the movements made."""
        with self._db.transaction() as session:
            change = self._upsert_one(
                session, call, data, ProvisionBook(session, [data])
            )
            if change.entry is not None:
                self._audit.record(session, change.entry)
            return provision_view(change.row), change.outcome, change.moves

    def upsert_many(
        self,
        call: CallContext,
        items: Sequence[Any],
        validate: Callable[[Any], ProvisionData],
    ) -> list[ItemResult]:
        """Upsert up to 10,000 provisions; one bad item does not stop the others.

        Items apply in reporting-date order, so a lawsuit's history may be
        sent in any order within one call; results keep the order sent.
        """
        check_bulk_size(items, "provisions")
        good, results = validate_all(items, validate, provision_key)
        good.sort(key=lambda pair: pair[1].figure.reporting_date)
        entries: list[AuditRecord] = []
        with self._db.transaction() as session:
            book = ProvisionBook(session, [d for _, d in good])

            def apply(data: ProvisionData) -> tuple[str, str]:
                change = self._upsert_one(session, call, data, book)
                if change.entry is not None:
                    entries.append(change.entry)
                return change.row.id, change.outcome

            apply_bulk(good, results, lambda d: d.external_id, apply)
            self._audit.record_many(session, entries)
        return [results[i] for i in range(len(items))]

    def _upsert_one(
        self,
        session: Session,
        call: CallContext,
        data: ProvisionData,
        book: ProvisionBook,
    ) -> _Change:
        """Apply one provision; every rule is checked before anything changes."""
        lawsuit = book.lawsuit(data.lawsuit)
        figure = dataclasses.replace(data.figure, lawsuit_id=lawsuit.id)
        key = provision_key(data)
        live = book.live.get(key)
        if live is not None:
            return self._revise(session, call, book, live, figure, lawsuit)
        return self._report(session, call, book, key, figure, lawsuit)

    def _revise(
        self,
        session: Session,
        call: CallContext,
        book: ProvisionBook,
        row: Provision,
        figure: ProvisionInput,
        lawsuit: Lawsuit,
    ) -> _Change:
        """A new figure for a stored reporting date: only the difference moves."""
        key = (row.source_system, row.external_id)
        _check_identity(row, key, figure)
        _check_date_kept(row, key, figure)
        if _same_figure(row, figure):
            return _Change(row, "unchanged", (), None)
        _check_revision(row, book.latest(row.lawsuit_id), key)
        before = _snapshot(row)
        moves = tuple(revision_movements(before, figure))

        now = self._clock()
        changes = apply_fields(row, _values(figure))
        row.updated_at = now
        stored = self._store(session, call, row, "revision", moves, now)
        detail = {"result": "updated", **changes, "movements": _summary(moves)}
        after = snapshot_of(figure)
        change = _change(row, lawsuit.cnj_number, "revision", before, after, moves)
        self._emit(session, change, now, detail)
        return _Change(row, "updated", stored, self._entry(call, row.id, detail))

    def _report(
        self,
        session: Session,
        call: CallContext,
        book: ProvisionBook,
        key: Key,
        figure: ProvisionInput,
        lawsuit: Lawsuit,
    ) -> _Change:
        """A new reporting date (or a deleted provision's key coming back)."""
        gone = book.deleted.get(key)
        if gone is not None:
            _check_identity(gone, key, figure)
        latest = book.latest(figure.lawsuit_id)
        _check_follows(latest, figure)
        before = None if latest is None else _snapshot(latest)
        moves = tuple(movements(before, figure))

        now = self._clock()
        row: Provision = new_row(Provision, key, now)
        if gone is not None:  # the same provision, restored under its id
            row.id, row.created_at = gone.id, gone.created_at
            session.delete(gone)
        changes = apply_fields(row, _values(figure))
        session.add(row)
        book.added(key, row)
        stored = self._store(session, call, row, "reporting", moves, now)
        result = "created" if gone is None else "restored"
        detail = {"result": result, **changes, "movements": _summary(moves)}
        after = snapshot_of(figure)
        change = _change(row, lawsuit.cnj_number, "reporting", before, after, moves)
        self._emit(session, change, now, detail)
        outcome = "created" if gone is None else "updated"
        return _Change(row, outcome, stored, self._entry(call, row.id, detail))

    def _emit(
        self,
        session: Session,
        change: ProvisionChange,
        now: dt.datetime,
        detail: dict[str, Any],
    ) -> None:
        """Put ``provision.changed`` in the outbox and name it in ``detail``."""
        event = provision_changed(change, now)
        targets = self._outbox.enqueue(session, event)
        detail["event"], detail["targets"] = event.id, list(targets)

    def _store(
        self,
        session: Session,
        call: CallContext,
        row: Provision,
        cause: str,
        moves: Sequence[Movement],
        now: dt.datetime,
    ) -> tuple[MovementView, ...]:
        """Keep the movements of one change, in order, until they are sent."""
        rows = [
            ProvisionMovement(
                provision_id=row.id,
                lawsuit_id=row.lawsuit_id,
                reporting_date=row.reporting_date,
                cause=cause,
                position=position,
                kind=move.kind.value,
                amount=move.amount,
                currency=row.currency,
                debit=None if move.debit is None else move.debit.value,
                credit=None if move.credit is None else move.credit.value,
                recorded_at=now,
                correlation_id=call.correlation_id,
            )
            for position, move in enumerate(moves)
        ]
        session.add_all(rows)
        return tuple(movement_view(m) for m in rows)

    def get(
        self,
        call: CallContext,
        *,
        provision_id: str | None = None,
        key: Key | None = None,
    ) -> ProvisionView:
        """A live or deleted provision, by id or by the ERP's key."""
        with self._db.transaction() as session:
            row = self._find_live(session, provision_id, key)
            view = provision_view(row or self._find_deleted(session, provision_id, key))
            self._audit.record(session, self._entry(call, view.id, {}))
            return view

    def delete(
        self,
        call: CallContext,
        *,
        provision_id: str | None = None,
        key: Key | None = None,
    ) -> tuple[ProvisionView, str, tuple[MovementView, ...]]:
        """Soft-delete the latest provision of its lawsuit; undo its movements.

        Returns the provision, ``deleted`` (or ``unchanged`` for a provision
        already deleted) and the movements. Refused with ``ConflictError`` for
        a provision that is not the latest of its lawsuit.
        """
        with self._db.transaction() as session:
            row = self._find_live(session, provision_id, key)
            if row is None:
                gone = self._find_deleted(session, provision_id, key)
                again = {"result": "already deleted"}
                self._audit.record(session, self._entry(call, gone.id, again))
                return provision_view(gone), "unchanged", ()
            _check_deletable(row, latest_provision(session, row.lawsuit_id))
            previous = previous_provision(session, row)
            restored = None if previous is None else _snapshot(previous)
            withdrawn = _snapshot(row)
            moves = tuple(withdrawal_movements(withdrawn, restored))

            now = self._clock()
            lawsuit = session.get(Lawsuit, row.lawsuit_id)
            number = None if lawsuit is None else lawsuit.cnj_number
            change = _change(row, number, "withdrawal", withdrawn, restored, moves)
            gone = self._archive(session, row, now)
            stored = self._store(session, call, row, "withdrawal", moves, now)
            detail = {"result": "deleted", "movements": _summary(moves)}
            self._emit(session, change, now, detail)
            self._audit.record(session, self._entry(call, gone.id, detail))
            return provision_view(gone), "deleted", stored

    @staticmethod
    def _archive(
        session: Session, row: Provision, now: dt.datetime
    ) -> DeletedProvision:
        gone = DeletedProvision(**{name: getattr(row, name) for name in STORED})
        gone.updated_at = now
        gone.deleted_at = now
        session.delete(row)
        session.add(gone)
        return gone

    def query(
        self,
        call: CallContext,
        where: ProvisionFilter,
        cursor: Cursor | None,
        size: int,
    ) -> tuple[list[ProvisionView], str | None]:
        """One page in ``(updated_at, id)`` order, and the cursor of the next."""
        source = listing(where.include_deleted)
        query = filtered(select(source), source.c, where)
        with self._db.transaction() as session:
            rows = list(session.execute(keyset(query, source.c, cursor, size)))
            following = next_cursor(rows, size)
            detail = {"returned": len(rows)}
            self._audit.record(session, self._entry(call, None, detail))
            views = [ProvisionView(**row._mapping) for row in rows]
            return views, following

    def history(
        self, call: CallContext, ref: LawsuitRef, *, include_deleted: bool = False
    ) -> tuple[str, list[HistoryEntry]]:
        """A lawsuit's provisions in reporting-date order, each with its movements.

        Returns the lawsuit id and the entries; a deleted lawsuit keeps its
        history. Deleted provisions are left out unless ``include_deleted``
        (their movements add up to nothing).
        """
        with self._db.transaction() as session:
            lawsuit = self._find_lawsuit(session, ref)
            rows = self._history_rows(session, lawsuit.id, include_deleted)
            moves = movements_by_provision(session, lawsuit.id)
            entries = [
                HistoryEntry(provision_view(row), tuple(moves.get(row.id, ())))
                for row in rows
            ]
            detail = {"returned": len(entries)}
            self._audit.record(session, self._entry(call, lawsuit.id, detail))
            return lawsuit.id, entries

    @staticmethod
    def _history_rows(
        session: Session, lawsuit_id: str, include_deleted: bool
    ) -> list[Provision | DeletedProvision]:
        rows: list[Provision | DeletedProvision] = list(
            session.scalars(select(Provision).where(Provision.lawsuit_id == lawsuit_id))
        )
        if include_deleted:
            deleted = select(DeletedProvision).where(
                DeletedProvision.lawsuit_id == lawsuit_id
            )
            rows += session.scalars(deleted)
        return sorted(rows, key=lambda r: (r.reporting_date, r.updated_at))

    @staticmethod
    def _find_lawsuit(session: Session, ref: LawsuitRef) -> Lawsuit:
        if ref.id:
            row = session.get(Lawsuit, ref.id)
        else:
            assert ref.key is not None
            row = find_by_keys(session, Lawsuit, [ref.key]).get(ref.key)
        if row is None:
            raise NotFoundError(ref.field, "lawsuit", ref.describe())
        return row

    @staticmethod
    def _find_live(
        session: Session, provision_id: str | None, key: Key | None
    ) -> Provision | None:
        if provision_id:
            return session.get(Provision, provision_id)
        assert key is not None
        return find_by_keys(session, Provision, [key]).get(key)

    @staticmethod
    def _find_deleted(
        session: Session, provision_id: str | None, key: Key | None
    ) -> DeletedProvision:
        if provision_id:
            row = session.get(DeletedProvision, provision_id)
            described = f"id {provision_id}"
        else:
            assert key is not None
            row = find_by_keys(session, DeletedProvision, [key]).get(key)
            described = f"sourceSystem {key[0]} and externalId {key[1]}"
        if row is None:
            raise NotFoundError("id", "provision", described)
        return row

    @staticmethod
    def _entry(
        call: CallContext, record_id: str | None, detail: dict[str, Any]
    ) -> AuditRecord:
        return call.audit_record(
            "ok", record_type="provision", record_id=record_id, detail=detail
        )
