"""The delivery worker against a fake caller plugged into its seam."""

from __future__ import annotations

import datetime as dt
import random
from collections import deque
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from adapter.app.context import CallContext
from adapter.config import TargetSettings
from adapter.delivery.policy import Outcome, RetryPolicy, classify_error
from adapter.delivery.worker import DeliveryWorker
from adapter.domain.parties import validate_party
from adapter.domain.payments import validate_payment_order
from adapter.errors import HttpStatusError, RemoteFault, TransportError
from adapter.outbound.caller import CallResult
from adapter.runtime import Runtime
from adapter.storage.models import Attempt, Delivery

CALL = CallContext(actor="erp", channel="soap", operation="test")


@dataclass
class FakeCaller:
    """Answers from a script: a result string, or an exception to raise."""

    script: deque[object] = field(default_factory=deque)
    calls: list[tuple[str, dict[str, str], str]] = field(default_factory=list)

    def prepare(self, target: TargetSettings) -> None:
        pass

    def prepare_key(self, target: TargetSettings) -> None:
        pass

    def call(
        self, target: TargetSettings, params: dict[str, str], *, message_id: str
    ) -> CallResult:
        self.calls.append((target.name, params, message_id))
        step = self.script.popleft() if self.script else "1;1"
        if isinstance(step, Exception):
            raise step
        return CallResult(step, 200, 3)


class Clock:
    def __init__(self) -> None:
        # Start from the real time: approvals stamp their events with it.
        self.now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def approved_order(runtime: Runtime) -> str:
    runtime.parties.upsert(
        CALL, validate_party("SAP", "V", "company", "ACME", "11.222.333/0001-81")
    )
    order, _ = runtime.legal.create_payment_order(
        CALL,
        validate_payment_order(
            source_system="SAP",
            external_id="PO",
            lawsuit_number="0058967-77.2016.8.19.0000",
            type="court_costs",
            beneficiary_tax_id="11222333000181",
            amount="42.00",
            due_date=dt.date(2026, 12, 31),
            cost_center="CC",
            description="Custas",
        ),
    )
    runtime.legal.approve_payment_order(CALL, order.id)
    return order.id


def make_worker(
    runtime: Runtime, *steps: object
) -> tuple[DeliveryWorker, FakeCaller, Clock]:
    caller = FakeCaller(deque(steps))
    clock = Clock()
    worker = DeliveryWorker(runtime, caller, clock=clock, rng=random.Random(1))  # type: ignore[arg-type]
    worker.prepare()
    return worker, caller, clock


def delivery_state(runtime: Runtime) -> tuple[str, int, list[str]]:
    with runtime.db.transaction() as session:
        d = session.scalars(select(Delivery)).one()
        outcomes = session.scalars(
            select(Attempt.outcome).order_by(Attempt.number)
        ).all()
        return d.status, d.attempt_count, list(outcomes)


def test_delivered_order_becomes_registered_with_the_erp_key(runtime: Runtime) -> None:
    order_id = approved_order(runtime)
    worker, caller, _ = make_worker(runtime, "1;5001")
    assert worker.run_due() == 1
    assert delivery_state(runtime) == ("delivered", 1, ["delivered"])
    order = runtime.legal.get_payment_order(CALL, order_id)
    assert (order.status, order.erp_document) == ("registered", "1;5001")
    _, params, message_id = caller.calls[0]
    assert params["DataServerName"] == "FinLanDataBR"
    assert "<VALORORIGINAL>42.00</VALORORIGINAL>" in params["XML"]
    assert "<CGCCFO>11222333000181</CGCCFO>" in params["XML"]
    assert message_id.startswith("urn:uuid:")


def test_passing_failure_waits_for_the_schedule_then_succeeds(runtime: Runtime) -> None:
    approved_order(runtime)
    worker, caller, clock = make_worker(runtime, TransportError("refused"), "1;7")
    worker.run_due()
    assert delivery_state(runtime) == ("pending", 1, ["retry"])
    clock.advance(4)
    assert worker.run_due() == 0  # the 5 s delay has not passed
    clock.advance(2)
    assert worker.run_due() == 1
    assert delivery_state(runtime) == ("delivered", 2, ["retry", "delivered"])
    assert caller.calls[0][2] == caller.calls[1][2]  # same message id on every attempt


