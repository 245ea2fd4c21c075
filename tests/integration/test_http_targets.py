"""http targets: HttpCaller against a scriptable webhook receiver on loopback.

The receiver is a ``ThreadingHTTPServer`` on 127.0.0.1, port 0, answering the
steps a test scripts (a status with headers and a body, or a slow answer).
Signatures are checked with the official ``standardwebhooks`` library (HMAC)
and with ``cryptography`` (ed25519), not with Ponte's own verifier alone.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import email.utils
import json
import logging
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapter.config import Settings, TargetSettings, load_settings
from adapter.domain.events import (
    BeneficiarySnapshot,
    Event,
    PaymentOrderSnapshot,
    payment_order_approved,
)
from adapter.errors import (
    ConfigurationError,
    HttpStatusError,
    MappingError,
    TransportError,
)
from adapter.outbound.event_json import EventJson
from adapter.outbound.http import RESPONSE_LIMIT, HttpCaller
from adapter.signing import webhooks

SECRET_ENV = "PONTE_TEST_WEBHOOK_SECRETS"
PASSWORD_ENV = "PONTE_TEST_RECEIVER_PASSWORD"
OLD_SECRET = "whsec_" + base64.b64encode(b"old-secret-" * 3).decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"new-secret-" * 3).decode()
PASSWORD = "receiver-pass-9137"
MESSAGE_ID = "urn:uuid:0b7a4f36-1c2d-4e5f-8a9b-000000000042"
EVENT_TYPE = "payment_order.approved"
OCCURRED = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


# A scriptable receiver


@dataclass(frozen=True)
class Step:
    status: int = 200
    body: bytes = b"ok"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    client_port: int


class Receiver:
    """Answers each POST with the next scripted step; 200 "ok" when none is left."""

    def __init__(self) -> None:
        self.steps: deque[Step] = deque()
        self.received: list[Received] = []
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/ponte"

    def script(self, *steps: Step) -> None:
        self.steps.extend(steps)

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, to see connections reused
        timeout = 10

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver.received.append(
                Received(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    self.client_address[1],
                )
            )
            step = receiver.steps.popleft() if receiver.steps else Step()
            if step.delay:
                receiver.release.wait(step.delay)
            # A slow step's caller has given up waiting, as the test wanted.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._answer(step)

        def _answer(self, step: Step) -> None:
            self.send_response(step.status)
            for name, value in step.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(step.body)))
            self.end_headers()
            self.wfile.write(step.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output quiet

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.thread.start()
    yield server
    server.stop()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# Settings, events and the caller


@pytest.fixture(autouse=True)
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, f"{OLD_SECRET} {NEW_SECRET}")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def settings_for(tmp_path: Path, url: str, **fields: Any) -> Settings:
    target = {"name": "hooks", "kind": "http", "url": url, **fields}
    target.setdefault("webhook_secret_env", SECRET_ENV)
    return load_settings(None, targets=[target], data_dir=tmp_path)


@pytest.fixture
def caller_for(tmp_path: Path) -> Iterator[Any]:
    """``caller_for(url, **target fields)`` gives ``(caller, target)``."""
    callers: list[HttpCaller] = []

    def build(url: str, **fields: Any) -> tuple[HttpCaller, TargetSettings]:
        settings = settings_for(tmp_path, url, **fields)
        caller = HttpCaller(settings)
        callers.append(caller)
        return caller, settings.target("hooks")

    yield build
    for caller in callers:
        caller.close()


def approved_event(tax_id: str | None = "123.456.789-09") -> Event:
    beneficiary = BeneficiarySnapshot(
        source_system="SAP",
        external_id="V-100",
        kind="individual",
        name="Maria da Silva",
        tax_id=tax_id,
    )
    order = PaymentOrderSnapshot(
        id="po-7",
        source_system="SAP",
        external_id="PO-1",
        lawsuit_number="00589677720168190000",
        type="condemnation",
        amount=Decimal("1500"),
        due_date=dt.date(2026, 12, 20),
        cost_center="JUR-01",
        description="Condenação trabalhista",
        approved_at=dt.datetime(2026, 12, 1, 11, 59, 30, tzinfo=dt.UTC),
        approved_by="ana.souza",
        beneficiary=beneficiary,
    )
    return payment_order_approved(order, OCCURRED)


def expected_json(event: Event) -> dict[str, Any]:
    """The JSON form of ``approved_event()``, written out by hand."""
    return {
        "id": event.id,
        "type": "payment_order.approved",
        "version": "1",
        "occurredAt": "2026-12-01T12:00:00Z",
        "businessKey": "payment_order:po-7",
        "paymentOrder": {
            "id": "po-7",
            "sourceSystem": "SAP",
            "externalId": "PO-1",
            "lawsuitNumber": "00589677720168190000",
            "type": "condemnation",
            "amount": "1500.00",
            "currency": "BRL",
            "dueDate": "2026-12-20",
            "costCenter": "JUR-01",
            "description": "Condenação trabalhista",
            "approvedAt": "2026-12-01T11:59:30Z",
            "approvedBy": "ana.souza",
            "beneficiary": {
                "sourceSystem": "SAP",
                "externalId": "V-100",
                "kind": "individual",
                "name": "Maria da Silva",
                "taxId": "123.456.789-09",
            },
        },
    }


def send(caller: HttpCaller, target: TargetSettings, body: bytes) -> Any:
    return caller.call(target, body, message_id=MESSAGE_ID, event_type=EVENT_TYPE)


# Delivered: headers, signatures, bodies


def test_receiver_gets_standard_webhooks_headers(
    receiver: Receiver, caller_for: Any
) -> None:
    caller, target = caller_for(receiver.url)
    event = approved_event()

    send(caller, target, event.body)

    [got] = receiver.received
    assert got.path == "/hooks/ponte"
    assert got.body == event.body
    assert got.headers["webhook-id"] == MESSAGE_ID
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 5
    assert got.headers["content-type"] == "application/xml"
    assert got.headers["x-ponte-event-type"] == EVENT_TYPE
    assert got.headers["user-agent"].startswith("Ponte/")


@pytest.mark.parametrize("receiver_secret", [OLD_SECRET, NEW_SECRET])
def test_standardwebhooks_library_verifies_what_the_receiver_got(
    receiver: Receiver, caller_for: Any, receiver_secret: str
) -> None:
    caller, target = caller_for(receiver.url)

    send(caller, target, approved_event().body)

    [got] = receiver.received
    assert got.headers["webhook-signature"].count("v1,") == 2  # rotation: both
    standardwebhooks.Webhook(receiver_secret).verify(
        got.body, got.headers, json_parse=False
    )
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(receiver_secret).verify(
            got.body + b" ", got.headers, json_parse=False
        )


def test_json_body_is_signed_and_round_trips_the_event(
    receiver: Receiver, caller_for: Any
) -> None:
    caller, target = caller_for(receiver.url, body_format="json")
    event = approved_event()

    result = send(caller, target, event.body)

    [got] = receiver.received
    assert got.headers["content-type"] == "application/json"
    parsed = standardwebhooks.Webhook(OLD_SECRET).verify(got.body, got.headers)
    assert parsed == expected_json(event)
    assert list(parsed["paymentOrder"]) == list(expected_json(event)["paymentOrder"])
    assert result.request_text.endswith("\n\n" + got.body.decode())


def test_ed25519_target_signs_v1a_that_the_exported_key_verifies(
    receiver: Receiver, caller_for: Any, tmp_path: Path
) -> None:
    key_path = tmp_path / "webhook-ed25519.key"
    whpk = webhooks.generate_ed25519_key(key_path)
    caller, target = caller_for(
        receiver.url, webhook_secret_env=None, webhook_ed25519_key=str(key_path)
    )

    send(caller, target, approved_event().body)

    [got] = receiver.received
    version, _, encoded = got.headers["webhook-signature"].partition(",")
    assert version == "v1a"
    public = Ed25519PublicKey.from_public_bytes(
        base64.b64decode(whpk.removeprefix("whpk_"))
    )
    signed = f"{got.headers['webhook-id']}.{got.headers['webhook-timestamp']}."
    public.verify(base64.b64decode(encoded), signed.encode() + got.body)
    assert webhooks.verify(got.body, got.headers, public_keys=[whpk]).scheme == "v1a"


def test_target_with_secret_and_key_sends_both_schemes(
    receiver: Receiver, caller_for: Any, tmp_path: Path
) -> None:
    key_path = tmp_path / "webhook-ed25519.key"
    whpk = webhooks.generate_ed25519_key(key_path)
    caller, target = caller_for(receiver.url, webhook_ed25519_key=str(key_path))

    send(caller, target, approved_event().body)

    [got] = receiver.received
    versions = [e.split(",")[0] for e in got.headers["webhook-signature"].split()]
    assert versions == ["v1", "v1", "v1a"]
    standardwebhooks.Webhook(NEW_SECRET).verify(got.body, got.headers, json_parse=False)
    assert webhooks.verify(got.body, got.headers, public_keys=[whpk]).scheme == "v1a"


def test_2xx_gives_a_call_result_with_a_redacted_request_record(
    receiver: Receiver, caller_for: Any
) -> None:
    receiver.script(Step(202, b"  accepted 7781  "))
    caller, target = caller_for(receiver.url + "?token=abc123")
    event = approved_event()

    result = send(caller, target, event.body)

    [got] = receiver.received
    assert (result.http_status, result.result) == (202, "accepted 7781")
    assert result.response_text == "  accepted 7781  "
    assert result.duration_ms >= 0
    assert result.request_text.startswith(f"POST {receiver.url}?***\n"), (
        result.request_text
    )
    assert "webhook-signature: ***" in result.request_text
    assert f"webhook-id: {MESSAGE_ID}" in result.request_text
    assert result.request_text.endswith("\n\n" + event.body.decode())
    for secret_text in ("abc123", got.headers["webhook-signature"].split()[0][3:]):
        assert secret_text not in result.request_text


def test_empty_2xx_answer_gives_no_result(receiver: Receiver, caller_for: Any) -> None:
    receiver.script(Step(204, b""))
    caller, target = caller_for(receiver.url)

    result = send(caller, target, approved_event().body)

    assert (result.http_status, result.result, result.response_text) == (204, None, "")


def test_answer_without_charset_is_read_as_utf8(
    receiver: Receiver, caller_for: Any
) -> None:
    answer = "recebido: Condenação"
    receiver.script(Step(200, answer.encode(), (("Content-Type", "text/plain"),)))
    caller, target = caller_for(receiver.url)

    result = send(caller, target, approved_event().body)

    assert result.response_text == answer


def test_connections_are_reused_across_calls(
    receiver: Receiver, caller_for: Any
) -> None:
    caller, target = caller_for(receiver.url)

    for _ in range(3):
        send(caller, target, approved_event().body)

    ports = {got.client_port for got in receiver.received}
    assert len(receiver.received) == 3
    assert len(ports) == 1


def test_basic_auth_reaches_the_receiver_but_no_record_or_log(
    receiver: Receiver, caller_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caller, target = caller_for(
        receiver.url, auth={"basic_user": "ponte", "basic_password_env": PASSWORD_ENV}
    )

    with caplog.at_level(logging.DEBUG):
        result = send(caller, target, approved_event().body)

    [got] = receiver.received
    credentials = base64.b64encode(f"ponte:{PASSWORD}".encode()).decode()
    assert got.headers["authorization"] == f"Basic {credentials}"
    assert "Authorization: Basic ***" in result.request_text
    for leak in (PASSWORD, credentials):
        assert leak not in result.request_text
        assert leak not in caplog.text


# Failures


def _in_90_seconds() -> str:
    # Built when the test runs, not when it is collected: a full run can take
    # longer than 90 s to get here.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90)
    return email.utils.format_datetime(later, usegmt=True)


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [(lambda: "7", 7.0, 7.0), (_in_90_seconds, 80.0, 91.0)],
    ids=["seconds", "http-date"],
)
def test_503_with_retry_after_is_an_http_status_error(
    receiver: Receiver,
    caller_for: Any,
    retry_after: Callable[[], str],
    low: float,
    high: float,
) -> None:
    header = ("Retry-After", retry_after())
    receiver.script(Step(503, b"busy, come back", (header,)))
    caller, target = caller_for(receiver.url)

    with pytest.raises(HttpStatusError, match="HTTP 503") as caught:
        send(caller, target, approved_event().body)

    error = caught.value
    assert (error.status, error.operation) == (503, "POST")
    assert error.retry_after is not None
    assert low <= error.retry_after <= high
    assert error.response_text == "busy, come back"
    sent = error.request_text or ""
    assert "webhook-signature: ***" in sent
    assert sent.endswith("\n\n" + receiver.received[0].body.decode())


def test_400_is_an_http_status_error_without_retry_after(
    receiver: Receiver, caller_for: Any
) -> None:
    receiver.script(Step(400, b'{"error": "unknown event type"}'))
    caller, target = caller_for(receiver.url)

    with pytest.raises(HttpStatusError, match="HTTP 400") as caught:
        send(caller, target, approved_event().body)

    assert caught.value.status == 400
    assert caught.value.retry_after is None
    assert caught.value.response_text == '{"error": "unknown event type"}'


def test_redirect_is_not_followed(receiver: Receiver, caller_for: Any) -> None:
    receiver.script(Step(302, b"", (("Location", "/elsewhere"),)))
    caller, target = caller_for(receiver.url)

    with pytest.raises(HttpStatusError) as caught:
        send(caller, target, approved_event().body)

    assert caught.value.status == 302
    assert [got.path for got in receiver.received] == ["/hooks/ponte"]


def test_slow_receiver_times_out_after_the_request_was_sent(
    receiver: Receiver, caller_for: Any
) -> None:
    receiver.script(Step(delay=10.0))
    caller, target = caller_for(receiver.url, timeout_seconds=0.3)
    event = approved_event()
    started = time.monotonic()

    with pytest.raises(TransportError, match="timed out") as caught:
        send(caller, target, event.body)

    assert caught.value.sent is True
    assert time.monotonic() - started < 5
    assert [got.body for got in receiver.received] == [event.body]


def test_closed_port_is_refused_before_anything_is_sent(
    closed_port: int, caller_for: Any
) -> None:
    caller, target = caller_for(f"http://127.0.0.1:{closed_port}/hooks?token=abc123")

    with pytest.raises(TransportError, match="connection failed") as caught:
        send(caller, target, approved_event().body)

    assert caught.value.sent is False
    assert caught.value.response_text is None
    assert getattr(caught.value, "request_text", "").startswith("POST http://")
    assert "abc123" not in str(caught.value)


@pytest.mark.parametrize("status", [200, 500])
def test_long_answer_is_cut_to_64_kib(
    receiver: Receiver, caller_for: Any, status: int
) -> None:
    receiver.script(Step(status, b"x" * (RESPONSE_LIMIT * 3)))
    caller, target = caller_for(receiver.url)

    if status == 200:
        text = send(caller, target, approved_event().body).response_text
    else:
        with pytest.raises(HttpStatusError) as caught:
            send(caller, target, approved_event().body)
        text = caught.value.response_text

    assert text == "x" * RESPONSE_LIMIT


def test_json_target_refuses_an_event_without_json_form(
    receiver: Receiver, caller_for: Any
) -> None:
    caller, target = caller_for(receiver.url, body_format="json")

    with pytest.raises(MappingError, match="attributes"):
        send(caller, target, b'<event xmlns="urn:x"><id kind="a">1</id></event>')

    assert receiver.received == []


# The log


def test_one_info_line_per_call_without_secrets_or_body(
    receiver: Receiver,
    caller_for: Any,
    closed_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.script(Step(200), Step(503, b"busy"))
    caller, target = caller_for(receiver.url)
    _, refused = caller_for(f"http://127.0.0.1:{closed_port}/")
    event = approved_event()

    with caplog.at_level(logging.DEBUG, logger="ponte"):
        send(caller, target, event.body)
        with pytest.raises(HttpStatusError):
            send(caller, target, event.body)
        with pytest.raises(TransportError):
            send(caller, refused, event.body)

    lines = [r for r in caplog.records if r.name.startswith("ponte")]
    assert [r.levelno for r in lines] == [logging.INFO] * 3
    messages = [r.getMessage() for r in lines]
    for message, status in zip(messages, ("200", "503", "-"), strict=True):
        assert message.startswith(f"POST target=hooks message_id={MESSAGE_ID} ")
        assert f" status={status} ms=" in message
    assert messages[2].endswith("error=TransportError")
    signatures = [got.headers["webhook-signature"] for got in receiver.received]
    for leak in (OLD_SECRET, NEW_SECRET, *signatures, "Condenação", "Maria"):
        assert leak not in caplog.text


# Loading a target: mistakes show at prepare, naming target and field


def test_prepare_names_target_and_field_when_secret_env_is_unset(
    caller_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV)
    caller, target = caller_for("http://127.0.0.1:9/hooks")

    with pytest.raises(
        ConfigurationError,
        match=f"target hooks: webhook_secret_env: environment variable {SECRET_ENV} "
        "is not set",
    ):
        caller.prepare(target)


def test_prepare_names_the_bad_secret_without_quoting_it(
    caller_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = "whsec_" + base64.b64encode(b"too-short").decode()
    monkeypatch.setenv(SECRET_ENV, f"{OLD_SECRET} {short}")
    caller, target = caller_for("http://127.0.0.1:9/hooks")

    with pytest.raises(ConfigurationError, match="secret 2 of 2") as caught:
        caller.prepare(target)

    message = str(caught.value)
    assert message.startswith("target hooks: webhook_secret_env:")
    assert short.removeprefix("whsec_") not in message
    assert OLD_SECRET.removeprefix("whsec_") not in message


def test_prepare_names_target_and_field_for_an_unreadable_key(
    caller_for: Any, tmp_path: Path
) -> None:
    missing = tmp_path / "absent.key"
    caller, target = caller_for(
        "http://127.0.0.1:9/hooks", webhook_ed25519_key=str(missing)
    )

    with pytest.raises(
        ConfigurationError, match=f"target hooks: webhook_ed25519_key: .*{missing.name}"
    ):
        caller.prepare(target)


def test_prepare_refuses_a_target_that_would_not_sign(caller_for: Any) -> None:
    caller, target = caller_for("http://127.0.0.1:9/hooks", webhook_secret_env=None)

    with pytest.raises(
        ConfigurationError,
        match="target hooks: an http target needs webhook_secret_env or "
        "webhook_ed25519_key",
    ):
        caller.prepare(target)


def test_prepare_names_the_basic_password_variable(
    caller_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    caller, target = caller_for(
        "http://127.0.0.1:9/hooks",
        auth={"basic_user": "ponte", "basic_password_env": PASSWORD_ENV},
    )

    with pytest.raises(
        ConfigurationError,
        match=f"target hooks: auth.basic_password_env: .*{PASSWORD_ENV}",
    ):
        caller.prepare(target)


def test_prepare_refuses_a_url_that_is_not_http(caller_for: Any) -> None:
    caller, target = caller_for("ftp://files.example.com/hooks")

    with pytest.raises(ConfigurationError, match="target hooks: url must be"):
        caller.prepare(target)


def test_prepare_refuses_a_soap_target(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        targets=[{"name": "rm", "wsdl": "rm.wsdl", "mapping": "rm.xsl"}],
        data_dir=tmp_path,
    )

    with pytest.raises(ConfigurationError, match="target rm is not an http target"):
        HttpCaller(settings).prepare(settings.target("rm"))


def test_secrets_are_read_once_at_prepare(
    receiver: Receiver, caller_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller, target = caller_for(receiver.url)
    caller.prepare(target)
    monkeypatch.setenv(SECRET_ENV, webhooks.generate_secret())

    send(caller, target, approved_event().body)

    [got] = receiver.received
    standardwebhooks.Webhook(OLD_SECRET).verify(got.body, got.headers, json_parse=False)


# The JSON form of an event (no sockets)


def test_json_form_is_deterministic_and_in_schema_order() -> None:
    event = approved_event()
    converter = EventJson()

    first, second = converter.convert(event.body), EventJson().convert(event.body)

    assert first == second
    assert json.loads(first) == expected_json(event)
    assert list(json.loads(first)) == list(expected_json(event))
    assert "Condenação".encode() in first  # UTF-8, not \\u escapes
    assert b" " not in first.replace(b"Maria da Silva", b"").replace(
        "Condenação trabalhista".encode(), b""
    )


def test_absent_optional_element_is_an_absent_key() -> None:
    value = EventJson().to_value(approved_event(tax_id=None).body)

    assert "taxId" not in value["paymentOrder"]["beneficiary"]
    assert value["paymentOrder"]["beneficiary"]["name"] == "Maria da Silva"


def test_repeated_elements_become_an_array_in_document_order() -> None:
    xml = (
        b'<r xmlns="urn:x"><item>1</item><note/><item>2</item>'
        b"<item><!-- c -->3<!-- d -->4</item></r>"
    )

    assert EventJson().to_value(xml) == {"item": ["1", "2", "34"], "note": ""}


def test_text_is_kept_exactly() -> None:
    xml = b'<r xmlns="urn:x"><a>  spaced  </a><b>0012</b></r>'

    assert EventJson().to_value(xml) == {"a": "  spaced  ", "b": "0012"}


def test_element_of_another_namespace_is_keyed_by_namespace() -> None:
    xml = b'<r xmlns="urn:x" xmlns:o="urn:other"><id>1</id><o:id>2</o:id></r>'

    assert EventJson().to_value(xml) == {"id": "1", "{urn:other}id": "2"}


REPEATING_SCHEMA = """<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t"
           targetNamespace="urn:t" elementFormDefault="qualified">
  <xs:element name="batch" type="t:Batch"/>
  <xs:element name="tag" type="xs:string"/>
  <xs:complexType name="Base">
    <xs:sequence>
      <xs:element name="note" type="xs:string" maxOccurs="3"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Batch">
    <xs:complexContent>
      <xs:extension base="t:Base">
        <xs:sequence>
          <xs:element name="id" type="xs:string"/>
          <xs:element name="order" maxOccurs="unbounded">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="amount" type="xs:string"/>
                <xs:sequence maxOccurs="unbounded">
                  <xs:element ref="t:tag"/>
                </xs:sequence>
              </xs:sequence>
            </xs:complexType>
          </xs:element>
          <xs:element name="child" type="t:Batch" minOccurs="0"/>
        </xs:sequence>
      </xs:extension>
    </xs:complexContent>
  </xs:complexType>
