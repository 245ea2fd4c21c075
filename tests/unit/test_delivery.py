"""The delivery worker against a fake caller plugged into its seam."""

from __future__ import annotations

import datetime as dt
import random
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
import zeep
from sqlalchemy import select

from adapter.app.context import CallContext
from adapter.config import TargetSettings
from adapter.delivery.policy import Outcome, RetryPolicy, Verdict, classify_error
from adapter.delivery.redact import for_record, redact
from adapter.delivery.worker import DeliveryWorker
from adapter.domain.parties import validate_party
from adapter.domain.payments import validate_payment_order
from adapter.errors import (
    ConfigurationError,
    ContractError,
    HttpStatusError,
    MappingError,
    RemoteFault,
    SignatureError,
    TransportError,
)
from adapter.outbound.caller import CallResult
from adapter.outbound.profiles import (
    TotvsRmDataServer,
    sap_business_error,
    sap_return_messages,
)
from adapter.runtime import Runtime
from adapter.storage.models import Attempt, Delivery, OutboxEvent
from tests.realdata import require

CALL = CallContext(actor="erp", channel="soap", operation="test")


@dataclass
class FakeCaller:
    """Answers from a script: a result string, or an exception to raise.

    ``ReadView`` (a reconciliation) is answered from ``reads`` (default: an
    empty DataSet, i.e. not found).
    """

    script: deque[object] = field(default_factory=deque)
    calls: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    reads: deque[object] = field(default_factory=deque)

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
        if operation == "ReadView":
            step = self.reads.popleft() if self.reads else "<NewDataSet/>"
        else:
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
    with runtime.db.transaction() as session:
        registered = session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == "payment_order.registered")
        ).one()
        assert registered.business_key == f"payment_order:{order_id}"
        assert b"1;5001" in registered.body
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


def test_refused_order_released_by_an_operator_becomes_registered(
    runtime: Runtime,
) -> None:
    # Regression: an erp_rejected order had no way out, so a resend that the
    # ERP accepted left it rejected while the ERP held the document.
    from adapter.delivery import operations

    order_id = approved_order(runtime)
    worker, _, clock = make_worker(runtime, "Violação de chave estrangeira", "1;9")
    worker.run_due()
    assert runtime.legal.get_payment_order(CALL, order_id).status == "erp_rejected"
    delivery_id = runtime_delivery_id(runtime)
    with runtime.db.transaction() as session:
        operator = operations.Actor("ana", runtime.audit, clock())
        resend = operations.release(session, runtime.settings, operator, delivery_id)
    # The ERP refused it outright, so it cannot be posted: no second operator.
    assert resend.done == "queued"
    clock.advance(1)
    assert worker.run_due() == 1
    order = runtime.legal.get_payment_order(CALL, order_id)
    assert (order.status, order.erp_document) == ("registered", "1;9")
    assert delivery_state(runtime) == ("delivered", 2, ["parked", "delivered"])


def test_nothing_to_send_settles_the_delivery_without_an_operator(
    runtime: Runtime,
) -> None:
    from pathlib import Path

    from adapter.mappings.stylesheet import NothingToSend

    approved_order(runtime)
    skip = NothingToSend(Path("provision.changed.xsl"), "a possible loss is disclosed")
    worker, _, clock = make_worker(runtime, skip)
    worker.run_due()
    assert delivery_state(runtime) == ("skipped", 1, ["skipped"])
    clock.advance(86_400)
    assert worker.run_due() == 0  # settled: not tried again, not parked
    with runtime.db.transaction() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.last_error == "a possible loss is disclosed"


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


# What one attempt comes to: the classification table


def _refused() -> TransportError:
    return TransportError("rm: connection failed: refused", sent=False)


