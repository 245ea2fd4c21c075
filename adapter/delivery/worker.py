"""The delivery worker: takes deliveries from the outbox and attempts them.

The database holds every state; APScheduler only keeps time: an interval job
looks for due deliveries and a date job wakes each scheduled retry. A restart
loses nothing: deliveries that were in flight when the process died are
marked interrupted and tried again with the same message id, so a receiver
that drops duplicates sees the message once.

One round of work (``dispatch_due``)::

    due deliveries ── target disabled? ─────────── wait (not attempted)
                   ── earlier one, same key,
                      not settled (ordered)? ───── wait
                   ── target at max_in_flight? ─── wait for a free slot
                   └─ thread pool: rate-limit token → claim (the database
                      guard against double sending) → [reconcile] → call →
                      record attempt, delivery, target health, audit entry

Exactly one worker may run per database; a lease row enforces it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from apscheduler.schedulers.background import BackgroundScheduler
from lxml import etree
from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select, update
from sqlalchemy.orm import Session, aliased

from adapter.app import reactions
from adapter.audit.archive import Digests, archive_attempt, sha256_text
from adapter.audit.writer import AuditRecord
from adapter.config import TargetSettings
from adapter.delivery import health
from adapter.delivery.limits import TargetGate, TokenBucket
from adapter.delivery.outbox import Outbox
from adapter.delivery.policy import Outcome, RetryPolicy, Verdict, classify_error
from adapter.delivery.redact import for_record, redact
from adapter.errors import ConfigurationError, ContractError, PonteError
from adapter.mappings.xslt import Mapping
from adapter.outbound.caller import CallResult, SoapCaller
from adapter.outbound.http import HttpCaller
from adapter.outbound.profiles import (
    PROFILES,
    Found,
    Reader,
    Reconciliation,
    unknown,
)
from adapter.outbound.wsdl import is_remote
from adapter.runtime import Runtime
from adapter.signing.document import sign_document
from adapter.signing.keyring import shared_keyring
from adapter.storage.models import (
    DELIVERY_LEASE as LEASE_NAME,
)
from adapter.storage.models import (
    Attempt,
    Delivery,
    OutboxEvent,
    SchedulerLease,
)
from adapter.storage.models_delivery import (
    AttemptTrigger,
    DeliveryControl,
    TargetState,
)

log = logging.getLogger("ponte.delivery")

LEASE_SECONDS = 30.0
Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], None]

# A delivery in one of these states no longer holds back later ones.
SETTLED = ("delivered", "parked", "skipped", "cancelled")
# Attempts after which the document may be at the partner already.
UNSURE = ("uncertain", "interrupted")
# ``ordered`` unset: events of these families keep their order per key. A
# person's unflag must not overtake its flag, nor a provision's movement the
# one before it in the ledger.
ORDERED_BY_DEFAULT = ("payment_order.", "contract.", "person.", "provision.")
DUE_BATCH = 100


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SoapCalls(Protocol):
    def prepare(self, target: TargetSettings) -> None: ...

    def prepare_key(self, target: TargetSettings) -> None: ...

    def call(
        self,
        target: TargetSettings,
        params: dict[str, str],
        *,
        message_id: str,
        operation: str | None = None,
    ) -> CallResult: ...


class HttpCalls(Protocol):
    def prepare(self, target: TargetSettings) -> None: ...

    def call(
        self, target: TargetSettings, body: bytes, *, message_id: str, event_type: str
    ) -> CallResult: ...


@dataclass(frozen=True)
class Claim:
    """A delivery this worker has marked in flight, with what the call needs."""

    delivery_id: str
    target: str
    number: int
    message_id: str
    event_id: str
    event_type: str
    body: bytes
    # This attempt's place in the retry schedule (it restarts on a release).
    schedule_number: int
    # The previous attempt may have posted the document: ask first.
    reconcile_first: bool
    trigger: str | None = None
    operator: str | None = None


@dataclass(frozen=True)
class Exchange:
    """What one attempt did on the wire and what it came to."""

    verdict: Verdict
    http_status: int | None = None
    duration_ms: int | None = None
    request_text: str | None = None
    response_text: str | None = None
    reconciled: str | None = None


class DeliveryWorker:
    """Attempts due deliveries; ``start()`` runs it on a background scheduler.

    ``caller`` and ``http_caller`` are the seams to partners (SOAP and plain
    HTTP targets); ``clock``, ``rng`` and ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        runtime: Runtime,
        caller: SoapCalls | None = None,
        *,
        http_caller: HttpCalls | None = None,
        clock: Clock = _now,
        rng: random.Random | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.caller: SoapCalls = caller or SoapCaller(settings)
        self.http_caller: HttpCalls = http_caller or HttpCaller(settings)
        self.policy = RetryPolicy(
            settings.delivery.schedule_seconds, settings.delivery.jitter
        )
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not security)
        self.sleep = sleep
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.mappings: dict[str, Mapping] = {}
        self.gates = {
            t.name: self._new_gate(t.max_in_flight, t) for t in settings.targets
        }
        self.scheduler: BackgroundScheduler | None = None
        self._stopped = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._dispatching = threading.Lock()
        self._mapping_lock = threading.Lock()

    def _new_gate(self, slots: int, target: TargetSettings | None) -> TargetGate:
        rate = target.rate_limit_per_second if target is not None else None
        bucket = TokenBucket(rate, self._seconds) if rate else None
        return TargetGate(slots, bucket)

    def _seconds(self) -> float:
        return self.clock().timestamp()

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
        if target.mapping is not None:
            self.mappings[target.name] = Mapping.load(target.mapping)
        if target.kind == "http":
            self.http_caller.prepare(target)
            return
        if target.profile not in PROFILES:
            raise ConfigurationError(f"unknown profile {target.profile}")
        target.auth.basic_password()
        self.caller.prepare_key(target)
        try:
            self.caller.prepare(target)
        except ContractError as exc:
            if target.wsdl is None or not is_remote(target.wsdl):
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

    def recover(self, older_than: float = 0.0, exclude: Collection[str] = ()) -> int:
        """Deliveries left in flight become due again.

        At start-up every in-flight delivery was left by a dead worker. While
        running, one whose outcome could not be recorded (the database was
        briefly gone) is recovered once it is ``older_than`` seconds old;
        ``exclude`` names the deliveries this process is still attempting.
        """
        now = self.clock()
        cutoff = now - dt.timedelta(seconds=older_than)
        with self.runtime.db.transaction() as session:
            stuck = session.scalars(
                select(Delivery).where(
                    Delivery.status == "in_flight", Delivery.updated_at <= cutoff
                )
            ).all()
            stuck = [d for d in stuck if d.id not in exclude]
            entries: list[AuditRecord] = []
            for delivery in stuck:
                attempt = _open_attempt(session, delivery)
                if attempt is not None:
                    attempt.outcome = "interrupted"
                    attempt.finished_at = now
                    attempt.error_class = "interrupted"
                    attempt.detail = "the worker stopped during this attempt"
                    entries.append(_interrupted_entry(delivery, attempt))
                delivery.status = "pending"
                delivery.next_attempt_at = now
                delivery.updated_at = now
            self.runtime.audit.record_many(session, entries)
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
            self._wake,
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
            len(self.runtime.settings.targets),
        )

    def stop(self) -> None:
        self._stopped.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
            log.info("delivery worker stopped holder=%s", self.holder)
        self.close()
        self.release_lease()

    def close(self) -> None:
        """Wait for the calls in flight, then free the thread pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

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
            self._wake,
            "date",
            run_date=when,
            id=f"retry:{delivery_id}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    def _wake(self) -> None:
        self.dispatch_due()

    # Dispatch

    def run_due(self) -> int:
        """Attempt every delivery that may go now; returns how many were tried.

        Waits for the attempts to finish (tests and one-shot runs); the
        scheduler calls ``dispatch_due``, which does not wait.
        """
        futures = self.dispatch_due()
        return sum(1 for future in futures if future.result())

    def dispatch_due(self) -> list[Future[bool]]:
        """Hand every delivery that may go now to the thread pool."""
        if not self._dispatching.acquire(blocking=False):
            return []  # another round is choosing; it sees the same work
        try:
            with self._lock:
                running = set(self._running)
            self.recover(older_than=self._stale_after(), exclude=running)
            return [f for f in map(self._submit, self._due()) if f is not None]
        finally:
            self._dispatching.release()

    def _submit(self, row: tuple[str, str]) -> Future[bool] | None:
        delivery_id, target = row
        gate = self._gate(target)
        with self._lock:
            if self._stopped.is_set():
                return None  # stopped: late wake-ups start nothing
            if delivery_id in self._running or not gate.try_enter():
                return None
            self._running.add(delivery_id)
            pool = self._executor()
        future = pool.submit(self._run_one, delivery_id, gate)
        future.add_done_callback(_log_failure)
        return future

    def _run_one(self, delivery_id: str, gate: TargetGate) -> bool:
        try:
            wait = gate.wait_for_token()
            if wait > 0:
                self.sleep(wait)
            return self.attempt(delivery_id)
        finally:
            gate.leave()
            with self._lock:
                self._running.discard(delivery_id)
            if self.scheduler is not None and not self._stopped.is_set():
                self._kick()

    def _kick(self) -> None:
        """A slot is free: the next delivery need not wait for the poll."""
        try:
            self.dispatch_due()
        except Exception:
            log.exception("could not look for the next delivery; the poll will")

    def _gate(self, target: str) -> TargetGate:
        with self._lock:
            gate = self.gates.get(target)
            if gate is None:  # a target no longer configured: one at a time
                gate = self.gates[target] = self._new_gate(1, None)
            return gate

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            size = sum(g.max_in_flight for g in self.gates.values()) + 1
            self._pool = ThreadPoolExecutor(size, thread_name_prefix="ponte-delivery")
        return self._pool

    def _due(self) -> list[tuple[str, str]]:
        """Pending deliveries that are due and may go: (id, target)."""
        now = self.clock()
        names = [t.name for t in self.runtime.settings.targets]
        with self.runtime.db.transaction() as session:
            health.ensure_states(session, names, now)
            waiting = health.disabled_targets(session)
            with self._lock:
                waiting |= {name for name, gate in self.gates.items() if gate.full}
            query = (
                select(Delivery.id, Delivery.target)
                .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
                .where(
                    Delivery.status == "pending",
                    Delivery.next_attempt_at <= now,
                    not_(and_(self._ordering_applies(), _held_back_by_earlier())),
                )
                .order_by(Delivery.next_attempt_at, Delivery.created_at)
                .limit(DUE_BATCH)
            )
            if waiting:
                query = query.where(Delivery.target.not_in(waiting))
            return [(row[0], row[1]) for row in session.execute(query).all()]

    def _ordering_applies(self) -> ColumnElement[bool]:
        """SQL: the delivery's target keeps key order for its event type."""
        families = or_(
            *(
                OutboxEvent.type.startswith(prefix, autoescape=True)
                for prefix in ORDERED_BY_DEFAULT
            )
        )
        cases: list[ColumnElement[bool]] = []
        for target in self.runtime.settings.targets:
            if target.ordered is True:
                cases.append(Delivery.target == target.name)
            elif target.ordered is None:
                cases.append(and_(Delivery.target == target.name, families))
        return or_(*cases) if cases else false()

    def _stale_after(self) -> float:
        # An attempt may make two calls (reconcile, then send).
        timeouts = [t.timeout_seconds for t in self.runtime.settings.targets]
        return 2 * max(timeouts, default=30.0) + 60

    # One attempt

    def attempt(self, delivery_id: str) -> bool:
        """Make one attempt if the delivery is still due; False if it was not."""
        claim = self._claim(delivery_id)
        if claim is None:
            return False
        exchange = self._perform(claim)
        self._record(claim, exchange)
        return True

    def _claim(self, delivery_id: str) -> Claim | None:
        """Mark the delivery in flight and open its attempt; None if not due."""
        now = self.clock()
        with self.runtime.db.transaction() as session:
            claimed = session.execute(
                update(Delivery)
                .where(
                    Delivery.id == delivery_id,
                    Delivery.status == "pending",
                    Delivery.next_attempt_at <= now,
                    not_(_target_disabled()),
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
            return _open_claim(session, delivery, now)

    def _perform(self, claim: Claim) -> Exchange:
        try:
            target = self.runtime.settings.target(claim.target)
        except ConfigurationError as exc:
            return Exchange(classify_error(exc))
        if not claim.reconcile_first:
            return self._send(target, claim)
        asked, answer = self._reconcile(target, claim)
        if asked.found is Found.FOUND:
            return answer
        sent = self._send(target, claim)
        detail = f"{sent.verdict.detail or 'sent'} (asked first: {asked.detail})"
        verdict = dataclasses.replace(sent.verdict, detail=detail)
        return dataclasses.replace(sent, verdict=verdict, reconciled=asked.found.value)

    def _send(self, target: TargetSettings, claim: Claim) -> Exchange:
        try:
            if target.kind == "http":
                result = self.http_caller.call(
                    target,
                    self._http_body(target, claim.body),
                    message_id=claim.message_id,
                    event_type=claim.event_type,
                )
                # A receiver's answer text is not a document key.
                verdict = Verdict(Outcome.DELIVERED)
            else:
                profile = PROFILES[target.profile]
                params = profile.parameters(target, self._document(target, claim.body))
                result = self.caller.call(target, params, message_id=claim.message_id)
                verdict = profile.interpret(result.result)
        except Exception as exc:
            if not isinstance(exc, PonteError):
                log.exception(
                    "unexpected error delivering message_id=%s", claim.message_id
                )
            return Exchange(
                classify_error(exc),
                getattr(exc, "status", None),
                None,
                getattr(exc, "request_text", None),
                getattr(exc, "response_text", None),
            )
        return Exchange(
            verdict,
            result.http_status,
            result.duration_ms,
            result.request_text,
            result.response_text,
        )

    def _reconcile(
        self, target: TargetSettings, claim: Claim
    ) -> tuple[Reconciliation, Exchange]:
        """Ask the partner whether the document of an unsure attempt is there."""
        calls: list[CallResult] = []
        tried: list[str] = []

        def read(operation: str, params: dict[str, str]) -> CallResult:
            message_id = f"urn:uuid:{uuid.uuid4()}"  # a question, not the message
            tried.append(operation)
            result = self.caller.call(
                target, params, message_id=message_id, operation=operation
            )
            calls.append(result)
            return result

        asked = self._ask(target, claim, read)
        log.log(
            logging.INFO if tried else logging.DEBUG,  # INFO: an external call
            "reconcile target=%s delivery=%s message_id=%s attempt=%d found=%s key=%s",
            target.name,
            claim.delivery_id,
            claim.message_id,
            claim.number,
            asked.found.value,
            asked.key or "-",
        )
        last = calls[-1] if calls else CallResult(None, 0, 0)
        verdict = Verdict(
            Outcome.DELIVERED, detail=f"reconciled: {asked.detail}", result=asked.key
        )
        answer = Exchange(
            verdict,
            last.http_status or None,
            last.duration_ms or None,
            last.request_text,
            last.response_text,
            asked.found.value,
        )
        return asked, answer

    def _ask(
        self, target: TargetSettings, claim: Claim, read: Reader
    ) -> Reconciliation:
        if target.kind != "soap":
            return unknown("an http target cannot be asked for a document")
        profile = PROFILES.get(target.profile)
        if profile is None:
            return unknown(f"profile {target.profile} cannot be asked")
        try:
            return profile.reconcile(target, self._map(target, claim.body), read)
        except Exception as exc:
            if not isinstance(exc, PonteError):
                log.exception("reconcile failed message_id=%s", claim.message_id)
            return unknown(f"{type(exc).__name__}: {exc}")

    def _map(self, target: TargetSettings, body: bytes) -> etree._Element:
        # lxml's XSLT objects are not documented as thread-safe; mapping is
        # quick next to the call, so one at a time.
        with self._mapping_lock:
            mapping = self.mappings.get(target.name)
            if mapping is None:
                if target.mapping is None:
                    raise ConfigurationError(f"target {target.name} has no mapping")
                mapping = self.mappings[target.name] = Mapping.load(target.mapping)
            return mapping.apply(body)

    def _http_body(self, target: TargetSettings, body: bytes) -> bytes:
        """The mapped document when the target has a mapping, else the event."""
        if target.mapping is None:
            return body
        mapped = self._document(target, body)
        return etree.tostring(mapped, xml_declaration=True, encoding="UTF-8")

    def _document(self, target: TargetSettings, body: bytes) -> etree._Element:
        """The mapped document as it goes out: with ``sign_document``, carrying
        an enveloped signature of its own, for finance systems that keep it."""
        mapped = self._map(target, body)
        if not target.sign_document:
            return mapped
        if target.signing_key is None:
            raise ConfigurationError(
                f"target {target.name}: sign_document needs a signing_key"
            )
        key = shared_keyring(self.runtime.settings).signing_key_for(target.signing_key)
        return sign_document(mapped, key)

    # Recording

    def _record(self, claim: Claim, exchange: Exchange) -> None:
        now = self.clock()
        verdict, wake = self._decide(claim, exchange.verdict, now)
        disabled: health.Disabled | None = None
        with self.runtime.db.transaction() as session:
            delivery = session.get_one(Delivery, claim.delivery_id)
            attempt = _open_attempt(session, delivery)
            digests = self._archive(session, attempt, exchange, now)
            if attempt is not None:
                _fill_attempt(attempt, verdict, exchange, now)
            _settle(session, delivery, verdict, wake, now, self.runtime.outbox)
            target = _configured(self.runtime.settings.targets, claim.target)
            if target is not None:
                audit = self.runtime.audit
                disabled = health.observe(session, target, exchange.verdict, now, audit)
            self._audit(session, claim, verdict, exchange, digests)
        log.info(
            "deliver target=%s delivery=%s message_id=%s event=%s attempt=%d"
            " outcome=%s status=%s class=%s ms=%s next=%s trigger=%s",
            claim.target,
            claim.delivery_id,
            claim.message_id,
            claim.event_id,
            claim.number,
            verdict.outcome.value,
            exchange.http_status,
            verdict.error_class or "-",
            exchange.duration_ms,
            wake.isoformat() if wake else "-",
            claim.trigger or "schedule",
        )
        if disabled is not None:
            health.log_disabled(disabled)
        self._wake_at(claim.delivery_id, wake)

    def _decide(
        self, claim: Claim, verdict: Verdict, now: dt.datetime
    ) -> tuple[Verdict, dt.datetime | None]:
        """The verdict as recorded and when to try again (None: not again)."""
        if not verdict.failed_in_passing:
            return verdict, None
        delay = self.policy.delay_after(claim.schedule_number, self.rng, verdict)
        if delay is not None:
            return verdict, now + dt.timedelta(seconds=delay)
        # An uncertain attempt stays so on record: the document may be posted.
        outcome = (
            Outcome.UNCERTAIN
            if verdict.outcome is Outcome.UNCERTAIN
            else Outcome.PARKED
        )
        error_class = verdict.error_class if outcome is Outcome.UNCERTAIN else None
        return (
            Verdict(
                outcome,
                error_class or "exhausted",
                f"retries exhausted: {verdict.detail}",
                verdict.http_status,
            ),
            None,
        )

    def _archive(
        self,
        session: Session,
        attempt: Attempt | None,
        exchange: Exchange,
        now: dt.datetime,
    ) -> Digests:
        """Archive the attempt's whole request and answer (redacted) apart from
        the chain; their digests go into its audit entry."""
        request = redact(exchange.request_text) if exchange.request_text else None
        response = redact(exchange.response_text) if exchange.response_text else None
        if attempt is None:
            return Digests(sha256_text(request), sha256_text(response))
        limit = self.runtime.settings.audit.archive_max_bytes
        return archive_attempt(session, attempt.id, request, response, now, limit)

    def _audit(
        self,
        session: Session,
        claim: Claim,
        verdict: Verdict,
        exchange: Exchange,
        digests: Digests,
    ) -> None:
        self.runtime.audit.record(
            session,
            AuditRecord(
                actor="ponte-worker",
                channel="worker",
                action="deliver",
                outcome=verdict.outcome.value,
                record_type="delivery",
                record_id=claim.delivery_id,
                fault_code=verdict.error_class,
                correlation_id=claim.message_id,
                duration_ms=exchange.duration_ms,
                request_sha256=digests.request_sha256,
                response_sha256=digests.response_sha256,
                detail={
                    "target": claim.target,
                    "event": claim.event_id,
                    "attempt": claim.number,
                    "http_status": exchange.http_status,
                    "result": verdict.result,
                    "error": verdict.detail,
                    "trigger": claim.trigger or "schedule",
                    "operator": claim.operator,
                    "reconciled": exchange.reconciled,
                },
            ),
        )


def _held_back_by_earlier() -> ColumnElement[bool]:
    """SQL: an earlier delivery to the same target with the same key is unsettled."""
    earlier = aliased(Delivery)
    return exists().where(
        earlier.target == Delivery.target,
        earlier.business_key == Delivery.business_key,
        earlier.status.not_in(SETTLED),
        or_(
            earlier.created_at < Delivery.created_at,
            and_(earlier.created_at == Delivery.created_at, earlier.id < Delivery.id),
        ),
    )


def _target_disabled() -> ColumnElement[bool]:
    return exists().where(
        TargetState.name == Delivery.target, TargetState.enabled.is_(False)
    )


def _open_claim(session: Session, delivery: Delivery, now: dt.datetime) -> Claim:
    """Write the attempt's first row and gather what the call needs."""
    previous = session.scalars(
        select(Attempt.outcome)
        .where(Attempt.delivery_id == delivery.id)
        .order_by(Attempt.number.desc())
        .limit(1)
    ).first()
    attempt = Attempt(
        delivery_id=delivery.id,
        number=delivery.attempt_count,
        started_at=now,
        outcome="started",
    )
    session.add(attempt)
    control = session.get(DeliveryControl, delivery.id)
    trigger, operator = _take_trigger(session, control, attempt, now)
    reactions.attempt_started(session, delivery, now)
    base = control.schedule_base if control is not None else 0
    return Claim(
        delivery_id=delivery.id,
        target=delivery.target,
        number=delivery.attempt_count,
        message_id=delivery.message_id,
        event_id=delivery.event_id,
        event_type=delivery.event.type,
        body=delivery.event.body,
        schedule_number=delivery.attempt_count - base,
        reconcile_first=previous in UNSURE,
        trigger=trigger,
        operator=operator,
    )


def _take_trigger(
    session: Session,
    control: DeliveryControl | None,
    attempt: Attempt,
    now: dt.datetime,
) -> tuple[str | None, str | None]:
    """An operator's request for this attempt, recorded on it and then cleared."""
    if control is None or control.trigger is None:
        return None, None
    trigger, operator = control.trigger, control.triggered_by or "unknown"
    session.flush()  # the attempt's id
    session.add(
        AttemptTrigger(
            attempt_id=attempt.id,
            trigger=trigger,
            operator=operator,
            resend_request_id=control.resend_request_id,
        )
    )
    control.trigger = control.triggered_by = control.resend_request_id = None
    control.updated_at = now
    return trigger, operator


def _interrupted_entry(delivery: Delivery, attempt: Attempt) -> AuditRecord:
    """The audit entry of an attempt a stopped worker left unfinished."""
    return AuditRecord(
        actor="ponte-worker",
        channel="worker",
        action="deliver",
        outcome="interrupted",
        record_type="delivery",
        record_id=delivery.id,
        fault_code="interrupted",
        correlation_id=delivery.message_id,
        detail={
            "target": delivery.target,
            "event": delivery.event_id,
            "attempt": attempt.number,
            "error": attempt.detail,
        },
    )


def _fill_attempt(
    attempt: Attempt, verdict: Verdict, exchange: Exchange, now: dt.datetime
) -> None:
    attempt.finished_at = now
    attempt.outcome = verdict.outcome.value
    attempt.http_status = exchange.http_status or verdict.http_status
    attempt.error_class = verdict.error_class
    attempt.detail = verdict.detail
    attempt.duration_ms = exchange.duration_ms
    attempt.request_text = for_record(exchange.request_text)
    attempt.response_text = for_record(exchange.response_text)


def _settle(
    session: Session,
    delivery: Delivery,
    verdict: Verdict,
    wake: dt.datetime | None,
    now: dt.datetime,
    outbox: Outbox,
) -> None:
    """Move the delivery (and the record it carries) by the attempt's verdict."""
    delivery.updated_at = now
    delivered = verdict.outcome is Outcome.DELIVERED
    delivery.last_error = None if delivered else verdict.detail
    if delivered:
        delivery.status = "delivered"
        delivery.result = verdict.result
        delivery.next_attempt_at = None
        reactions.delivered(session, delivery, verdict.result, now, outbox)
    elif verdict.outcome is Outcome.SKIPPED:
        delivery.status = "skipped"
        delivery.next_attempt_at = None
    elif wake is None:
        delivery.status = "parked"
        delivery.next_attempt_at = None
        reactions.parked(session, delivery, now)
    else:
        delivery.status = "pending"
        delivery.next_attempt_at = wake


def _configured(
    targets: Collection[TargetSettings], name: str
) -> TargetSettings | None:
    return next((t for t in targets if t.name == name), None)


def _open_attempt(session: Any, delivery: Delivery) -> Attempt | None:
    return session.scalars(
        select(Attempt).where(
            Attempt.delivery_id == delivery.id, Attempt.finished_at.is_(None)
        )
    ).first()


def _log_failure(future: Future[bool]) -> None:
    error = future.exception()
    if error is not None:
        log.error("delivery attempt failed", exc_info=error)
