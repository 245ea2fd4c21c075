"""The delivery engine: ordering, limits, target health, reconciliation, HTTP
targets and what attempts record, against fakes plugged into the callers'
seams (no sockets) and an injected clock."""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapter.audit.writer import AuditWriter
from adapter.config import TargetSettings
from adapter.delivery import operations
from adapter.delivery.limits import TokenBucket
from adapter.delivery.outbox import Outbox
from adapter.delivery.worker import DeliveryWorker
from adapter.domain.events import Event
from adapter.errors import ConflictError, HttpStatusError, RemoteFault, TransportError
from adapter.outbound.caller import CallResult
from adapter.runtime import Runtime, build_runtime, subscriptions_of
from adapter.storage.models import Attempt, AuditEntry, Delivery
from adapter.storage.models_delivery import AttemptTrigger, TargetState
from tests.unit.conftest import MAPPING, make_settings

EVENT_BODY = (
    b'<ev:event xmlns:ev="urn:ponte:events:v1"><ev:id>e</ev:id>'
    b"<ev:paymentOrder><ev:externalId>PO-9</ev:externalId>"
    b"<ev:beneficiary><ev:taxId>12345678909</ev:taxId></ev:beneficiary>"
    b"</ev:paymentOrder></ev:event>"
)
T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def soap_target(**extra: Any) -> dict[str, Any]:
    values = {
        "name": "rm-finance",
        "wsdl": "unused.wsdl",
        "mapping": str(MAPPING),
        "params": {"DataServerName": "FinLanDataBR", "Contexto": "CODCOLIGADA=1"},
        "events": [
            "payment_order.approved",
            "provision.changed",
            "person.unflagged",
            "lawsuit.closed",
        ],
    }
    return values | extra


def http_target(**extra: Any) -> dict[str, Any]:
    values = {
        "name": "hooks",
        "kind": "http",
        "url": "https://receiver.example/ponte",
        "events": ["payment_order.approved"],
    }
    return values | extra


@pytest.fixture
def build(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Runtime]]:
    """Runtimes with chosen targets and schedule (jitter 0 unless given)."""
    made: list[Runtime] = []

    def make(*targets: dict[str, Any], **delivery: Any) -> Runtime:
        settings = make_settings(
            tmp_path,
            database_url,
            targets=list(targets) or [soap_target()],
            delivery={"schedule_seconds": [5, 60], "jitter": 0.0} | delivery,
        )
        runtime = build_runtime(settings)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.db.dispose()


class Clock:
    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self.now

    def advance(self, **delta: float) -> None:
        with self._lock:
            self.now += dt.timedelta(**delta)


Answer = Callable[[str, str], object]


@dataclass
class Caller:
    """A SOAP seam: ``answer(delivery_id, operation)`` is a result or an error."""

    answer: Answer = lambda delivery_id, operation: "1;1"
    calls: list[tuple[str, str]] = field(default_factory=list)
    params: list[dict[str, str]] = field(default_factory=list)
    gate: threading.Event | None = None
    active: int = 0
    most_active: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def prepare(self, target: TargetSettings) -> None:
        pass

    def prepare_key(self, target: TargetSettings) -> None:
        pass

    def call(
        self,
        target: TargetSettings,
        params: dict[str, str],
        *,
        message_id: str,
        operation: str | None = None,
    ) -> CallResult:
        delivery_id = message_id.removeprefix("urn:uuid:")
        name = operation or target.operation
        if name == "ReadView":
            delivery_id = params["Filtro"]
        with self._lock:
            self.calls.append((delivery_id, name))
            self.params.append(params)
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            if self.gate is not None:
                assert self.gate.wait(10), "the test never opened the gate"
            step = self.answer(delivery_id, name)
        finally:
            with self._lock:
                self.active -= 1
        if isinstance(step, Exception):
            raise step
        if isinstance(step, CallResult):
            return step
        return CallResult(step, 200, 3)

    def sent(self) -> list[str]:
        return [d for d, op in self.calls if op != "ReadView"]