</xs:schema>
"""


def test_elements_the_schema_lets_repeat_are_arrays_even_once(tmp_path: Path) -> None:
    schema = tmp_path / "batch.xsd"
    schema.write_text(REPEATING_SCHEMA)
    xml = (
        b'<batch xmlns="urn:t"><note>n</note><id>b1</id>'
        b"<order><amount>10.00</amount><tag>x</tag></order></batch>"
    )

    value = EventJson(schema).to_value(xml)

    assert value == {
        "note": ["n"],
        "id": "b1",
        "order": [{"amount": "10.00", "tag": ["x"]}],
    }


def test_contract_party_is_an_array_by_the_events_schema_even_alone() -> None:
    # events-v1.xsd: ContractParties/party has maxOccurs="unbounded".
    xml = (
        b'<ev:event xmlns:ev="urn:ponte:events:v1"><ev:id>e-9</ev:id>'
        b"<ev:contractRenewed><ev:contract><ev:parties>"
        b"<ev:party><ev:name>Acme</ev:name></ev:party>"
        b"</ev:parties></ev:contract></ev:contractRenewed></ev:event>"
    )

    value = EventJson().to_value(xml)

    parties = value["contractRenewed"]["contract"]["parties"]
    assert parties == {"party": [{"name": "Acme"}]}


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b'<r xmlns="urn:x"><a k="v">1</a></r>', "r/a: attributes"),
        (b'<r xmlns="urn:x">text<a>1</a></r>', "r: text mixed with elements"),
        (b"<r><a>1</a>", "not well-formed"),
        (b'<!DOCTYPE r [<!ENTITY e "boom">]><r>&e;</r>', "not well-formed"),
    ],
    ids=["attribute", "mixed", "truncated", "doctype"],
)
def test_xml_without_json_form_is_a_mapping_error(xml: bytes, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        EventJson().convert(xml)


def test_unreadable_schema_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"event schema .* cannot be read"):
        EventJson(tmp_path / "absent.xsd")


def _readme_snippet() -> str:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    found = re.search(
        r"<!-- receiver-guide:webhooks-python -->\n```python\n(.*?)\n```",
        text,
        re.DOTALL,
    )
    assert found, "README.md has no receiver-guide:webhooks-python block"
    return found.group(1)


def test_the_readme_snippet_verifies_what_ponte_sent(
    receiver: Receiver, caller_for: Any, tmp_path: Path
) -> None:
    key_path = tmp_path / "webhook-ed25519.key"
    whpk = webhooks.generate_ed25519_key(key_path)
    caller, target = caller_for(receiver.url, webhook_ed25519_key=str(key_path))
    send(caller, target, approved_event().body)
    [got] = receiver.received
    code = _readme_snippet()
    code = code.replace('"whsec_..."', repr(NEW_SECRET)).replace(
        '"whpk_..."', repr(whpk)
    )
    guide: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), guide)

    guide["verify_hmac"](got.body, got.headers)
    guide["verify_ed25519"](got.body, got.headers)
    tampered = got.body.replace(b"1500.00", b"9500.00")
    assert tampered != got.body
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        guide["verify_hmac"](tampered, got.headers)
    with pytest.raises(ValueError, match="no valid v1a signature"):
        guide["verify_ed25519"](tampered, got.headers)
