"""The access-control flags of people (``adapter.app.access``).

One row per reason a person is flagged: the person (a party, with the CPF the
gate was sent), the purpose, the lawsuit or contract that justifies it and the
last day it is valid. The person is flagged while one of their rows is open
(not ended, still valid); ``announced_event_id`` names the ``person.flagged``
event that made a row the one the gate holds. An ended row keeps when and why
it ended, and loses the CPF: the reason is gone, and so is the need for it.

``justification_id`` names a lawsuit or a contract, so it carries no foreign
key (those tables live on other migration branches).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from adapter.storage.models import Base, UtcDateTime


class AccessFlag(Base):
    __tablename__ = "access_flags"
    __table_args__ = (
        Index("ix_access_flags_justification", "justification", "justification_id"),
        Index("ix_access_flags_open", "cpf", "ended_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    cpf: Mapped[str | None] = mapped_column(String(11))  # None once ended
    purpose: Mapped[str] = mapped_column(String(30))
    justification: Mapped[str] = mapped_column(String(20))  # lawsuit, contract
    justification_id: Mapped[str] = mapped_column(String(36))
    valid_until: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    announced_event_id: Mapped[str | None] = mapped_column(String(36))
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    ended_event_id: Mapped[str | None] = mapped_column(String(36))