@dataclass
class HttpCaller:
    answers: list[object] = field(default_factory=list)
    calls: list[tuple[str, bytes, str, str]] = field(default_factory=list)

    def prepare(self, target: TargetSettings) -> None:
        pass

    def call(
        self, target: TargetSettings, body: bytes, *, message_id: str, event_type: str
    ) -> CallResult:
        self.calls.append((target.name, body, message_id, event_type))
        step = self.answers.pop(0) if self.answers else "accepted"
        if isinstance(step, Exception):
            raise step
        return CallResult(step, 204, 2, "POST https://receiver.example/ponte", "")


def worker_for(
    runtime: Runtime,
    caller: Caller | None = None,
    *,
    clock: Clock | None = None,
    http: HttpCaller | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryWorker:
    worker = DeliveryWorker(
        runtime,
        caller or Caller(),  # type: ignore[arg-type]
        http_caller=http or HttpCaller(),  # type: ignore[arg-type]
        clock=clock or Clock(),
        rng=random.Random(1),
        sleep=sleep,
    )
    worker.prepare()
    return worker


def enqueue(
    runtime: Runtime,
    key: str,
    *,
    event_type: str = "payment_order.approved",
    at: dt.datetime = T0,
    body: bytes = EVENT_BODY,
) -> list[str]:
    """Write one event; returns its deliveries' ids (one per subscribed target)."""
    event = Event(str(uuid.uuid4()), event_type, 1, key, at, body)
    outbox = Outbox(subscriptions_of(runtime.settings))
    with runtime.db.transaction() as session:
        outbox.enqueue(session, event)
        session.flush()
        return list(
            session.scalars(select(Delivery.id).where(Delivery.event_id == event.id))
        )


def status(runtime: Runtime, delivery_id: str) -> str:
    with runtime.db.transaction() as session:
        return session.get_one(Delivery, delivery_id).status


def attempts(runtime: Runtime, delivery_id: str) -> list[Attempt]:
    with runtime.db.transaction() as session:
        return list(
            session.scalars(
                select(Attempt)
                .where(Attempt.delivery_id == delivery_id)
                .order_by(Attempt.number)
            )
        )


def target_state(runtime: Runtime, name: str = "rm-finance") -> TargetState:
    with runtime.db.transaction() as session:
        return session.get_one(TargetState, name)


def operator(runtime: Runtime, name: str, clock: Clock) -> operations.Actor:
    return operations.Actor(name, AuditWriter(), clock())


# Ordering per business key


def test_later_delivery_with_the_same_key_waits_for_the_earlier(
    build: Callable[..., Runtime],
) -> None:
    runtime = build()
    [first] = enqueue(runtime, "payment_order:A")
    [second] = enqueue(runtime, "payment_order:A", at=T0 + dt.timedelta(seconds=1))
    [other] = enqueue(runtime, "payment_order:B", at=T0 + dt.timedelta(seconds=2))
    caller = Caller(fail_first(first, HttpStatusError(503, "SaveRecord")))
    clock = Clock(T0 + dt.timedelta(seconds=3))
    worker = worker_for(runtime, caller, clock=clock)

    worker.run_due()
    assert sorted(caller.sent()) == sorted([first, other])
    assert status(runtime, second) == "pending" and not attempts(runtime, second)

    clock.advance(seconds=6)
    worker.run_due()  # the first is delivered now, in this round
    worker.run_due()
    assert caller.sent()[-1] == second
    assert status(runtime, second) == "delivered"


def fail_first(delivery_id: str, error: Exception) -> Answer:
    """The first call for ``delivery_id`` fails with ``error``; the rest succeed."""
    failed: list[str] = []

    def answer(called: str, operation: str) -> object:
        if called == delivery_id and not failed:
            failed.append(called)
            return error
        return "1;1"

    return answer


def test_parked_earlier_delivery_no_longer_holds_back_the_later(
    build: Callable[..., Runtime],
) -> None:
    runtime = build()
    [first] = enqueue(runtime, "payment_order:A")
    [second] = enqueue(runtime, "payment_order:A", at=T0 + dt.timedelta(seconds=1))
    refusal = RemoteFault("s:Client", "sem permissão", "SaveRecord")
    caller = Caller(lambda d, op: refusal if d == first else "1;2")
    worker = worker_for(runtime, caller, clock=Clock(T0 + dt.timedelta(seconds=2)))

    assert worker.run_due() == 1
    assert status(runtime, first) == "parked"
    assert worker.run_due() == 1
    assert status(runtime, second) == "delivered"


def test_tie_on_creation_time_is_broken_by_id(build: Callable[..., Runtime]) -> None:
    runtime = build()
    ids = enqueue(runtime, "contract:C", event_type="payment_order.approved")
    ids += enqueue(runtime, "contract:C", event_type="payment_order.approved")
    caller = Caller()
    worker = worker_for(runtime, caller, clock=Clock(T0 + dt.timedelta(seconds=1)))
    worker.run_due()
    worker.run_due()
    assert caller.sent() == sorted(ids)


@pytest.mark.parametrize(
    ("ordered", "event_type", "together"),
    [
        (None, "payment_order.approved", False),
        (None, "person.unflagged", False),  # an unflag never overtakes its flag
        (None, "provision.changed", False),  # ledger order
        (None, "lawsuit.closed", True),  # not a family ordered by default
        (False, "payment_order.approved", True),
        (True, "lawsuit.closed", False),
    ],
)
def test_which_deliveries_keep_key_order(
    build: Callable[..., Runtime], ordered: bool | None, event_type: str, together: bool
) -> None:
    runtime = build(soap_target(ordered=ordered))
    for second in (0, 1):
        enqueue(
            runtime,
            "k:1",
            event_type=event_type,
            at=T0 + dt.timedelta(seconds=second),
        )
    caller = Caller()
    worker = worker_for(runtime, caller, clock=Clock(T0 + dt.timedelta(seconds=2)))
    assert worker.run_due() == (2 if together else 1)


# Calls in flight per target


def test_no_more_than_max_in_flight_calls_at_once(
    build: Callable[..., Runtime],
) -> None:
    runtime = build(soap_target(max_in_flight=2))
    ids = [enqueue(runtime, f"payment_order:{n}")[0] for n in range(5)]
    caller = Caller(gate=threading.Event())
    worker = worker_for(runtime, caller, clock=Clock(T0 + dt.timedelta(seconds=1)))
    try:
        futures = worker.dispatch_due()
        assert len(futures) == 2
        wait_for(lambda: caller.active == 2)
        assert worker.dispatch_due() == []  # both slots taken
        time.sleep(0.2)
        assert caller.active == 2
        assert caller.gate is not None
        caller.gate.set()
        assert all(f.result(timeout=10) for f in futures)
        while worker.run_due():
            pass
    finally:
        worker.close()
    assert caller.most_active == 2
    assert sorted(caller.sent()) == sorted(ids)
    assert {status(runtime, d) for d in ids} == {"delivered"}


def test_calls_to_one_target_run_in_parallel_up_to_the_limit(
    build: Callable[..., Runtime],
) -> None:
    runtime = build(soap_target(max_in_flight=3))
    for n in range(3):
        enqueue(runtime, f"payment_order:{n}")
    caller = Caller(gate=threading.Event())
    worker = worker_for(runtime, caller, clock=Clock(T0 + dt.timedelta(seconds=1)))
    try:
        futures = worker.dispatch_due()
        wait_for(lambda: caller.active == 3)
        assert caller.gate is not None
        caller.gate.set()
        assert [f.result(timeout=10) for f in futures] == [True, True, True]
    finally:
        worker.close()


def test_the_claim_keeps_a_second_worker_from_sending_it_again(
    build: Callable[..., Runtime],
) -> None:
    runtime = build()
    [delivery] = enqueue(runtime, "payment_order:A")
    caller = Caller(gate=threading.Event())
    clock = Clock(T0 + dt.timedelta(seconds=1))
    first, second = worker_for(runtime, caller, clock=clock), worker_for(runtime)
    try:
        [future] = first.dispatch_due()
        wait_for(lambda: caller.active == 1)
        assert second.attempt(delivery) is False  # in flight: not claimable
        assert caller.gate is not None
        caller.gate.set()
        assert future.result(timeout=10) is True
    finally:
        first.close()
    assert second.attempt(delivery) is False  # delivered
    assert caller.sent() == [delivery]


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


# Rate limit


def test_token_bucket_spaces_calls_by_the_rate() -> None:
    now = [100.0]
    bucket = TokenBucket(2.0, lambda: now[0])
    assert [bucket.reserve() for _ in range(4)] == [0.0, 0.5, 1.0, 1.5]
    now[0] = 110.0  # idle for long: the bucket holds one token, not twenty
    assert [bucket.reserve() for _ in range(2)] == [0.0, 0.5]
    now[0] = 110.25
    assert bucket.reserve() == pytest.approx(0.75)


def test_worker_waits_for_the_rate_limit_before_each_call(
    build: Callable[..., Runtime],
) -> None:
    runtime = build(soap_target(rate_limit_per_second=2.0, max_in_flight=4))
    for n in range(4):
        enqueue(runtime, f"payment_order:{n}")
    waits: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            waits.append(seconds)

    caller = Caller()
    clock = Clock(T0 + dt.timedelta(seconds=1))
    worker = worker_for(runtime, caller, clock=clock, sleep=sleep)
    try:
        assert worker.run_due() == 4
    finally:
        worker.close()
    assert sorted(waits) == [0.5, 1.0, 1.5]


# Target health


def test_target_failing_for_72_hours_is_disabled_and_its_deliveries_wait(
    build: Callable[..., Runtime], caplog: pytest.LogCaptureFixture
) -> None:
    runtime = build(schedule_seconds=[12 * 3600] * 20)
    [delivery] = enqueue(runtime, "payment_order:A")
    down = TransportError("rm: connection failed: refused", sent=False)
    caller = Caller(lambda d, op: down)
    clock = Clock(T0)
    worker = worker_for(runtime, caller, clock=clock)

    for _ in range(6):  # 0 h, 12 h, ... 60 h
        assert worker.run_due() == 1
        clock.advance(hours=12)
    assert target_state(runtime).enabled is True
    assert target_state(runtime).failing_since == T0

    with caplog.at_level(logging.WARNING, logger="ponte.delivery"):
        assert worker.run_due() == 1  # 72 h: the limit
    state = target_state(runtime)
    assert (state.enabled, state.disabled_by) == (False, "ponte-worker")
    assert state.disabled_reason and "72" in state.disabled_reason
    assert "target rm-finance disabled" in caplog.text
    with runtime.db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "targets.disable")
        ).one()
        assert (entry.actor, entry.channel, entry.record_id) == (
            "ponte-worker",
            "worker",
            "rm-finance",
        )

    clock.advance(hours=30)
    assert worker.run_due() == 0  # disabled: waits, neither tried nor parked
    assert status(runtime, delivery) == "pending"
    assert len(attempts(runtime, delivery)) == 7

    with runtime.db.transaction() as session:
        operations.set_enabled(
            session,
            runtime.settings,
            operator(runtime, "alice", clock),
            "rm-finance",
            True,
            "RM is back",
        )
    caller.answer = lambda d, op: "1;77"
    assert worker.run_due() == 1
    assert status(runtime, delivery) == "delivered"
    assert target_state(runtime).enabled is True
    assert target_state(runtime).failing_since is None


