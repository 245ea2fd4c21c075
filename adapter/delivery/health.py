"""Target health: a target that keeps failing is switched off until an operator
switches it on again.

Each attempt tells on its target. A success clears ``failing_since``. A
passing failure (the target did not judge the document: refused, timed out,
5xx, Server fault) starts the clock if it is not running; once it has run for
the target's ``disable_after_hours`` the target is disabled. A refusal of one
document (a Client fault, a business error) is an answer, so it neither
starts nor stops the clock. A disabled target's deliveries wait: they are not
attempted, so they neither use their retries up nor park.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.audit.writer import AuditRecord, AuditSink
from adapter.config import TargetSettings
from adapter.delivery.policy import Outcome, Verdict
from adapter.storage.models_delivery import TargetState

log = logging.getLogger("ponte.delivery")

WORKER = "ponte-worker"


@dataclass(frozen=True)
class Disabled:
    """The worker has just disabled a target."""

    target: str
    failing_since: dt.datetime
    reason: str


def state_of(session: Session, name: str, now: dt.datetime) -> TargetState:
    """The target's row, created (enabled, healthy) on first use."""
    state = session.get(TargetState, name, with_for_update=True)
    if state is None:
        state = TargetState(name=name, enabled=True, updated_at=now)
        session.add(state)
        session.flush()
    return state


def ensure_states(session: Session, names: Iterable[str], now: dt.datetime) -> None:
    """Create the missing rows up front, so worker threads only ever update."""
    known = set(session.scalars(select(TargetState.name)).all())
    for name in names:
        if name not in known:
            session.add(TargetState(name=name, enabled=True, updated_at=now))


def disabled_targets(session: Session) -> set[str]:
    query = select(TargetState.name).where(TargetState.enabled.is_(False))
    return set(session.scalars(query).all())


def observe(
    session: Session,
    target: TargetSettings,
    verdict: Verdict,
    now: dt.datetime,
    audit: AuditSink,
) -> Disabled | None:
    """Account for one attempt of ``target``; says when it disabled the target."""
    if verdict.outcome is Outcome.DELIVERED:
        state = state_of(session, target.name, now)
        if state.failing_since is not None:
            state.failing_since = None
            state.updated_at = now
        return None
    if not verdict.failed_in_passing:
        return None
    state = state_of(session, target.name, now)
    if state.failing_since is None:
        state.failing_since = now
        state.updated_at = now
        return None
    limit = dt.timedelta(hours=target.disable_after_hours)
    if not state.enabled or now - state.failing_since < limit:
        return None
    return _disable(session, state, target, now, audit)


def _disable(
    session: Session,
    state: TargetState,
    target: TargetSettings,
    now: dt.datetime,
    audit: AuditSink,
) -> Disabled:
    since = state.failing_since or now
    hours = (now - since).total_seconds() / 3600
    reason = (
        f"every attempt failed for {hours:.1f} h (since "
        f"{since.isoformat(timespec='seconds')}; the limit is "
        f"{target.disable_after_hours:g} h)"
    )
    state.enabled = False
    state.disabled_at = now
    state.disabled_by = WORKER
    state.disabled_reason = reason
    state.updated_at = now
    audit.record(
        session,
        AuditRecord(
            actor=WORKER,
            channel="worker",
            action="targets.disable",
            outcome="ok",
            record_type="target",
            record_id=target.name,
            detail={"reason": reason, "failing_since": since.isoformat()},
        ),
    )
    return Disabled(target.name, since, reason)


def log_disabled(event: Disabled) -> None:
    log.warning(
        "target %s disabled: %s; its deliveries wait until an operator runs "
        "'ponte targets enable %s'",
        event.target,
        event.reason,
        event.target,
    )
