"""State of the delivery engine beyond the outbox: targets an operator or the
worker switched off, resends waiting for a second operator's approval, and
what operators did to single deliveries and attempts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from adapter.storage.models import Base, UtcDateTime


class TargetState(Base):
    """What the database knows of a configured target (no row: enabled, healthy)."""

    __tablename__ = "target_states"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Start of the current run of failed attempts; None after a success.
    failing_since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    disabled_by: Mapped[str | None] = mapped_column(String(80))
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ResendRequest(Base):
    """An operator asked to resend a money movement that may already be posted.

    It goes out only once a different operator approves it.
    """

    __tablename__ = "resend_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # pending, approved, refused
    # What the requester asked for: retry, release or replay.
    action: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class DeliveryControl(Base):
    """What operators set on one delivery (no row: nothing was set)."""

    __tablename__ = "delivery_controls"

    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("deliveries.id"), primary_key=True
    )
    # Attempts made before the retry schedule last started over (release,
    # replay): the schedule counts the attempts after them.
    schedule_base: Mapped[int] = mapped_column(Integer, default=0)
    # Why the next attempt is made and who asked, until the worker takes it.
    trigger: Mapped[str | None] = mapped_column(String(20))
    triggered_by: Mapped[str | None] = mapped_column(String(80))
    resend_request_id: Mapped[str | None] = mapped_column(String(36))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class AttemptTrigger(Base):
    """An attempt an operator caused (no row: the schedule made it)."""

    __tablename__ = "attempt_triggers"

    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(20))  # retry, release, replay
    operator: Mapped[str] = mapped_column(String(80))
    # The approved resend request, when a second operator had to agree.
    resend_request_id: Mapped[str | None] = mapped_column(String(36))
