"""What operators do to targets and deliveries.

``ponte targets`` and ``ponte deliveries`` are a thin layer over these
functions. Each change is written in the caller's transaction together with
its audit entry (channel ``cli``, the operator as actor); a refusal raises
``ConflictError`` or ``NotFoundError`` and changes nothing.

Sending again:

- ``retry``: one attempt now, on the schedule where the delivery stands (a
  delivery that used its retries up parks again if that attempt fails).
- ``release``: a parked delivery goes back to pending, now, with the retry
  schedule started over.
- ``replay``: the delivered and parked deliveries of one target created since
  a moment go back to pending, schedule started over. A replay sends the
  same message (same message id): a receiver that remembers the id answers
  as before and posts nothing twice; one that lost it (a restored ERP) gets
  it again. It is not a new event.

Four eyes on money: resending a payment order's event that may already be
posted (it was delivered, or an earlier attempt was uncertain or cut short)
creates a pending ``ResendRequest`` instead; it goes out only when another
operator approves it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapter.audit.writer import AuditRecord, AuditSink
from adapter.config import Settings, TargetSettings
from adapter.delivery.health import state_of
from adapter.errors import ConflictError, NotFoundError
from adapter.storage.models import Attempt, Delivery
from adapter.storage.models_delivery import (
    AttemptTrigger,
    DeliveryControl,
    ResendRequest,
    TargetState,
)

MONEY_EVENTS = "payment_order."
RESENDABLE = ("pending", "parked", "delivered")


@dataclass(frozen=True)
class Actor:
    """Who acts, where the audit entries go, and the time of the action."""

    name: str
    audit: AuditSink
    now: dt.datetime


@dataclass(frozen=True)
class TargetSummary:
    name: str
    kind: str
    configured: bool
    state: TargetState | None
    counts: Counter[str]

    @property
    def enabled(self) -> bool:
        return self.state is None or self.state.enabled


@dataclass(frozen=True)
class Resend:
    """What a retry, release or replay did to one delivery."""

    delivery_id: str
    done: str  # queued, approval_requested, skipped
    note: str = ""
    request_id: str | None = None


@dataclass(frozen=True)
class DeliveryDetail:
    delivery: Delivery
    attempts: Sequence[Attempt]
    triggers: dict[int, AttemptTrigger]
    requests: Sequence[ResendRequest]
    schedule_base: int = 0


# Targets


def target_summaries(session: Session, settings: Settings) -> list[TargetSummary]:
    """Configured targets, then those the database knows but the file lost."""
    counts: dict[str, Counter[str]] = {}
    rows = session.execute(
        select(Delivery.target, Delivery.status, func.count()).group_by(
            Delivery.target, Delivery.status
        )
    ).all()
    for name, status, count in rows:
        counts.setdefault(name, Counter())[status] = count
    states = {s.name: s for s in session.scalars(select(TargetState)).all()}
    summaries = [
        TargetSummary(
            t.name, t.kind, True, states.get(t.name), counts.get(t.name, Counter())
        )
        for t in settings.targets
    ]
    configured = {t.name for t in settings.targets}
    for name in sorted((set(counts) | set(states)) - configured):
        summaries.append(
            TargetSummary(
                name, "-", False, states.get(name), counts.get(name, Counter())
            )
        )
    return summaries


def set_enabled(
    session: Session,
    settings: Settings,
    actor: Actor,
    name: str,
    enabled: bool,
    reason: str | None = None,
) -> TargetState:
    """Enable or disable target ``name``; enabling also clears its failure clock."""
    target = _target(settings, name)
    state = state_of(session, target.name, actor.now)
    if state.enabled == enabled:
        word = "enabled" if enabled else "disabled"
        raise ConflictError(f"target {name} is already {word}")
    before = {
        "disabled_by": state.disabled_by,
        "disabled_reason": state.disabled_reason,
        "failing_since": _iso(state.failing_since),
    }
    state.enabled = enabled
    state.updated_at = actor.now
    if enabled:
        state.failing_since = None
        state.disabled_at = state.disabled_by = state.disabled_reason = None
    else:
        state.disabled_at = actor.now
        state.disabled_by = actor.name
        state.disabled_reason = reason
    _audit(
        session,
        actor,
        "targets.enable" if enabled else "targets.disable",
        "ok",
        "target",
        name,
        detail={"reason": reason, **(before if enabled else {})},
    )
    return state


# Deliveries


def get_delivery(session: Session, delivery_id: str) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFoundError("delivery", "delivery", f"id {delivery_id}")
    return delivery


def delivery_detail(session: Session, delivery_id: str) -> DeliveryDetail:
    delivery = get_delivery(session, delivery_id)
    attempts = session.scalars(
        select(Attempt)
        .where(Attempt.delivery_id == delivery_id)
        .order_by(Attempt.number)
    ).all()
    ids = [a.id for a in attempts]
    triggers = {
        t.attempt_id: t
        for t in session.scalars(
            select(AttemptTrigger).where(AttemptTrigger.attempt_id.in_(ids))
        ).all()
    }
    requests = session.scalars(
        select(ResendRequest)
        .where(ResendRequest.delivery_id == delivery_id)
        .order_by(ResendRequest.requested_at)
    ).all()
    control = session.get(DeliveryControl, delivery_id)
    base = control.schedule_base if control is not None else 0
    return DeliveryDetail(delivery, attempts, triggers, requests, base)


def list_deliveries(
    session: Session, status: str | None, target: str | None, limit: int
) -> Sequence[Delivery]:
    """Newest first."""
    query = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id)
    if status:
        query = query.where(Delivery.status == status)
    if target:
        query = query.where(Delivery.target == target)
    return session.scalars(query.limit(limit)).all()


def resend_risk(session: Session, delivery: Delivery) -> str | None:
    """Why sending ``delivery`` again may post money twice; None if it cannot."""
    if not delivery.event.type.startswith(MONEY_EVENTS):
        return None
    if delivery.status == "delivered":
        return "it was delivered"
    outcomes = set(
        session.scalars(
            select(Attempt.outcome).where(Attempt.delivery_id == delivery.id)
        ).all()
    )
    if "delivered" in outcomes:
        return "an earlier attempt delivered it"
    if outcomes & {"uncertain", "interrupted"}:
        return "an earlier attempt may have posted it (uncertain or cut short)"
    return None


def retry(
    session: Session,
    settings: Settings,
    actor: Actor,
    delivery_id: str,
    reason: str | None = None,
) -> Resend:
    """One attempt now, on the schedule where the delivery stands."""
    delivery = get_delivery(session, delivery_id)
    if delivery.status == "delivered":
        raise ConflictError(
            f"delivery {delivery_id} was delivered; to send it again use "
            f"ponte deliveries replay --target {delivery.target} --since ..."
        )
    if delivery.status not in ("pending", "parked"):
        raise ConflictError(_busy(delivery))
    return _resend(session, settings, actor, delivery, "retry", reason)


def release(
    session: Session,
    settings: Settings,
    actor: Actor,
    delivery_id: str,
    reason: str | None = None,
) -> Resend:
    """A parked delivery back to pending, with its retry schedule started over."""
    delivery = get_delivery(session, delivery_id)
    if delivery.status != "parked":
        raise ConflictError(
            f"delivery {delivery_id} is {delivery.status}; only a parked one "
            "is released"
        )
    return _resend(session, settings, actor, delivery, "release", reason)


def replay(
    session: Session,
    settings: Settings,
    actor: Actor,
    target_name: str,
    since: dt.datetime,
    *,
    dry_run: bool = False,
) -> list[Resend]:
    """Send again the delivered and parked deliveries of a target since ``since``.

    Pending and in-flight ones are on their way already; cancelled ones stay.
    """
    target = _target(settings, target_name)
    _require_enabled(session, target.name)
    rows = session.scalars(
        select(Delivery)
        .where(
            Delivery.target == target.name,
            Delivery.created_at >= since,
            Delivery.status.in_(("delivered", "parked")),
        )
        .order_by(Delivery.created_at, Delivery.id)
    ).all()
    if dry_run:
        return [_preview(session, d) for d in rows]
    done = [_resend(session, settings, actor, d, "replay", None) for d in rows]
    _audit(
        session,
        actor,
        "deliveries.replay",
        "ok",
        "target",
        target.name,
        detail={
            "since": since.isoformat(),
            "queued": sum(r.done == "queued" for r in done),
            "approval_requested": sum(r.done == "approval_requested" for r in done),
            "skipped": sum(r.done == "skipped" for r in done),
        },
    )
    return done


# Resend requests (four eyes)


def list_requests(
    session: Session, status: str | None = "pending"
) -> Sequence[ResendRequest]:
    query = select(ResendRequest).order_by(ResendRequest.requested_at)
    if status:
        query = query.where(ResendRequest.status == status)
    return session.scalars(query).all()


def approve(
    session: Session, settings: Settings, actor: Actor, request_id: str
) -> ResendRequest:
    """A second operator lets a resend go; the requester may not approve it."""
    request = _pending_request(session, request_id)
    if _same(request.requested_by, actor.name):
        raise ConflictError(
            f"resend request {request_id} was asked for by {request.requested_by}; "
            "a different operator must approve it"
        )
    delivery = get_delivery(session, request.delivery_id)
    if delivery.status not in RESENDABLE:
        raise ConflictError(_busy(delivery))
    _require_enabled(session, delivery.target)
    action = request.action or "retry"
    _queue(session, delivery, action, actor, restart=action != "retry", request=request)
    request.status = "approved"
    request.decided_by = actor.name
    request.decided_at = actor.now
    _audit(
        session,
        actor,
        "deliveries.approve",
        "ok",
        "resend_request",
        request.id,
        correlation_id=delivery.message_id,
        detail={
            "delivery": delivery.id,
            "action": action,
            "requested_by": request.requested_by,
        },
    )
    return request


def refuse(
    session: Session, actor: Actor, request_id: str, reason: str | None = None
) -> ResendRequest:
    """Drop a pending resend request (its requester may withdraw it too)."""
    request = _pending_request(session, request_id)
    request.status = "refused"
    request.decided_by = actor.name
    request.decided_at = actor.now
    _audit(
        session,
        actor,
        "deliveries.refuse",
        "ok",
        "resend_request",
        request.id,
        detail={"delivery": request.delivery_id, "reason": reason},
    )
    return request


# Steps


def _resend(
    session: Session,
    settings: Settings,
    actor: Actor,
    delivery: Delivery,
    action: str,
    reason: str | None,
) -> Resend:
    """Queue ``delivery`` now, or ask for a second operator when money is at risk."""
    if action != "replay":
        _require_enabled(session, delivery.target)
    waiting = _waiting_request(session, delivery.id)
    if waiting is not None:
        note = f"resend request {waiting.id} already waits for approval"
        if action != "replay":
            raise ConflictError(f"delivery {delivery.id}: {note}")
        return Resend(delivery.id, "skipped", note, waiting.id)
    risk = resend_risk(session, delivery)
    if risk is not None:
        request = _request(session, actor, delivery, action, reason)
        _audit_delivery(session, actor, action, "approval_requested", delivery, risk)
        return Resend(delivery.id, "approval_requested", risk, request.id)
    _queue(session, delivery, action, actor, restart=action != "retry")
    _audit_delivery(session, actor, action, "queued", delivery, reason)
    return Resend(delivery.id, "queued", reason or "")


def _preview(session: Session, delivery: Delivery) -> Resend:
    waiting = _waiting_request(session, delivery.id)
    if waiting is not None:
        note = f"resend request {waiting.id} already waits for approval"
        return Resend(delivery.id, "skipped", note, waiting.id)
    risk = resend_risk(session, delivery)
    if risk is not None:
        return Resend(delivery.id, "approval_requested", risk)
    return Resend(delivery.id, "queued")


def _queue(
    session: Session,
    delivery: Delivery,
    trigger: str,
    actor: Actor,
    *,
    restart: bool,
    request: ResendRequest | None = None,
) -> None:
    control = session.get(DeliveryControl, delivery.id)
    if control is None:
        control = DeliveryControl(
            delivery_id=delivery.id, schedule_base=0, updated_at=actor.now
        )
        session.add(control)
    if restart:
        control.schedule_base = delivery.attempt_count
    control.trigger = trigger
    control.triggered_by = actor.name
    control.resend_request_id = request.id if request is not None else None
    control.updated_at = actor.now
    delivery.status = "pending"
    delivery.next_attempt_at = actor.now
    delivery.updated_at = actor.now


def _request(
    session: Session,
    actor: Actor,
    delivery: Delivery,
    action: str,
    reason: str | None,
) -> ResendRequest:
    request = ResendRequest(
        id=str(uuid.uuid4()),
        delivery_id=delivery.id,
        status="pending",
        action=action,
        reason=reason,
        requested_by=actor.name,
        requested_at=actor.now,
    )
    session.add(request)
    session.flush()
    return request


def _waiting_request(session: Session, delivery_id: str) -> ResendRequest | None:
    return session.scalars(
        select(ResendRequest).where(
            ResendRequest.delivery_id == delivery_id,
            ResendRequest.status == "pending",
        )
    ).first()


def _pending_request(session: Session, request_id: str) -> ResendRequest:
    request = session.get(ResendRequest, request_id)
    if request is None:
        raise NotFoundError("request", "resend request", f"id {request_id}")
    if request.status != "pending":
        raise ConflictError(
            f"resend request {request_id} is {request.status} already "
            f"(by {request.decided_by})"
        )
    return request


def _require_enabled(session: Session, name: str) -> None:
    state = session.get(TargetState, name)
    if state is not None and not state.enabled:
        raise ConflictError(
            f"target {name} is disabled ({state.disabled_reason or 'no reason'}); "
            f"enable it first: ponte targets enable {name}"
        )


def _target(settings: Settings, name: str) -> TargetSettings:
    for target in settings.targets:
        if target.name == name:
            return target
    raise NotFoundError("target", "configured target", f"name {name}")


def _busy(delivery: Delivery) -> str:
    if delivery.status == "in_flight":
        return f"delivery {delivery.id} is being attempted right now"
    return f"delivery {delivery.id} is {delivery.status}"


def _same(one: str, other: str) -> bool:
    return one.strip().casefold() == other.strip().casefold()


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _audit_delivery(
    session: Session,
    actor: Actor,
    action: str,
    outcome: str,
    delivery: Delivery,
    note: str | None,
) -> None:
    _audit(
        session,
        actor,
        f"deliveries.{action}",
        outcome,
        "delivery",
        delivery.id,
        correlation_id=delivery.message_id,
        detail={"target": delivery.target, "event": delivery.event_id, "note": note},
    )


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    outcome: str,
    record_type: str,
    record_id: str,
    *,
    correlation_id: str | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    actor.audit.record(
        session,
        AuditRecord(
            actor=actor.name,
            channel="cli",
            action=action,
            outcome=outcome,
            record_type=record_type,
            record_id=record_id,
            correlation_id=correlation_id,
            detail=dict(detail or {}),
        ),
    )
