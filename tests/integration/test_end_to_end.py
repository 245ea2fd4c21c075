"""The first slice end to end, on loopback, with real processes.

An ERP (zeep with a UsernameToken) creates and approves payment orders on a
running ``ponte serve``; a running ``ponte worker`` delivers them, signed,
to a fake TOTVS RM that serves the real RM contract.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import zeep
from cryptography import x509
from sqlalchemy import select
from zeep.wsse.username import UsernameToken

from adapter.config import load_settings
from adapter.delivery.worker import DeliveryWorker
from adapter.errors import SignatureError
from adapter.runtime import Runtime, build_runtime
from adapter.signing import verify_envelope, xmlsec1_command
from adapter.storage.models import Attempt, Delivery
from tests.conftest import PASSWORD, REPO, Installation, wait_until
from tests.fakes.rm_server import FakeRM
from tests.realdata import require
from tests.unit.test_delivery import CALL as UNIT_CALL
from tests.unit.test_delivery import approved_order

RM = require("totvs-rm-wsdataserver")
BUNDLE = REPO / "mappings" / "totvs-rm" / "contract"
MAPPING = REPO / "mappings" / "totvs-rm" / "payment_order.approved.xsl"
CPF = "123.456.789-09"


def target_config(fake: FakeRM) -> str:
    return f"""
[delivery]
poll_seconds = 0.2
schedule_seconds = [1.0, 1.0, 1.0]
jitter = 0.0

[[signing_keys]]
id = "test-key"
key = "keys/test-key.key.pem"
cert = "keys/test-key.cert.pem"

[[targets]]
name = "rm-finance"
profile = "totvs-rm-dataserver"
wsdl = "{fake.wsdl_url}"
schema_bundle = "{BUNDLE}"
endpoint = "{fake.endpoint}"
port = "RM_IwsDataServer"
operation = "SaveRecord"
mapping = "{MAPPING}"
events = ["payment_order.approved"]
signing_key = "test-key"
timeout_seconds = 5

[targets.params]
DataServerName = "FinLanDataBR"
Contexto = "CODCOLIGADA=1;CODSISTEMA=F;CODUSUARIO=ponte"