def test_a_success_resets_the_failure_clock(build: Callable[..., Runtime]) -> None:
    runtime = build(schedule_seconds=[3600] * 5)
    failing = enqueue(runtime, "payment_order:A")[0]
    down = HttpStatusError(503, "SaveRecord")
    caller = Caller(lambda d, op: down if d == failing else "1;1")
    clock = Clock(T0)
    worker = worker_for(runtime, caller, clock=clock)
    worker.run_due()
    assert target_state(runtime).failing_since == T0

    clock.advance(minutes=30)
    enqueue(runtime, "payment_order:B", at=clock())
    worker.run_due()
    assert target_state(runtime).failing_since is None


def test_a_refusal_neither_starts_nor_stops_the_failure_clock(
    build: Callable[..., Runtime],
) -> None:
    runtime = build()
    enqueue(runtime, "payment_order:A")
    refusal = RemoteFault("s:Client", "sem permissão", "SaveRecord")
    worker = worker_for(runtime, Caller(lambda d, op: refusal), clock=Clock(T0))
    worker.run_due()
    assert target_state(runtime).failing_since is None


def test_operator_disables_and_enables_with_audit_entries(
    build: Callable[..., Runtime],
) -> None:
    runtime = build()
    clock = Clock(T0)
    alice = operator(runtime, "alice", clock)
    with runtime.db.transaction() as session:
        operations.set_enabled(
            session, runtime.settings, alice, "rm-finance", False, "RM upgrade"
        )
    with (
        pytest.raises(ConflictError, match="already disabled"),
        runtime.db.transaction() as session,
    ):
        operations.set_enabled(
            session, runtime.settings, alice, "rm-finance", False, "again"
        )
    enqueue(runtime, "payment_order:A")
    worker = worker_for(runtime, clock=Clock(T0 + dt.timedelta(seconds=1)))
    assert worker.run_due() == 0
    with runtime.db.transaction() as session:
        operations.set_enabled(session, runtime.settings, alice, "rm-finance", True)
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor == "alice")
        ).all()
    assert actions == ["targets.disable", "targets.enable"]
    assert worker.run_due() == 1


