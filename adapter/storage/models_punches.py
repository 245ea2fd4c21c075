"""Tables of time-clock punches and of the AFD files they were read from.

Both tables only grow: Ponte never updates or deletes a row of either, since a
punch and its file are evidence. An AFD is kept byte-exact with its SHA-256.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from adapter.storage.models import Base, UtcDateTime


class AfdFile(Base):
    """An imported AFD: its bytes as received, its header and the refusal report.

    ``refused_lines`` and ``warnings`` are JSON lists of objects with
    ``lineNumber``, ``nsr`` and ``reason`` (reasons never hold a CPF or PIS).
    """

    __tablename__ = "afd_files"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(200))
    employer_tax_id: Mapped[str] = mapped_column(String(14), index=True)
    layout: Mapped[str] = mapped_column(String(4))  # "671" or "1510"
    layout_version: Mapped[str | None] = mapped_column(String(3))
    rep_id: Mapped[str] = mapped_column(String(17))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    local_zone: Mapped[str | None] = mapped_column(String(64))  # 1510 files only
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    line_count: Mapped[int] = mapped_column(Integer)
    # Deferred: listing or reading metadata never loads the file itself.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    imported_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    imported_by: Mapped[str] = mapped_column(String(80))
    accepted_count: Mapped[int] = mapped_column(Integer)
    refused_count: Mapped[int] = mapped_column(Integer)
    refused_lines: Mapped[str] = mapped_column(Text)
    warnings: Mapped[str] = mapped_column(Text)


class TimePunch(Base):
    """One punch, read from an AFD (``origin`` afd) or sent by an HR system (api).

    An AFD punch is keyed by its file and NSR and has no ``external_id``; an api
    punch is keyed by ``source_system`` + ``external_id``. ``punched_at`` is UTC,
    except where ``local_time`` is set (Portaria 1510 files, which carry no
    offset): there it holds the wall-clock time as written, in ``local_zone``.
    """

    __tablename__ = "time_punches"
    __table_args__ = (
        UniqueConstraint("afd_file_id", "nsr"),
        UniqueConstraint("source_system", "external_id"),
        CheckConstraint(
            "(origin = 'afd' AND afd_file_id IS NOT NULL AND nsr IS NOT NULL)"
            " OR (origin = 'api' AND external_id IS NOT NULL)",
            name="ck_time_punches_origin",
        ),
        CheckConstraint(
            "employee_cpf IS NOT NULL OR employee_pis IS NOT NULL",
            name="ck_time_punches_employee",
        ),
        Index("ix_time_punches_cpf_time", "employee_cpf", "punched_at", "id"),
        Index("ix_time_punches_pis_time", "employee_pis", "punched_at", "id"),
        Index("ix_time_punches_file_time", "afd_file_id", "punched_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    origin: Mapped[str] = mapped_column(String(3))
    source_system: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(80))
    afd_file_id: Mapped[str | None] = mapped_column(ForeignKey("afd_files.id"))
    nsr: Mapped[int | None] = mapped_column(Integer)
    record_type: Mapped[int | None] = mapped_column(Integer)  # AFD type 3 or 7
    employee_cpf: Mapped[str | None] = mapped_column(String(11))
    employee_pis: Mapped[str | None] = mapped_column(String(11))
    punched_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    local_time: Mapped[bool] = mapped_column(Boolean, default=False)
    local_zone: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # type 7
    collector: Mapped[str | None] = mapped_column(String(40))
    online: Mapped[bool | None] = mapped_column(Boolean)  # type 7
    hash: Mapped[str | None] = mapped_column(String(64))  # type 7, as written
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