@pytest.mark.parametrize(
    ("error", "outcome", "error_class", "min_delay"),
    [
        (_refused(), Outcome.RETRY, "connection", 0),
        (
            TransportError("rm: connect timed out", sent=False),
            Outcome.RETRY,
            "timeout",
            60,
        ),
        (
            TransportError("rm: timed out waiting for the answer", sent=True),
            Outcome.UNCERTAIN,
            "timeout",
            60,
        ),
        (
            TransportError("rm: connection broken: reset by peer", sent=True),
            Outcome.UNCERTAIN,
            "connection",
            0,
        ),
        (HttpStatusError(408, "op"), Outcome.RETRY, "http_status", 0),
        (HttpStatusError(429, "op"), Outcome.RETRY, "http_status", 60),
        (HttpStatusError(500, "op"), Outcome.RETRY, "http_status", 0),
        (HttpStatusError(502, "op"), Outcome.RETRY, "http_status", 0),
        (HttpStatusError(503, "op"), Outcome.RETRY, "http_status", 0),
        (HttpStatusError(504, "op"), Outcome.RETRY, "http_status", 0),
        (HttpStatusError(301, "op"), Outcome.PARKED, "http_status", 0),
        (HttpStatusError(400, "op"), Outcome.PARKED, "http_status", 0),
        (HttpStatusError(401, "op"), Outcome.PARKED, "http_status", 0),
        (HttpStatusError(403, "op"), Outcome.PARKED, "http_status", 0),
        (HttpStatusError(404, "op"), Outcome.PARKED, "http_status", 0),
        (HttpStatusError(410, "op"), Outcome.PARKED, "http_status", 0),
        (HttpStatusError(422, "op"), Outcome.PARKED, "http_status", 0),
        (RemoteFault("s:Server", "busy", "op"), Outcome.RETRY, "server_fault", 0),
        (RemoteFault("soap:Receiver", "busy", "op"), Outcome.RETRY, "server_fault", 0),
        (
            RemoteFault("s:Client", "sem permissão", "op"),
            Outcome.PARKED,
            "client_fault",
            0,
        ),
        (RemoteFault("soap:Sender", "bad", "op"), Outcome.PARKED, "client_fault", 0),
        (
            RemoteFault("Client.Validation", "x", "op"),
            Outcome.PARKED,
            "client_fault",
            0,
        ),
        (
            RemoteFault("Server.Unreadable", "not XML", "op"),
            Outcome.UNCERTAIN,
            "unreadable",
            0,
        ),
        (MappingError("m.xsl: line 3"), Outcome.PARKED, "mapping", 0),
        (ContractError("WSDL unreachable"), Outcome.RETRY, "contract", 0),
        (ConfigurationError("RM_PASSWORD unset"), Outcome.RETRY, "configuration", 0),
        (RuntimeError("a bug"), Outcome.RETRY, "internal", 0),
    ],
)
def test_outcome_classification(
    error: Exception, outcome: Outcome, error_class: str, min_delay: float
) -> None:
    verdict = classify_error(error)
    assert (verdict.outcome, verdict.error_class, verdict.min_delay) == (
        outcome,
        error_class,
        min_delay,
    )


def test_retry_after_travels_with_a_retryable_status() -> None:
    verdict = classify_error(HttpStatusError(503, "op", retry_after=120.0))
    assert (verdict.outcome, verdict.retry_after) == (Outcome.RETRY, 120.0)


@pytest.mark.parametrize(
    ("answer", "outcome", "result"),
    [
        ("1;1001", Outcome.DELIVERED, "1;1001"),
        ("  1;mestre \r\n", Outcome.DELIVERED, "1;mestre"),
        ("Violação de chave estrangeira\r\n at RM.Lib", Outcome.PARKED, None),
        ("", Outcome.PARKED, None),
        (None, Outcome.PARKED, None),
    ],
)
def test_rm_answer_is_a_key_or_a_refusal(
    answer: object, outcome: Outcome, result: str | None
) -> None:
    verdict = TotvsRmDataServer().interpret(answer)
    assert (verdict.outcome, verdict.result) == (outcome, result)
    if outcome is Outcome.PARKED:
        assert verdict.error_class == "business_error"


# When to try again: the schedule table


DEFAULT_SCHEDULE = (5, 60, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)


