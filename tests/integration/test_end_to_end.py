"""The first slice end to end, on loopback, with real processes.

An ERP (zeep with a UsernameToken) creates and approves payment orders on a
running ``ponte serve``; a running ``ponte worker`` delivers them, signed,
to a fake TOTVS RM that serves the real RM contract.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import zeep
from cryptography import x509
from zeep.wsse.username import UsernameToken

from adapter.errors import SignatureError
from adapter.signing import verify_envelope, xmlsec1_command
from tests.conftest import PASSWORD, REPO, Installation, wait_until
from tests.fakes.rm_server import FakeRM
from tests.realdata import require

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
    assert [a[1] for a in attempts(ponte, order_id)] == ["retry", "retry", "delivered"]
    assert [a[2] for a in attempts(ponte, order_id)][:2] == [
        "http_status",
        "connection",
    ]
    assert len(fake.received) == 3
    assert len(fake.unique_message_ids) == 1
    received = fake.accepted[0]
    assert received.data_server == "FinLanDataBR"
    assert received.contexto == "CODCOLIGADA=1;CODSISTEMA=F;CODUSUARIO=ponte"
    assert "<VALORORIGINAL>1500.00</VALORORIGINAL>" in (received.xml or "")
    audit = deliver_audit(ponte)
    assert [r["outcome"] for r in reversed(audit)] == ["retry", "retry", "delivered"]


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