def test_exhausted_schedule_parks_the_delivery(runtime: Runtime) -> None:
    order_id = approved_order(runtime)
    failures = [HttpStatusError(503, "SaveRecord") for _ in range(3)]
    worker, _, clock = make_worker(runtime, *failures)
    for _ in range(3):
        worker.run_due()
        clock.advance(61)
    assert delivery_state(runtime) == ("parked", 3, ["retry", "retry", "parked"])
    assert runtime.legal.get_payment_order(CALL, order_id).status == "erp_rejected"


def test_rm_error_text_parks_without_retry(runtime: Runtime) -> None:
    approved_order(runtime)
    worker, caller, clock = make_worker(
        runtime, "Violação de chave estrangeira\r\n at RM.Lib"
    )
    worker.run_due()
    clock.advance(3600)
    worker.run_due()
    assert delivery_state(runtime) == ("parked", 1, ["parked"])
    assert len(caller.calls) == 1


def test_interrupted_attempt_is_recovered_and_retried(runtime: Runtime) -> None:
    approved_order(runtime)
    worker, _, _ = make_worker(runtime)
    worker._claim(runtime_delivery_id(runtime))  # the process dies after claiming
    assert delivery_state(runtime) == ("in_flight", 1, ["started"])
    assert worker.recover() == 1
    worker.run_due()
    assert delivery_state(runtime) == ("delivered", 2, ["interrupted", "delivered"])


def test_attempt_whose_outcome_was_lost_is_recovered_while_running(
    runtime: Runtime,
) -> None:
    approved_order(runtime)
    worker, _, clock = make_worker(runtime)
    worker._claim(runtime_delivery_id(runtime))  # the outcome never gets recorded
    clock.advance(60)
    assert worker.run_due() == 0  # still within the call's time budget
    clock.advance(120)
    assert worker.run_due() == 1
    assert delivery_state(runtime) == ("delivered", 2, ["interrupted", "delivered"])


def runtime_delivery_id(runtime: Runtime) -> str:
    with runtime.db.transaction() as session:
        return session.scalars(select(Delivery.id)).one()


def test_only_one_worker_holds_the_lease(runtime: Runtime) -> None:
    first, _, _ = make_worker(runtime)
    second, _, _ = make_worker(runtime)
    second.holder = "other-host:1"
    assert first.acquire_lease() is True
    assert second.acquire_lease() is False
    first.release_lease()
    assert second.acquire_lease() is True


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (TransportError("connection refused"), Outcome.RETRY),
        (TransportError("timed out waiting for the answer", sent=True), Outcome.RETRY),
        (HttpStatusError(503, "op"), Outcome.RETRY),
        (HttpStatusError(429, "op"), Outcome.RETRY),
        (HttpStatusError(401, "op"), Outcome.PARKED),
        (HttpStatusError(404, "op"), Outcome.PARKED),
        (RemoteFault("s:Server", "busy", "op"), Outcome.RETRY),
        (RemoteFault("s:Client", "sem permissão", "op"), Outcome.PARKED),
        (RemoteFault("soap:Sender", "bad", "op"), Outcome.PARKED),
    ],
)
def test_outcome_classification(error: Exception, outcome: Outcome) -> None:
    assert classify_error(error).outcome is outcome


def test_retry_delays_stay_within_the_jitter_band() -> None:
    policy = RetryPolicy((5, 60, 300), jitter=0.2)
    rng = random.Random(7)
    delays = [policy.delay_after(2, rng) for _ in range(200)]
    assert all(d is not None and 48 <= d <= 72 for d in delays)
    assert len({round(d or 0, 3) for d in delays}) > 100  # really spread
    assert policy.delay_after(4, rng) is None


def test_retry_after_reads_seconds_and_http_dates() -> None:
    import datetime as dt

    from adapter.outbound.retry_after import parse_retry_after

    now = dt.datetime(2026, 12, 3, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Thu, 03 Dec 2026 12:01:30 GMT", now) == 90.0
    assert parse_retry_after("Thu, 03 Dec 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