@pytest.mark.parametrize(
    ("number", "verdict", "delay"),
    [
        (1, Verdict(Outcome.RETRY), 5),
        (2, Verdict(Outcome.RETRY), 60),
        (10, Verdict(Outcome.RETRY), 86400),
        (11, Verdict(Outcome.RETRY), None),
        # Retry-After is honoured within [1x, 2x] the scheduled delay.
        (3, Verdict(Outcome.RETRY, retry_after=100), 300),
        (3, Verdict(Outcome.RETRY, retry_after=450), 450),
        (3, Verdict(Outcome.RETRY, retry_after=5000), 600),
        # Timeouts and 429 wait at least 60 s.
        (1, Verdict(Outcome.UNCERTAIN, min_delay=60), 60),
        (1, Verdict(Outcome.RETRY, retry_after=30, min_delay=60), 60),
        (4, Verdict(Outcome.RETRY, min_delay=60), 1800),
    ],
)
def test_schedule_table(number: int, verdict: Verdict, delay: float | None) -> None:
    policy = RetryPolicy(DEFAULT_SCHEDULE, jitter=0.0)
    assert policy.delay_after(number, random.Random(0), verdict) == delay


def test_jitter_is_the_seeded_draw_within_twenty_percent() -> None:
    policy = RetryPolicy(DEFAULT_SCHEDULE, jitter=0.2)
    for number, base in enumerate(DEFAULT_SCHEDULE, start=1):
        expected = base * (1 + random.Random(number).uniform(-0.2, 0.2))
        got = policy.delay_after(number, random.Random(number))
        assert got == pytest.approx(expected)
        assert 0.8 * base <= (got or 0) <= 1.2 * base


def test_worker_schedules_the_next_attempt_from_its_clock_and_rng(
    runtime: Runtime,
) -> None:
    approved_order(runtime)
    worker, _, clock = make_worker(runtime, HttpStatusError(503, "SaveRecord"))
    worker.policy = RetryPolicy(DEFAULT_SCHEDULE, jitter=0.2)
    worker.rng = random.Random(42)
    started = clock.now
    worker.run_due()
    with runtime.db.transaction() as session:
        due = session.scalars(select(Delivery.next_attempt_at)).one()
    expected = 5 * (1 + random.Random(42).uniform(-0.2, 0.2))
    assert due is not None
    assert (due - started).total_seconds() == pytest.approx(expected, abs=1e-3)


# ERP business errors in a 200 answer: SAP's RETURN table


def sap_row(kind: str, message: str) -> SimpleNamespace:
    return SimpleNamespace(TYPE=kind, ID="F5", NUMBER="702", MESSAGE=message)


@pytest.mark.parametrize(
    ("result", "refused"),
    [
        # zeep renders an ABAP table as an object whose ``item`` is the rows.
        (SimpleNamespace(RETURN=SimpleNamespace(item=[sap_row("S", "ok")])), False),
        (SimpleNamespace(RETURN=SimpleNamespace(item=[sap_row("W", "aviso")])), False),
        (
            SimpleNamespace(
                RETURN=SimpleNamespace(
                    item=[sap_row("S", "ok"), sap_row("E", "Conta bloqueada")]
                )
            ),
            True,
        ),
        (SimpleNamespace(RETURN=[sap_row("A", "Abortado")]), True),
        ({"RETURN": {"item": [{"TYPE": "e", "MESSAGE": "minúsculo"}]}}, True),
        (SimpleNamespace(RETURN=None), False),
        (sap_row("E", "the return structure itself"), True),
    ],
)
def test_sap_return_table_with_e_or_a_is_a_business_error(
    result: object, refused: bool
) -> None:
    verdict = sap_business_error(result)
    assert (verdict is not None) is refused
    if verdict is not None:
        assert (verdict.outcome, verdict.error_class) == (
            Outcome.PARKED,
            "business_error",
        )
        assert verdict.detail is not None and verdict.detail.startswith("SAP refused")


