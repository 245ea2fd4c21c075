"""When Ponte terminates TLS, a bound client certificate identifies the user."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.conftest import PASSWORD, Installation, free_port, wait_until
from tests.integration.test_inbound_faults import security_header

TNS = "urn:ponte:legal:v1"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def server_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (with the IP in subjectAltName)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.cert.pem", folder / "server.key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    inst = Installation(tmp_path_factory.mktemp("tls"), free_port())
    cert, key = server_certificate(inst.root)
    inst.write_config("")
    inst.ponte("keys", "generate", "--id", "partner", "--dir", "partner")
    client_ca = inst.root / "partner" / "partner.cert.pem"
    tls_lines = (
        f'tls_cert = "{cert}"\ntls_key = "{key}"\ntls_client_ca = "{client_ca}"\n'
    )
    text = inst.config.read_text().replace("workers = 2\n", "workers = 2\n" + tls_lines)
    inst.config.write_text(text)
    try:
        inst.ponte(
            "users", "add", "sap-pi", "--role", "finance_erp", "--password", PASSWORD
        )
        inst.ponte("users", "bind-cert", "sap-pi", str(client_ca))
        inst.ponte(
            "users", "add", "erp", "--role", "finance_erp", "--password", PASSWORD
        )
        inst.start("serve", "--no-worker")
        wait_until(lambda: _healthy(inst, cert), 30)
        yield inst
    finally:
        inst.stop_all()


def _healthy(inst: Installation, cert: Path) -> bool:
    try:
        url = f"https://127.0.0.1:{inst.port}/health"
        return requests.get(url, verify=str(cert), timeout=2).ok
    except requests.RequestException:  # refused, or slow while starting up
        return False


def upsert(external_id: str, header: str = "") -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:p="{TNS}">{header}<soap:Body>'
        "<p:UpsertParty><p:party><p:sourceSystem>TLS</p:sourceSystem>"
        f"<p:externalId>{external_id}</p:externalId><p:kind>foreign</p:kind>"
        "<p:name>Parceiro</p:name></p:party></p:UpsertParty></soap:Body></soap:Envelope>"
    ).encode()


def post(
    inst: Installation, body: bytes, cert: tuple[str, str] | None
) -> requests.Response:
    return requests.post(
        f"https://127.0.0.1:{inst.port}/soap/v1",
        data=body,
        headers={"Content-Type": "text/xml", "SOAPAction": '""'},
        cert=cert,
        verify=str(inst.root / "server.cert.pem"),
        timeout=30,
    )


def partner(inst: Installation) -> tuple[str, str]:
    folder = inst.root / "partner"
    return str(folder / "partner.cert.pem"), str(folder / "partner.key.pem")


def test_wsdl_advertises_the_https_address(tls: Installation) -> None:
    wsdl = requests.get(
        f"https://127.0.0.1:{tls.port}/soap/v1?wsdl",
        verify=str(tls.root / "server.cert.pem"),
        timeout=10,
    )
    assert f'location="https://127.0.0.1:{tls.port}/soap/v1"' in wsdl.text


def test_bound_client_certificate_authenticates_without_a_password(
    tls: Installation,
) -> None:
    response = post(tls, upsert("T-1"), partner(tls))
    assert response.status_code == 200, response.text
    audit = tls.ponte("audit", "list", "--limit", "5").stdout
    assert "sap-pi  soap  UpsertParty" in audit


def test_without_certificate_or_password_the_call_is_refused(tls: Installation) -> None:
    response = post(tls, upsert("T-2"), None)
    assert response.status_code == 500
    assert b"Client.Authentication" in response.content


def test_password_users_still_work_over_tls(tls: Installation) -> None:
    response = post(tls, upsert("T-3", security_header("erp", PASSWORD)), None)
    assert response.status_code == 200, response.text
