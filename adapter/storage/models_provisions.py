"""Tables of the provision family, next to ``provisions`` (in ``models``).

A deleted provision moves, whole and with its id, from ``provisions`` to
``deleted_provisions``: what reads ``provisions`` (the open-provision check of
DeleteLawsuit, the ordering of reporting dates) sees the live history only,
and nothing is lost. ``provision_movements`` keeps the ledger movements each
change implied, until they are sent (``sent_at``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from adapter.storage.models import Base, Provision, UtcDateTime

# Keyset paging of QueryProvisions over the live rows.
Index("ix_provisions_sync", Provision.updated_at, Provision.id)


class DeletedProvision(Base):
    """A soft-deleted provision, as it was when deleted, under its own id."""

    __tablename__ = "deleted_provisions"
    __table_args__ = (
        Index("ix_deleted_provisions_key", "source_system", "external_id", unique=True),
        Index("ix_deleted_provisions_sync", "updated_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_system: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(80))
    lawsuit_id: Mapped[str] = mapped_column(ForeignKey("lawsuits.id"), index=True)
    reporting_date: Mapped[dt.date] = mapped_column(Date)
    classification: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Numeric(17, 2))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ProvisionMovement(Base):
    """One ledger movement (or disclosure) that a change of a provision implied.

    ``provision_id`` names a row of ``provisions`` or of ``deleted_provisions``,
    so it carries no foreign key. ``cause`` is ``reporting`` (a new reporting
    date), ``revision`` (a new figure for the same date) or ``withdrawal`` (the
    provision was deleted).
    """

    __tablename__ = "provision_movements"
    __table_args__ = (Index("ix_provision_movements_unsent", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provision_id: Mapped[str] = mapped_column(String(36), index=True)
    lawsuit_id: Mapped[str] = mapped_column(ForeignKey("lawsuits.id"), index=True)
    reporting_date: Mapped[dt.date] = mapped_column(Date)
    cause: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)  # order within one change
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Numeric(17, 2))
    currency: Mapped[str] = mapped_column(String(3))
    debit: Mapped[str | None] = mapped_column(String(30))  # None for a disclosure
    credit: Mapped[str | None] = mapped_column(String(30))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    correlation_id: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
