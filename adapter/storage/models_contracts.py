"""Tables of the contract family: contracts, their parties, versions, amendments.

The ``contracts`` row holds the current terms. Each version of the terms is
also kept as a ``contract_versions`` row (version 0 is the contract as signed),
and each amendment as a ``contract_amendments`` row with the old and new value
of the term it changed, so that a later event can carry both.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from adapter.storage.models import Base, UtcDateTime


class Contract(Base):
    __tablename__ = "contracts"
    __table_args__ = (
        UniqueConstraint("source_system", "external_id"),
        Index("ix_contracts_sync", "updated_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_system: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(80))
    number: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(40))
    object: Mapped[str] = mapped_column(String(1000))
    value: Mapped[Decimal] = mapped_column(Numeric(17, 2))
    currency: Mapped[str] = mapped_column(String(3))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)  # None: indeterminate
    auto_renewal: Mapped[bool] = mapped_column(Boolean)
    renewal_months: Mapped[int | None] = mapped_column(Integer)
    notice_days: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer)  # number of the last amendment
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    parties: Mapped[list[ContractParty]] = relationship(
        cascade="all, delete-orphan", order_by="ContractParty.position"
    )
    amendments: Mapped[list[ContractAmendment]] = relationship(
        cascade="all, delete-orphan", order_by="ContractAmendment.number"
    )


class ContractParty(Base):
    """A (role, taxId) pair of a contract; an upsert replaces the whole list."""

    __tablename__ = "contract_parties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))
    tax_id: Mapped[str] = mapped_column(String(14), index=True)  # CPF or CNPJ


class ContractVersion(Base):
    """The terms of one version; never changed once a later version exists."""

    __tablename__ = "contract_versions"
    __table_args__ = (UniqueConstraint("contract_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"))
    version: Mapped[int] = mapped_column(Integer)
    object: Mapped[str] = mapped_column(String(1000))
    value: Mapped[Decimal] = mapped_column(Numeric(17, 2))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    contract: Mapped[Contract] = relationship()


class ContractAmendment(Base):
    """An amendment (aditivo): the term it changed, before and after.

    Only the pair of the term the type changes is set: value for ``value``,
    end date for ``term`` and ``renewal``, object for ``scope``.
    """

    __tablename__ = "contract_amendments"
    __table_args__ = (UniqueConstraint("contract_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"))
    number: Mapped[int] = mapped_column(Integer)  # also the version it produced
    type: Mapped[str] = mapped_column(String(20))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    signed_at: Mapped[dt.date | None] = mapped_column(Date)
    old_value: Mapped[Decimal | None] = mapped_column(Numeric(17, 2))
    new_value: Mapped[Decimal | None] = mapped_column(Numeric(17, 2))
    old_end_date: Mapped[dt.date | None] = mapped_column(Date)
    new_end_date: Mapped[dt.date | None] = mapped_column(Date)
    old_object: Mapped[str | None] = mapped_column(String(1000))
    new_object: Mapped[str | None] = mapped_column(String(1000))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
