"""What the provision use cases take and give, and how they read the history.

The views and inputs of ``adapter.app.provisions``, and its reads: the latest
live provision of a lawsuit, the ``ProvisionBook`` a bulk call keeps current,
the listing a query pages through (live provisions, and deleted ones when
asked) and the stored movements grouped by provision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, func, select, type_coerce, union_all
from sqlalchemy.orm import Session

from adapter.app.records import find_by_keys
from adapter.domain.provisions import Classification, ProvisionInput
from adapter.errors import ConflictError, NotFoundError
from adapter.storage.models import Lawsuit, Provision, UtcDateTime
from adapter.storage.models_provisions import DeletedProvision, ProvisionMovement

Key = tuple[str, str]


# Inputs and views


@dataclass(frozen=True)
class LawsuitRef:
    """How a call names a lawsuit: by Ponte's id, or by the ERP's key."""

    id: str | None = None
    key: Key | None = None

    @property
    def field(self) -> str:
        """The SOAP field a fault about this reference names."""
        return "lawsuitId" if self.id else "lawsuitExternalId"

    def describe(self) -> str:
        if self.id:
            return f"id {self.id}"
        assert self.key is not None
        return f"sourceSystem {self.key[0]} and externalId {self.key[1]}"


@dataclass(frozen=True)
class ProvisionData:
    """A validated provision, the ERP's key for it and the lawsuit it names.

    ``figure.lawsuit_id`` holds what the caller gave; the service replaces it
    with the id of the lawsuit it finds.
    """

    source_system: str
    external_id: str
    lawsuit: LawsuitRef
    figure: ProvisionInput


@dataclass(frozen=True)
class ProvisionView:
    id: str
    source_system: str
    external_id: str
    lawsuit_id: str
    reporting_date: dt.date
    classification: str
    amount: Decimal
    currency: str
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None


STORED = tuple(n for n in ProvisionView.__dataclass_fields__ if n != "deleted_at")


def provision_view(row: Provision | DeletedProvision) -> ProvisionView:
    return ProvisionView(
        **{name: getattr(row, name) for name in STORED},
        deleted_at=getattr(row, "deleted_at", None),
    )


@dataclass(frozen=True)
class MovementView:
    """A stored movement; ``cause`` says which change implied it."""

    kind: str
    amount: Decimal
    currency: str
    debit: str | None
    credit: str | None
    cause: str
    recorded_at: dt.datetime


def movement_view(m: ProvisionMovement) -> MovementView:
    return MovementView(
        m.kind, m.amount, m.currency, m.debit, m.credit, m.cause, m.recorded_at
    )


@dataclass(frozen=True)
class HistoryEntry:
    provision: ProvisionView
    movements: tuple[MovementView, ...]


@dataclass(frozen=True)
class ProvisionFilter:
    lawsuit_id: str | None = None
    classification: Classification | None = None
    reported_from: dt.date | None = None
    reported_to: dt.date | None = None
    modified_since: dt.datetime | None = None
    include_deleted: bool = False


def provision_key(data: ProvisionData) -> Key:
    return data.source_system, data.external_id


# Reading the stored history


def latest_provision(session: Session, lawsuit_id: str) -> Provision | None:
    """The lawsuit's live provision with the latest reporting date."""
    query = (
        select(Provision)
        .where(Provision.lawsuit_id == lawsuit_id)
        .order_by(Provision.reporting_date.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def latest_of(session: Session, lawsuit_ids: Sequence[str]) -> dict[str, Provision]:
    """The latest live provision of each lawsuit, 500 lawsuits at a time."""
    found: dict[str, Provision] = {}
    for start in range(0, len(lawsuit_ids), 500):
        chunk = lawsuit_ids[start : start + 500]
        newest = (
            select(Provision.lawsuit_id, func.max(Provision.reporting_date).label("d"))
            .where(Provision.lawsuit_id.in_(chunk))
            .group_by(Provision.lawsuit_id)
            .subquery()
        )
        query = select(Provision).join(
            newest,
            and_(
                Provision.lawsuit_id == newest.c.lawsuit_id,
                Provision.reporting_date == newest.c.d,
            ),
        )
        found.update((row.lawsuit_id, row) for row in session.scalars(query))
    return found


def previous_provision(session: Session, row: Provision) -> Provision | None:
    """The live provision reported just before ``row``."""
    query = (
        select(Provision)
        .where(
            Provision.lawsuit_id == row.lawsuit_id,
            Provision.reporting_date < row.reporting_date,
        )
        .order_by(Provision.reporting_date.desc())
        .limit(1)
    )
    return session.scalars(query).first()


class ProvisionBook:
    """What one transaction knows of the lawsuits and provisions it touches.

    Loaded once for a whole bulk call, and kept current as items apply, so
    that a later item sees the provisions an earlier one added.
    """

    def __init__(self, session: Session, items: Sequence[ProvisionData]) -> None:
        keys = [provision_key(d) for d in items]
        self.live: dict[Key, Provision] = find_by_keys(session, Provision, keys)
        self.deleted: dict[Key, DeletedProvision] = find_by_keys(
            session, DeletedProvision, keys
        )
        self._by_id = self._lawsuits_by_id(session, [d.lawsuit for d in items])
        self._by_key: dict[Key, Lawsuit] = find_by_keys(
            session, Lawsuit, [d.lawsuit.key for d in items if d.lawsuit.key]
        )
        lawsuit_ids = sorted({row.id for row in self._lawsuits()})
        self._latest: dict[str, Provision] = latest_of(session, lawsuit_ids)

    @staticmethod
    def _lawsuits_by_id(
        session: Session, refs: Iterable[LawsuitRef]
    ) -> dict[str, Lawsuit]:
        wanted = sorted({r.id for r in refs if r.id})
        found: dict[str, Lawsuit] = {}
        for start in range(0, len(wanted), 500):
            query = select(Lawsuit).where(Lawsuit.id.in_(wanted[start : start + 500]))
            found.update((row.id, row) for row in session.scalars(query))
        return found

    def _lawsuits(self) -> list[Lawsuit]:
        return [*self._by_id.values(), *self._by_key.values()]

    def lawsuit(self, ref: LawsuitRef) -> Lawsuit:
        """The live lawsuit ``ref`` names; ``NotFoundError`` or ``ConflictError``."""
        row = None
        if ref.id:
            row = self._by_id.get(ref.id)
        elif ref.key:
            row = self._by_key.get(ref.key)
        if row is None:
            raise NotFoundError(ref.field, "lawsuit", ref.describe())
        if row.deleted_at is not None:
            raise ConflictError(
                f"lawsuit {row.id} is deleted; no provision can be recorded for it"
            )
        return row

    def latest(self, lawsuit_id: str) -> Provision | None:
        return self._latest.get(lawsuit_id)

    def added(self, key: Key, row: Provision) -> None:
        self.live[key] = row
        self.deleted.pop(key, None)
        self._latest[row.lawsuit_id] = row


# Paging and movements


def _columns(model: type[Provision] | type[DeletedProvision]) -> list[Any]:
    return [getattr(model, name).label(name) for name in STORED]


def listing(include_deleted: bool) -> Any:
    """The provisions a query pages through, as one subquery."""
    live = select(
        *_columns(Provision), type_coerce(None, UtcDateTime).label("deleted_at")
    )
    if not include_deleted:
        return live.subquery("listing")
    deleted = select(*_columns(DeletedProvision), DeletedProvision.deleted_at)
    return union_all(live, deleted).subquery("listing")


def filtered(query: Select[Any], c: Any, where: ProvisionFilter) -> Select[Any]:
    if where.lawsuit_id is not None:
        query = query.where(c.lawsuit_id == where.lawsuit_id)
    if where.classification is not None:
        query = query.where(c.classification == where.classification.value)
    if where.reported_from is not None:
        query = query.where(c.reporting_date >= where.reported_from)
    if where.reported_to is not None:
        query = query.where(c.reporting_date <= where.reported_to)
    if where.modified_since is not None:
        query = query.where(c.updated_at >= where.modified_since)
    return query


def movements_by_provision(
    session: Session, lawsuit_id: str
) -> dict[str, list[MovementView]]:
    query = (
        select(ProvisionMovement)
        .where(ProvisionMovement.lawsuit_id == lawsuit_id)
        .order_by(ProvisionMovement.id)
    )
    grouped: dict[str, list[MovementView]] = {}
    for m in session.scalars(query):
        grouped.setdefault(m.provision_id, []).append(movement_view(m))
    return grouped