# Uncertain attempts: ask the ERP first


def readview(rows: str = "") -> str:
    return f"<NewDataSet>{rows}</NewDataSet>"


FOUND_ROW = (
    "<FLAN><CODCOLIGADA>1</CODCOLIGADA><IDLAN>4242</IDLAN>"
    "<NUMERODOCUMENTO>PO-9</NUMERODOCUMENTO></FLAN>"
)


def uncertain_then(read: object, send: object = "1;9") -> Caller:
    """The first SaveRecord times out after sending; then ReadView and SaveRecord."""
    timeout = TransportError("rm: timed out waiting for the answer", sent=True)
    state = {"saves": 0}

    def answer(delivery_id: str, operation: str) -> object:
        if operation == "ReadView":
            return read
        state["saves"] += 1
        return timeout if state["saves"] == 1 else send

    return Caller(answer)


def test_uncertain_attempt_waits_a_minute_then_finds_the_document(
    build: Callable[..., Runtime],
) -> None:
    runtime = build()
    [delivery] = enqueue(runtime, "payment_order:A")
    caller = uncertain_then(readview(FOUND_ROW))
    clock = Clock(T0 + dt.timedelta(seconds=1))
    worker = worker_for(runtime, caller, clock=clock)

    worker.run_due()
    assert [a.outcome for a in attempts(runtime, delivery)] == ["uncertain"]
    clock.advance(seconds=59)
    assert worker.run_due() == 0  # a timeout waits at least 60 s, not 5
    clock.advance(seconds=2)
    assert worker.run_due() == 1

    assert caller.sent() == [delivery]  # never sent again
    [read] = [p for p in caller.params if "Filtro" in p]
    assert read["Filtro"] == ("FLAN.CODCOLIGADA = 1 AND FLAN.NUMERODOCUMENTO = 'PO-9'")
    assert read["DataServerName"] == "FinLanDataBR"
    with runtime.db.transaction() as session:
        d = session.get_one(Delivery, delivery)
        assert (d.status, d.result) == ("delivered", "1;4242")
    second = attempts(runtime, delivery)[1]
    assert second.outcome == "delivered"
    assert second.detail and second.detail.startswith("reconciled: RM has the record")