def test_sap_return_reader_reads_a_real_zeep_object() -> None:
    wsdl = (
        require("sap-soamanager-zws-bapi") / "zws_bapi_salesorder_create_binding.wsdl"
    )
    client = zeep.Client(str(wsdl))
    table = client.get_type("{urn:sap-com:document:sap:rfc:functions}ZBAPIRET_T")
    row = client.get_type("{urn:sap-com:document:sap:rfc:functions}ZBAPIRET")
    result = SimpleNamespace(
        DETAIL_MESSAGE=table(
            item=[
                row(TYPE="S", ID="V1", NUMBER="311", MESSAGE="Ordem criada"),
                row(TYPE="E", ID="V1", NUMBER="382", MESSAGE="Cliente bloqueado"),
            ]
        )
    )
    messages = sap_return_messages(result, "DETAIL_MESSAGE")
    assert [(m.type, m.number) for m in messages] == [("S", "311"), ("E", "382")]
    verdict = sap_business_error(result, "DETAIL_MESSAGE")
    assert verdict is not None
    assert verdict.detail == "SAP refused: E V1 382: Cliente bloqueado"


# What an attempt keeps: redacted, cut to 64 KiB


def test_attempt_texts_lose_credentials_and_secret_tokens() -> None:
    text = (
        "POST https://rm.example.com/wsDataServer\n"
        "Authorization: Basic cG9udGU6czNjcmV0\n\n"
        '<s:Envelope><wsse:Password Type="PasswordText">s3cret</wsse:Password>'
        '<wsse:BinarySecurityToken ValueType="x509">MIIBfake</wsse:BinarySecurityToken>'
        "<CGCCFO>12345678909</CGCCFO>senha=abc123&x=1</s:Envelope>"
    )
    clean = redact(text)
    for secret in ("cG9udGU6czNjcmV0", "s3cret", "MIIBfake", "abc123"):
        assert secret not in clean
    assert "Authorization: ***" in clean
    assert "<CGCCFO>12345678909</CGCCFO>" in clean  # what was sent stays


def test_long_attempt_texts_are_cut_to_64_kib_with_a_note() -> None:
    kept = for_record("<a>" + "é" * 50_000 + "</a>")
    assert kept is not None
    assert len(kept.encode("utf-8")) <= 64 * 1024
    assert kept.endswith("the first 65536 kept]")
    assert for_record(None) is None


def test_sign_document_sends_the_mapped_document_signed_by_the_targets_key(
    tmp_path: Path, database_url: str
) -> None:
    from cryptography import x509

    from adapter.runtime import build_runtime
    from adapter.signing.document import verify_document
    from adapter.signing.keys import generate_signing_key
    from tests.unit.conftest import MAPPING, make_settings

    key, cert = tmp_path / "ponte.key.pem", tmp_path / "ponte.cert.pem"
    generate_signing_key(key, cert)
    settings = make_settings(
        tmp_path,
        database_url,
        signing_keys=[{"id": "ponte-1", "key": str(key), "cert": str(cert)}],
        targets=[
            {
                "name": "rm-finance",
                "wsdl": "unused.wsdl",
                "mapping": str(MAPPING),
                "params": {"DataServerName": "FinLanDataBR", "Contexto": "X=1"},
                "signing_key": "ponte-1",
                "sign_document": True,
            }
        ],
    )
    runtime = build_runtime(settings)
    try:
        approved_order(runtime)
        worker, caller, _ = make_worker(runtime, "1;77")
        worker.run_due()
        _, params, _ = caller.calls[0]
        document = params["XML"].encode()
        trusted = x509.load_pem_x509_certificate(cert.read_bytes())
        verified = verify_document(document, [trusted])
        assert verified.key_name == "ponte-1"
        assert b"<VALORORIGINAL>42.00</VALORORIGINAL>" in document
        tampered = document.replace(b"42.00", b"4200.00")
        with pytest.raises(SignatureError):
            verify_document(tampered, [trusted])
    finally:
        runtime.db.dispose()
