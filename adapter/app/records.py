"""What every record family shares: upsert by key, bulk, soft delete, paging."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from adapter.audit.changes import apply_changes
from adapter.audit.writer import AuditSink
from adapter.errors import NotFoundError, PonteError, ValidationError
from adapter.storage.db import Database

MAX_BULK = 10_000
Row = TypeVar("Row")
Data = TypeVar("Data")

# Fields whose values are personal data: masked in audit details.
PERSONAL = frozenset({"tax_id", "holder_tax_id", "cpf"})


@dataclass(frozen=True)
class ItemResult:
    """One item of a bulk call: accepted with its id, or refused with a fault."""

    index: int
    external_id: str | None
    outcome: str  # created, updated, unchanged, refused
    id: str | None = None
    fault_code: str | None = None
    message: str | None = None


def apply_fields(row: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Set ``values`` on ``row``; return each changed field's before and after,
    personal data masked (what the change's audit entry records)."""
    return apply_changes(row, values, PERSONAL)


def find_by_keys(
    session: Session,
    model: Any,
    keys: Iterable[tuple[str, str]],
    options: Sequence[Any] = (),
) -> dict[tuple[str, str], Any]:
    """Rows by ``(source_system, external_id)``, looked up 500 keys at a time."""
    wanted = list(dict.fromkeys(keys))
    found: dict[tuple[str, str], Any] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = (
            select(model)
            .where(tuple_(model.source_system, model.external_id).in_(chunk))
            .options(*options)
        )
        for row in session.scalars(query):
            found[(row.source_system, row.external_id)] = row
    return found


def find_record(
    session: Session,
    model: Any,
    record: str,
    record_id: str | None,
    key: tuple[str, str] | None,
    options: Sequence[Any] = (),
) -> Any:
    """The row named by Ponte's id or by the ERP's key; ``NotFoundError`` if none.

    ``record`` is the domain word for the message ("lawsuit", "party").
    """
    if record_id:
        row = session.get(model, record_id, options=options)
        described = f"id {record_id}"
    else:
        assert key is not None
        row = find_by_keys(session, model, [key], options).get(key)
        described = f"sourceSystem {key[0]} and externalId {key[1]}"
    if row is None:
        raise NotFoundError("id", record, described)
    return row


def new_row(model: Any, key: tuple[str, str], now: dt.datetime) -> Any:
    return model(
        id=str(uuid.uuid4()),
        source_system=key[0],
        external_id=key[1],
        created_at=now,
        updated_at=now,
    )


@dataclass
class Upserted(Generic[Row]):
    row: Row
    outcome: str
    changes: dict[str, Any]


def upsert_row(
    session: Session,
    model: Any,
    key: tuple[str, str],
    values: dict[str, Any],
    now: dt.datetime,
    existing: Any | None,
) -> Upserted[Any]:
    """Create or change the row keyed by ``key``; a deleted row comes back."""
    if existing is None:
        row = new_row(model, key, now)
        session.add(row)
        changes = apply_fields(row, values)
        return Upserted(row, "created", changes)
    changes = apply_fields(existing, values)
    if getattr(existing, "deleted_at", None) is not None:
        existing.deleted_at = None
        changes["deleted_at"] = None
    if changes:
        existing.updated_at = now
    return Upserted(existing, "updated" if changes else "unchanged", changes)


def check_bulk_size(items: Sequence[Any] | None, field: str) -> Sequence[Any]:
    if not items:
        raise ValidationError(field, "needs at least one item")
    if len(items) > MAX_BULK:
        raise ValidationError(
            field, f"holds {len(items)} items; the limit is {MAX_BULK}"
        )
    return items


def validate_all(
    items: Sequence[Any],
    validate: Callable[[Any], Data],
    key_of: Callable[[Data], tuple[str, str]],
) -> tuple[list[tuple[int, Data]], dict[int, ItemResult]]:
    """Validate each item; refuse the bad ones and repeated keys, keep the rest."""
    good: list[tuple[int, Data]] = []
    refused: dict[int, ItemResult] = {}
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(items):
        external_id = getattr(item, "externalId", None)
        try:
            data = validate(item)
        except PonteError as exc:
            refused[index] = ItemResult(
                index, external_id, "refused", None, exc.code, str(exc)
            )
            continue
        key = key_of(data)
        if key in seen:
            message = f"externalId: repeats item {seen[key]} of this call"
            refused[index] = ItemResult(
                index, external_id, "refused", None, "Client.Validation", message
            )
            continue
        seen[key] = index
        good.append((index, data))
    return good, refused


def apply_bulk(
    good: Sequence[tuple[int, Data]],
    results: dict[int, ItemResult],
    external_id: Callable[[Data], str],
    apply: Callable[[Data], tuple[str, str]],
) -> None:
    """Apply each validated item; a rule broken by one item refuses only it.

    ``apply`` returns ``(id, outcome)`` and raises ``PonteError`` before it
    changes anything, so no savepoint is needed per item.
    """
    for index, data in good:
        try:
            record_id, outcome = apply(data)
        except PonteError as exc:
            results[index] = ItemResult(
                index, external_id(data), "refused", None, exc.code, str(exc)
            )
            continue
        results[index] = ItemResult(index, external_id(data), outcome, record_id)


@dataclass(frozen=True)
class BulkSpec(Generic[Data]):
    """How one family's bulk upsert finds and names its records."""

    field: str  # the SOAP element holding the items, for the size fault
    model: Any
    key_of: Callable[[Data], tuple[str, str]]
    external_id_of: Callable[[Data], str]
    options: Sequence[Any] = ()


def bulk_upsert(
    db: Database,
    audit: AuditSink,
    items: Sequence[Any],
    validate: Callable[[Any], Data],
    spec: BulkSpec[Data],
    upsert_one: Callable[[Session, Data, Any | None], tuple[Upserted[Any], Any]],
) -> list[ItemResult]:
    """Upsert up to 10,000 items in one transaction, one result per item.

    Items are validated first (a bad one or a repeated key refuses only
    itself), the existing rows are read in chunks, ``upsert_one`` applies each
    and returns its audit entry (or ``None``), and the entries are written
    together at the end.
    """
    check_bulk_size(items, spec.field)
    good, results = validate_all(items, validate, spec.key_of)
    entries: list[Any] = []
    with db.transaction() as session:
        keys = (spec.key_of(d) for _, d in good)
        existing = find_by_keys(session, spec.model, keys, spec.options)

        def apply(data: Data) -> tuple[str, str]:
            done, entry = upsert_one(session, data, existing.get(spec.key_of(data)))
            if entry is not None:
                entries.append(entry)
            return done.row.id, done.outcome

        apply_bulk(good, results, spec.external_id_of, apply)
        audit.record_many(session, entries)
    return [results[i] for i in range(len(items))]