def test_document_not_found_is_sent_again_with_the_same_message_id(
    build: Callable[..., Runtime],
) -> None:
    runtime = build()
    [delivery] = enqueue(runtime, "payment_order:A")
    caller = uncertain_then(readview())
    clock = Clock(T0 + dt.timedelta(seconds=1))
    worker = worker_for(runtime, caller, clock=clock)
    worker.run_due()
    clock.advance(seconds=61)
    worker.run_due()
    assert caller.sent() == [delivery, delivery]
    assert [op for _, op in caller.calls] == ["SaveRecord", "ReadView", "SaveRecord"]
    second = attempts(runtime, delivery)[1]
    assert second.outcome == "delivered"
    assert second.detail and "asked first: RM has no FLAN" in second.detail


def test_unknown_answer_to_the_question_retries_normally(
    build: Callable[..., Runtime],
) -> None:
    runtime = build()
    [delivery] = enqueue(runtime, "payment_order:A")
    caller = uncertain_then(RemoteFault("s:Server", "busy", "ReadView"))
    clock = Clock(T0 + dt.timedelta(seconds=1))
    worker = worker_for(runtime, caller, clock=clock)
    worker.run_due()
    clock.advance(seconds=61)
    worker.run_due()
    assert caller.sent() == [delivery, delivery]
    assert status(runtime, delivery) == "delivered"