[targets.auth]
basic_user = "ponte"
basic_password_env = "PONTE_TEST_RM_PASSWORD"
"""


@pytest.fixture
def fake() -> Iterator[FakeRM]:
    with FakeRM(user="ponte", password="rm-pass", dedupe=True) as server:
        yield server


@pytest.fixture
def ponte(installation: Installation, fake: FakeRM) -> Installation:
    installation.write_config(target_config(fake))
    installation.ponte("keys", "generate", "--id", "test-key", "--dir", "keys")
    installation.ponte(
        "users", "add", "erp", "--role", "finance_erp", "--password", PASSWORD
    )
    installation.serve()
    return installation


def erp_client(ponte: Installation) -> zeep.Client:
    token = UsernameToken("erp", PASSWORD, use_digest=True)
    return zeep.Client(f"{ponte.url}?wsdl", wsse=token)


def create_and_approve(client: zeep.Client, external_id: str, amount: str) -> str:
    client.service.UpsertParty(
        party={
            "sourceSystem": "SAP",
            "externalId": "V-100",
            "kind": "individual",
            "taxId": CPF,
            "name": "Maria da Silva",
        }
    )
    created = client.service.CreatePaymentOrder(
        paymentOrder={
            "sourceSystem": "SAP",
            "externalId": external_id,
            "lawsuitNumber": "0058967-77.2016.8.19.0000",
            "type": "condemnation",
            "beneficiaryTaxId": CPF,
            "amount": amount,
            "dueDate": dt.date(2026, 12, 20),
            "costCenter": "JUR-01",
            "description": "Condenação trabalhista",
        }
    )
    assert created.outcome == "created"
    approved = client.service.ApprovePaymentOrder(id=created.paymentOrder.id)
    assert approved.status == "approved"
    return str(created.paymentOrder.id)


def order_status(client: zeep.Client, order_id: str) -> tuple[str, str | None]:
    order = client.service.GetPaymentOrder(id=order_id)
    return order.status, order.erpDocument


def attempts(ponte: Installation, order_id: str) -> list[tuple[int, str, str | None]]:
    with sqlite3.connect(ponte.root / "data" / "ponte.db") as db:
        return db.execute(
            "SELECT a.number, a.outcome, a.error_class FROM attempts a"
            " JOIN deliveries d ON d.id = a.delivery_id"
            " JOIN events e ON e.id = d.event_id"
            " WHERE e.business_key = ? ORDER BY a.number",
            (f"payment_order:{order_id}",),
        ).fetchall()


def deliver_audit(ponte: Installation) -> list[dict[str, object]]:
    out = ponte.ponte("audit", "list", "--json", "--limit", "200").stdout
    rows = [json.loads(line) for line in out.splitlines()]
    return [r for r in rows if r["action"] == "deliver"]


def test_order_is_registered_after_two_passing_failures(
    ponte: Installation, fake: FakeRM
) -> None:
    fake.script("http503", "drop", "accept")
    ponte.start("worker")
    client = erp_client(ponte)

    order_id = create_and_approve(client, "PO-1", "1500.00")

    _, document = wait_until(
        lambda: (s := order_status(client, order_id))[0] == "registered" and s, 30
    )
    assert document == "1;1001"
    # A connection cut after the request left is uncertain: the third attempt
    # asks RM first (ReadView), finds nothing, and sends again.
    assert [a[1] for a in attempts(ponte, order_id)] == [
        "retry",
        "uncertain",
        "delivered",
    ]
    assert [a[2] for a in attempts(ponte, order_id)][:2] == [
        "http_status",
        "connection",
    ]
    assert len(fake.saves) == 3
    assert len(fake.reads) == 1
    assert len({r.message_id for r in fake.saves}) == 1
    received = fake.accepted[0]
    assert received.data_server == "FinLanDataBR"
    assert received.contexto == "CODCOLIGADA=1;CODSISTEMA=F;CODUSUARIO=ponte"
    assert "<VALORORIGINAL>1500.00</VALORORIGINAL>" in (received.xml or "")
    audit = deliver_audit(ponte)
    assert [r["outcome"] for r in reversed(audit)] == [
        "retry",
        "uncertain",
        "delivered",
    ]


def test_cut_connection_after_rm_committed_is_reconciled_not_sent_again(
    ponte: Installation, fake: FakeRM
) -> None:
    fake.script("accept_drop")
    ponte.start("worker")
    client = erp_client(ponte)

    order_id = create_and_approve(client, "PO-5", "321.00")

    _, document = wait_until(
        lambda: (s := order_status(client, order_id))[0] == "registered" and s, 30
    )
    assert document == "1;1001"  # the key RM gave the record it had made
    assert [a[1] for a in attempts(ponte, order_id)] == ["uncertain", "delivered"]
    assert len(fake.saves) == 1 and len(fake.accepted) == 1
    [read] = fake.reads
    assert read.filtro == "FLAN.CODCOLIGADA = 1 AND FLAN.NUMERODOCUMENTO = 'PO-5'"
    listed = ponte.ponte("deliveries", "list", "--json").stdout.splitlines()
    [delivery] = [json.loads(line) for line in listed]
    shown = ponte.ponte("deliveries", "show", delivery["id"]).stdout
    assert "reconciled: RM has the record" in shown
    assert "ReadViewResult" in shown
    assert "rm-pass" not in shown and "Authorization: ***" in shown


def test_order_refused_by_rm_is_parked_after_one_attempt(
    ponte: Installation, fake: FakeRM
) -> None:
    fake.script("rm_error")
    ponte.start("worker")
    client = erp_client(ponte)

    order_id = create_and_approve(client, "PO-2", "99.90")

    wait_until(lambda: order_status(client, order_id)[0] == "erp_rejected", 30)
    assert attempts(ponte, order_id) == [(1, "parked", "business_error")]
    assert len(fake.received) == 1
    listed = ponte.ponte("deliveries", "list", "--status", "parked").stdout
    assert "RM refused: Violação de chave estrangeira" in listed


def test_delivery_survives_a_worker_restart_exactly_once(
    ponte: Installation, fake: FakeRM
) -> None:
    fake.script("http503")
    worker = ponte.start("worker")
    client = erp_client(ponte)
    order_id = create_and_approve(client, "PO-3", "10.00")
    # Kill the worker between attempts: after the first one is recorded.
    wait_until(lambda: [a[1] for a in attempts(ponte, order_id)] == ["retry"], 30)

    worker.kill()
    worker.wait(timeout=10)
    assert order_status(client, order_id)[0] == "sent"
    ponte.start("worker")

    wait_until(lambda: order_status(client, order_id)[0] == "registered", 60)
    assert [a[1] for a in attempts(ponte, order_id)] == ["retry", "delivered"]
    assert len(fake.accepted) == 1
    assert len(fake.unique_message_ids) == 1


@pytest.fixture
def signed_message(ponte: Installation, fake: FakeRM, tmp_path: Path) -> Path:
    ponte.start("worker")
    client = erp_client(ponte)
    order_id = create_and_approve(client, "PO-4", "250.00")
    wait_until(lambda: order_status(client, order_id)[0] == "registered", 30)
    path = tmp_path / "received.xml"
    path.write_bytes(fake.accepted[0].body)
    return path


def _certificate(ponte: Installation) -> Path:
    return ponte.root / "keys" / "test-key.cert.pem"


def test_received_signature_verifies_with_signxml_and_xmlsec1(
    ponte: Installation, signed_message: Path
) -> None:
    cert_path = _certificate(ponte)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    verified = verify_envelope(signed_message.read_bytes(), [cert])
    assert verified.message_id and verified.message_id.startswith("urn:uuid:")
    if shutil.which("xmlsec1") is None:
        pytest.skip("xmlsec1 is not installed")
    result = subprocess.run(
        xmlsec1_command(signed_message, cert_path), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_tampered_message_fails_signxml_and_xmlsec1(
    ponte: Installation, signed_message: Path
) -> None:
    cert_path = _certificate(ponte)
    tampered = signed_message.read_bytes().replace(b"250.00", b"950.00")
    assert tampered != signed_message.read_bytes()
    signed_message.write_bytes(tampered)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    with pytest.raises(SignatureError, match=r"does not verify|digest"):
        verify_envelope(tampered, [cert])
    if shutil.which("xmlsec1") is None:
        pytest.skip("xmlsec1 is not installed")
    result = subprocess.run(
        xmlsec1_command(signed_message, cert_path), capture_output=True, text=True
    )
    assert result.returncode != 0


# The worker in this process, its clock injected, against the fake RM over
# real HTTP: a timeout after the request left, while RM goes on to post it.


def test_timeout_after_sending_is_reconciled_through_readview(
    tmp_path: Path, fake: FakeRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PONTE_TEST_RM_PASSWORD", "rm-pass")
    settings = load_settings(
        None,
        data_dir=tmp_path / "data",
        database={"url": f"sqlite:///{tmp_path / 'ponte.db'}"},
        delivery={"schedule_seconds": [5, 5], "jitter": 0.0},
        targets=[
            {
                "name": "rm-finance",
                "wsdl": fake.wsdl_url,
                "schema_bundle": str(BUNDLE),
                "endpoint": fake.endpoint,
                "port": "RM_IwsDataServer",
                "mapping": str(MAPPING),
                "timeout_seconds": 1,
                "params": {
                    "DataServerName": "FinLanDataBR",
                    "Contexto": "CODCOLIGADA=1",
                },
                "auth": {
                    "basic_user": "ponte",
                    "basic_password_env": "PONTE_TEST_RM_PASSWORD",
                },
            }
        ],
    )
    runtime = build_runtime(settings)
    clock = StepClock()
    worker = DeliveryWorker(runtime, clock=clock, rng=random.Random(1))
    try:
        worker.prepare()
        order_id = approved_order(runtime)
        fake.script(("delay", 2.0))  # RM posts it, but after we stop waiting

        assert worker.run_due() == 1
        assert delivery_status(runtime) == ("pending", ["uncertain"])
        wait_until(lambda: len(fake.accepted) == 1, 10)
        clock.advance(30)
        assert worker.run_due() == 0  # a timeout waits at least 60 s
        clock.advance(31)
        assert worker.run_due() == 1
    finally:
        worker.close()

    assert delivery_status(runtime) == ("delivered", ["uncertain", "delivered"])
    assert len(fake.saves) == 1 and len(fake.reads) == 1
    order = runtime.legal.get_payment_order(UNIT_CALL, order_id)
    assert (order.status, order.erp_document) == ("registered", "1;1001")
    with runtime.db.transaction() as session:
        first, second = session.scalars(select(Attempt).order_by(Attempt.number))
        assert first.request_text and "<ns0:SaveRecord" in first.request_text
        assert "rm-pass" not in first.request_text
        assert second.response_text and "ReadViewResult" in second.response_text
    runtime.db.dispose()


class StepClock:
    """The real time when the test starts, then moved by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def delivery_status(runtime: Runtime) -> tuple[str, list[str]]:
    with runtime.db.transaction() as session:
        delivery = session.scalars(select(Delivery)).one()
        outcomes = session.scalars(select(Attempt.outcome).order_by(Attempt.number))
        return delivery.status, list(outcomes)
