"""The delivery worker: takes deliveries from the outbox and attempts them.

The database holds every state; APScheduler only keeps time: an interval job
looks for due deliveries and a date job wakes each scheduled retry. A restart
loses nothing: deliveries that were in flight when the process died are
marked interrupted and tried again with the same message id, so a receiver
that drops duplicates sees the message once.

Exactly one worker may run per database; a lease row enforces it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select, update

from adapter.app import reactions
from adapter.audit.writer import AuditRecord
from adapter.config import TargetSettings
from adapter.delivery.policy import Outcome, RetryPolicy, Verdict, classify_error
from adapter.errors import (
    ConfigurationError,
    ContractError,
    PonteError,
)
from adapter.mappings.xslt import Mapping
from adapter.outbound.caller import SoapCaller
from adapter.outbound.profiles import PROFILES
from adapter.outbound.wsdl import is_remote
from adapter.runtime import Runtime
from adapter.storage.models import (
    DELIVERY_LEASE as LEASE_NAME,
)
from adapter.storage.models import (
    Attempt,
    Delivery,
    SchedulerLease,
)

log = logging.getLogger("ponte.delivery")

LEASE_SECONDS = 30.0
Clock = Callable[[], dt.datetime]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DeliveryWorker:
    """Attempts due deliveries; ``start()`` runs it on a background scheduler."""

    def __init__(
        self,
        runtime: Runtime,
        caller: SoapCaller | None = None,
        *,
        clock: Clock = _now,
        rng: random.Random | None = None,
    ) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.caller = caller or SoapCaller(settings)
        self.policy = RetryPolicy(
            settings.delivery.schedule_seconds, settings.delivery.jitter
        )
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not security)
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.mappings: dict[str, Mapping] = {}
        self.scheduler: BackgroundScheduler | None = None
        self._stopped = threading.Event()

    # Start-up

    def prepare(self) -> None:
        """Check every target now, not mid-delivery.

        Mappings, keys and credentials must be right: any error is raised as
        a ``ConfigurationError`` naming the target. A WSDL that cannot be
        fetched from its host is only a warning: the host may be down, and
        the first delivery loads it again (and is retried if it still fails).
        """
        for target in self.runtime.settings.targets:
            try:
                self._prepare_target(target)
            except PonteError as exc:
                raise ConfigurationError(f"target {target.name}: {exc}") from exc

    def _prepare_target(self, target: TargetSettings) -> None:
        if target.mapping is None or target.wsdl is None:
            raise NotImplementedError("http targets are not delivered yet")
        self.mappings[target.name] = Mapping.load(target.mapping)
        if target.profile not in PROFILES:
            raise ConfigurationError(f"unknown profile {target.profile}")
        target.auth.basic_password()
        self.caller.prepare_key(target)
        try:
            self.caller.prepare(target)
        except ContractError as exc:
            if not is_remote(target.wsdl):
                raise
            log.warning("target %s: WSDL not loaded yet: %s", target.name, exc)

    def acquire_lease(self) -> bool:
        """Take or renew the one-worker lease; False while another holds it."""
        now = self.clock()
        expires = now + dt.timedelta(seconds=LEASE_SECONDS)
        with self.runtime.db.transaction() as session:
            lease = session.get(SchedulerLease, LEASE_NAME)
            if lease is None:
                session.add(
                    SchedulerLease(
                        name=LEASE_NAME, holder=self.holder, expires_at=expires
                    )
                )
                return True
            if lease.holder != self.holder and lease.expires_at > now:
                return False
            lease.holder = self.holder
            lease.expires_at = expires
            return True

    def lease_holder(self) -> str | None:
        with self.runtime.db.transaction() as session:
            lease = session.get(SchedulerLease, LEASE_NAME)
            return lease.holder if lease is not None else None

    def release_lease(self) -> None:
        with self.runtime.db.transaction() as session:
            lease = session.get(SchedulerLease, LEASE_NAME)
            if lease is not None and lease.holder == self.holder:
                session.delete(lease)

    def recover(self, older_than: float = 0.0) -> int:
        """Deliveries left in flight become due again.

        At start-up every in-flight delivery was left by a dead worker. While
        running, one whose outcome could not be recorded (the database was
        briefly gone) is recovered once it is ``older_than`` seconds old.
        """
        now = self.clock()
        cutoff = now - dt.timedelta(seconds=older_than)
        with self.runtime.db.transaction() as session:
            stuck = session.scalars(
                select(Delivery).where(
                    Delivery.status == "in_flight", Delivery.updated_at <= cutoff
                )
            ).all()
            for delivery in stuck:
                attempt = _open_attempt(session, delivery)
                if attempt is not None:
                    attempt.outcome = "interrupted"
                    attempt.finished_at = now
                    attempt.error_class = "interrupted"
                    attempt.detail = "the worker stopped during this attempt"
                delivery.status = "pending"
                delivery.next_attempt_at = now
                delivery.updated_at = now
            if stuck:
                log.warning("recovered %d deliveries left in flight", len(stuck))
            return len(stuck)

    def start(self, wait_for_lease: bool = True) -> None:
        """Prepare, take the lease, recover and start the timers."""
        self.prepare()
        while not self.acquire_lease():
            holder = self.lease_holder()
            if not wait_for_lease:
                raise ConfigurationError(
                    f"delivery worker {holder} holds the lease for this database"
                )
            log.info(
                "standby: delivery worker %s holds the lease; taking over when it "
                "stops or its lease expires (%.0f s)",
                holder,
                LEASE_SECONDS,
            )
            if self._stopped.wait(LEASE_SECONDS / 3):
                raise ConfigurationError("stopped while on standby")
        self.recover()
        scheduler = BackgroundScheduler(
            timezone=dt.UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": None,
            },
        )
        poll = self.runtime.settings.delivery.poll_seconds
        scheduler.add_job(
            self.run_due,
            "interval",
            seconds=poll,
            id="poll",
            next_run_time=dt.datetime.now(dt.UTC),
        )
        scheduler.add_job(
            self._renew, "interval", seconds=LEASE_SECONDS / 3, id="lease"
        )
        purge = self.runtime.authenticator.purge_nonces
        scheduler.add_job(purge, "interval", minutes=10, id="nonces")
        scheduler.start()
        self.scheduler = scheduler
        self._schedule_pending()
        log.info(
            "delivery worker started holder=%s targets=%d",
            self.holder,
            len(self.mappings),
        )

    def stop(self) -> None:
        self._stopped.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
            log.info("delivery worker stopped holder=%s", self.holder)
        self.release_lease()

    def _renew(self) -> None:
        if not self.acquire_lease():
            log.error("lost the delivery-worker lease; stopping")
            threading.Thread(target=self.stop, daemon=True).start()

    def _schedule_pending(self) -> None:
        with self.runtime.db.transaction() as session:
            rows = session.execute(
                select(Delivery.id, Delivery.next_attempt_at).where(
                    Delivery.status == "pending"
                )
            ).all()
        for delivery_id, when in rows:
            self._wake_at(delivery_id, when)

    def _wake_at(self, delivery_id: str, when: dt.datetime | None) -> None:
        if self.scheduler is None or when is None:
            return
        self.scheduler.add_job(
            self.attempt,
            "date",
            run_date=when,
            args=[delivery_id],
            id=f"retry:{delivery_id}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    # Work

    def run_due(self) -> int:
        """Attempt every delivery that is due now; returns how many were tried."""
        self.recover(older_than=self._stale_after())
        with self.runtime.db.transaction() as session:
            due = session.scalars(
                select(Delivery.id)
                .where(
                    Delivery.status == "pending",
                    Delivery.next_attempt_at <= self.clock(),
                )
                .order_by(Delivery.next_attempt_at)
                .limit(100)
            ).all()
        return sum(1 for delivery_id in due if self.attempt(delivery_id))

    def _stale_after(self) -> float:
        timeouts = [t.timeout_seconds for t in self.runtime.settings.targets]
        return 2 * max(timeouts, default=30.0) + 60

    def attempt(self, delivery_id: str) -> bool:
        """Make one attempt if the delivery is still due; False if it was not."""
        claimed = self._claim(delivery_id)
        if claimed is None:
            return False
        target_name, number, message_id, body = claimed
        verdict, http_status, duration_ms = self._call(target_name, message_id, body)
        self._record(delivery_id, number, verdict, http_status, duration_ms)
        return True

    def _claim(self, delivery_id: str) -> tuple[str, int, str, bytes] | None:
        now = self.clock()
        with self.runtime.db.transaction() as session:
            claimed = session.execute(
                update(Delivery)
                .where(
                    Delivery.id == delivery_id,
                    Delivery.status == "pending",
                    Delivery.next_attempt_at <= now,
                )
                .values(
                    status="in_flight",
                    attempt_count=Delivery.attempt_count + 1,
                    updated_at=now,
                )
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return None
            delivery = session.get_one(Delivery, delivery_id)
            session.refresh(delivery)
            session.add(
                Attempt(
                    delivery_id=delivery_id,
                    number=delivery.attempt_count,
                    started_at=now,
                    outcome="started",
                )
            )
            reactions.attempt_started(session, delivery, now)
            return (
                delivery.target,
                delivery.attempt_count,
                delivery.message_id,
                delivery.event.body,
            )

    def _call(
        self, target_name: str, message_id: str, body: bytes
    ) -> tuple[Verdict, int | None, int | None]:
        try:
            target = self.runtime.settings.target(target_name)
            profile = PROFILES[target.profile]
            mapping = self._mapping(target)
            params = profile.parameters(target, mapping.apply(body))
            result = self.caller.call(target, params, message_id=message_id)
        except Exception as exc:
            if not isinstance(exc, PonteError):
                log.exception("unexpected error delivering message_id=%s", message_id)
            return classify_error(exc), getattr(exc, "status", None), None
        return profile.interpret(result.result), result.http_status, result.duration_ms

    def _mapping(self, target: TargetSettings) -> Mapping:
        mapping = self.mappings.get(target.name)
        if mapping is None:
            if target.mapping is None:
                raise NotImplementedError("http targets are not delivered yet")
            mapping = self.mappings[target.name] = Mapping.load(target.mapping)
        return mapping

    def _record(
        self,
        delivery_id: str,
        number: int,
        verdict: Verdict,
        http_status: int | None,
        duration_ms: int | None,
    ) -> None:
        now = self.clock()
        wake: dt.datetime | None = None
        with self.runtime.db.transaction() as session:
            delivery = session.get_one(Delivery, delivery_id)
            attempt = _open_attempt(session, delivery)
            outcome = verdict.outcome
            if outcome is Outcome.RETRY:
                delay = self.policy.delay_after(number, self.rng)
                if delay is None:
                    outcome = Outcome.PARKED
                    verdict = Verdict(
                        Outcome.PARKED,
                        "exhausted",
                        f"retries exhausted: {verdict.detail}",
                        verdict.http_status,
                    )
                else:
                    wake = now + dt.timedelta(seconds=delay)
            if attempt is not None:
                attempt.finished_at = now
                attempt.outcome = verdict.outcome.value
                attempt.http_status = http_status or verdict.http_status
                attempt.error_class = verdict.error_class
                attempt.detail = verdict.detail
                attempt.duration_ms = duration_ms
            delivery.updated_at = now
            delivery.last_error = (
                verdict.detail if outcome is not Outcome.DELIVERED else None
            )
            if outcome is Outcome.DELIVERED:
                delivery.status = "delivered"
                delivery.result = verdict.result
                delivery.next_attempt_at = None
                reactions.delivered(session, delivery, verdict.result, now)
            elif outcome is Outcome.PARKED:
                delivery.status = "parked"
                delivery.next_attempt_at = None
                reactions.parked(session, delivery, now)
            else:
                delivery.status = "pending"
                delivery.next_attempt_at = wake
            self._audit(session, delivery, number, verdict, http_status, duration_ms)
        log.info(
            "deliver target=%s message_id=%s attempt=%d outcome=%s status=%s"
            " class=%s ms=%s next=%s",
            delivery.target,
            delivery.message_id,
            number,
            verdict.outcome.value,
            http_status,
            verdict.error_class or "-",
            duration_ms,
            wake.isoformat() if wake else "-",
        )
        self._wake_at(delivery_id, wake)

    def _audit(
        self,
        session: Any,
        delivery: Delivery,
        number: int,
        verdict: Verdict,
        http_status: int | None,
        duration_ms: int | None,
    ) -> None:
        self.runtime.audit.record(
            session,
            AuditRecord(
                actor="ponte-worker",
                channel="worker",
                action="deliver",
                outcome=verdict.outcome.value,
                record_type="delivery",
                record_id=delivery.id,
                fault_code=verdict.error_class,
                correlation_id=delivery.message_id,
                duration_ms=duration_ms,
                detail={
                    "target": delivery.target,
                    "event": delivery.event_id,
                    "attempt": number,
                    "http_status": http_status,
                    "result": verdict.result,
                    "error": verdict.detail,
                },
            ),
        )


def _open_attempt(session: Any, delivery: Delivery) -> Attempt | None:
    return session.scalars(
        select(Attempt).where(
            Attempt.delivery_id == delivery.id, Attempt.finished_at.is_(None)
        )
    ).first()