def test_an_exhausted_uncertain_attempt_stays_uncertain_on_record(
    build: Callable[..., Runtime],
) -> None:
    runtime = build(schedule_seconds=[5])
    [delivery] = enqueue(runtime, "payment_order:A")
    timeout = TransportError("rm: timed out waiting for the answer", sent=True)
    clock = Clock(T0 + dt.timedelta(seconds=1))
    worker = worker_for(runtime, Caller(lambda d, op: timeout), clock=clock)
    worker.run_due()
    clock.advance(seconds=61)
    worker.run_due()
    assert status(runtime, delivery) == "parked"
    assert [a.outcome for a in attempts(runtime, delivery)] == [
        "uncertain",
        "uncertain",
    ]


# HTTP targets


def test_http_target_receives_the_canonical_event_without_a_mapping(
    build: Callable[..., Runtime],
) -> None:
    runtime = build(http_target())
    [delivery] = enqueue(runtime, "payment_order:A")
    http = HttpCaller()
    worker = worker_for(runtime, http=http, clock=Clock(T0 + dt.timedelta(seconds=1)))
    assert worker.run_due() == 1
    [(name, body, message_id, event_type)] = http.calls
    assert (name, body, event_type) == ("hooks", EVENT_BODY, "payment_order.approved")
    assert message_id == f"urn:uuid:{delivery}"
    with runtime.db.transaction() as session:
        d = session.get_one(Delivery, delivery)
        assert (d.status, d.result) == ("delivered", None)


def test_http_target_with_a_mapping_receives_the_mapped_document(
    build: Callable[..., Runtime],
) -> None:
    runtime = build(http_target(mapping=str(MAPPING)))
    enqueue(runtime, "payment_order:A")
    http = HttpCaller()
    worker = worker_for(runtime, http=http, clock=Clock(T0 + dt.timedelta(seconds=1)))
    worker.run_due()
    body = http.calls[0][1]
    assert body.startswith(b"<?xml") and b"<NUMERODOCUMENTO>PO-9<" in body


def test_http_failures_follow_the_same_table_and_are_not_reconciled(
    build: Callable[..., Runtime],
) -> None:
    runtime = build(http_target())
    [delivery] = enqueue(runtime, "payment_order:A")
    timeout = TransportError("hooks: timed out waiting for the answer", sent=True)
    http = HttpCaller([timeout, HttpStatusError(503, "POST"), "ok"])
    clock = Clock(T0 + dt.timedelta(seconds=1))
    worker = worker_for(runtime, http=http, clock=clock)
    for _ in range(3):
        worker.run_due()
        clock.advance(seconds=120)
    assert [a.outcome for a in attempts(runtime, delivery)] == [
        "uncertain",
        "retry",
        "delivered",
    ]
    assert len(http.calls) == 3


# What attempts record


def test_attempt_keeps_the_exchange_redacted_and_cut(
    build: Callable[..., Runtime],
) -> None:
    runtime = build()
    [delivery] = enqueue(runtime, "payment_order:A")
    sent = (
        "POST https://rm.example.com/wsDataServer/IwsDataServer\n"
        "Authorization: Basic cG9udGU6czNjcmV0\n\n"
        "<s:Envelope><wsse:BinarySecurityToken>MIIBsecret</wsse:BinarySecurityToken>"
        "<XML>&lt;FinLAN/&gt;</XML></s:Envelope>"
    )
    answer = "HTTP 200 OK\n\n" + "<SaveRecordResult>1;5</SaveRecordResult>" * 3000
    caller = Caller(lambda d, op: CallResult("1;5", 200, 41, sent, answer))
    worker_for(runtime, caller, clock=Clock(T0 + dt.timedelta(seconds=1))).run_due()
    [attempt] = attempts(runtime, delivery)
    assert attempt.request_text is not None and attempt.response_text is not None
    assert "cG9udGU6czNjcmV0" not in attempt.request_text
    assert "MIIBsecret" not in attempt.request_text
    assert "<XML>&lt;FinLAN/&gt;</XML>" in attempt.request_text
    assert len(attempt.response_text.encode()) <= 64 * 1024
    assert (attempt.http_status, attempt.duration_ms) == (200, 41)


