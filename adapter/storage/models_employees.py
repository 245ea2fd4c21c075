"""The employee table: the HR system's projection of each employment bond."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from adapter.storage.models import Base, UtcDateTime


class Employee(Base):
    """One employee at one employer; ``cpf`` is personal data (LGPD)."""

    __tablename__ = "employees"
    __table_args__ = (
        UniqueConstraint("source_system", "external_id"),
        Index("ix_employees_registration", "employer_tax_id", "registration_number"),
        Index("ix_employees_sync", "updated_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_system: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(80))
    cpf: Mapped[str] = mapped_column(String(11), index=True)
    registration_number: Mapped[str] = mapped_column(String(30))
    employer_tax_id: Mapped[str] = mapped_column(String(14))
    name: Mapped[str] = mapped_column(String(200))
    admission_date: Mapped[dt.date] = mapped_column(Date)
    termination_date: Mapped[dt.date | None] = mapped_column(Date)
    termination_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