def test_failed_attempt_keeps_what_the_error_carried(
    build: Callable[..., Runtime],
) -> None:
    runtime = build()
    [delivery] = enqueue(runtime, "payment_order:A")
    failure = HttpStatusError(503, "SaveRecord")
    failure.response_text = "HTTP 503 Service Unavailable\n\n<HTML>busy</HTML>"
    vars(failure)["request_text"] = "POST https://rm\nAuthorization: Basic abc"
    worker = worker_for(
        runtime,
        Caller(lambda d, op: failure),
        clock=Clock(T0 + dt.timedelta(seconds=1)),
    )
    worker.run_due()
    [attempt] = attempts(runtime, delivery)
    assert (attempt.outcome, attempt.http_status, attempt.error_class) == (
        "retry",
        503,
        "http_status",
    )
    assert attempt.response_text == failure.response_text
    assert attempt.request_text == "POST https://rm\nAuthorization: ***"


def test_one_info_line_per_attempt_names_ids_and_outcome_not_the_payload(
    build: Callable[..., Runtime], caplog: pytest.LogCaptureFixture
) -> None:
    runtime = build()
    [delivery] = enqueue(runtime, "payment_order:A")
    worker = worker_for(runtime, clock=Clock(T0 + dt.timedelta(seconds=1)))
    with caplog.at_level(logging.INFO, logger="ponte.delivery"):
        worker.run_due()
    lines = [r.getMessage() for r in caplog.records if r.name == "ponte.delivery"]
    [line] = [x for x in lines if x.startswith("deliver ")]
    assert f"delivery={delivery}" in line and f"message_id=urn:uuid:{delivery}" in line
    assert "outcome=delivered" in line and "attempt=1" in line
    assert "12345678909" not in caplog.text and "FinLAN" not in caplog.text


# Operator actions and the schedule


def test_release_starts_the_schedule_over_and_retry_does_not(
    build: Callable[..., Runtime],
) -> None:
    runtime = build(schedule_seconds=[5])
    [delivery] = enqueue(runtime, "provision:P", event_type="provision.changed")
    down = HttpStatusError(503, "SaveRecord")
    clock = Clock(T0 + dt.timedelta(seconds=1))
    worker = worker_for(runtime, Caller(lambda d, op: down), clock=clock)
    worker.run_due()
    clock.advance(seconds=6)
    worker.run_due()
    assert status(runtime, delivery) == "parked"

    with runtime.db.transaction() as session:
        operations.retry(
            session, runtime.settings, operator(runtime, "bob", clock), delivery
        )
    worker.run_due()
    assert status(runtime, delivery) == "parked"  # still past its last retry

    with runtime.db.transaction() as session:
        operations.release(
            session, runtime.settings, operator(runtime, "bob", clock), delivery
        )
    worker.run_due()
    assert status(runtime, delivery) == "pending"  # its one retry is back
    with runtime.db.transaction() as session:
        triggers = session.scalars(select(AttemptTrigger.trigger)).all()
    assert sorted(triggers) == ["release", "retry"]


def test_resending_a_payment_order_that_may_be_posted_needs_another_operator(
    build: Callable[..., Runtime],
) -> None:
    runtime = build(schedule_seconds=[5])
    [delivery] = enqueue(runtime, "payment_order:A")
    clock = Clock(T0 + dt.timedelta(seconds=1))
    worker = worker_for(
        runtime,
        uncertain_then(
            readview(), send=RemoteFault("s:Client", "duplicado", "SaveRecord")
        ),
        clock=clock,
    )
    worker.run_due()
    clock.advance(seconds=61)
    worker.run_due()
    assert status(runtime, delivery) == "parked"

    alice, bob = operator(runtime, "alice", clock), operator(runtime, "bob", clock)
    with runtime.db.transaction() as session:
        done = operations.retry(session, runtime.settings, alice, delivery)
    assert done.done == "approval_requested" and done.request_id
    assert status(runtime, delivery) == "parked"
    with (
        pytest.raises(ConflictError, match="a different operator"),
        runtime.db.transaction() as session,
    ):
        operations.approve(session, runtime.settings, alice, done.request_id)
    with runtime.db.transaction() as session:
        operations.approve(session, runtime.settings, bob, done.request_id)
    assert status(runtime, delivery) == "pending"
