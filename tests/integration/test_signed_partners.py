"""Partners that sign: a user bound to a certificate must sign every request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import xmlsec
import zeep
from lxml import etree
from zeep.wsse import utils
from zeep.wsse.signature import BinarySignature
from zeep.wsse.username import UsernameToken

from tests.conftest import PASSWORD, Installation, free_port

FIVE_MIN = dt.timedelta(minutes=5)


class SignOnly(BinarySignature):
    """zeep's X.509 token signature, SHA-256; Ponte does not sign its replies."""

    def __init__(self, key: Path, cert: Path) -> None:
        super().__init__(
            str(key),
            str(cert),
            signature_method=xmlsec.Transform.RSA_SHA256,
            digest_method=xmlsec.Transform.SHA256,
        )

    def apply(self, envelope: etree._Element, headers: dict[str, str]):  # type: ignore[no-untyped-def]
        # Like SAP PI and CXF: a wsu:Timestamp first, so that it is signed too.
        security = utils.get_security_header(envelope)
        created = dt.datetime.now(dt.UTC).replace(microsecond=0)
        timestamp = utils.WSU("Timestamp")
        for name, moment in (("Created", created), ("Expires", created + FIVE_MIN)):
            timestamp.append(utils.WSU(name, moment.strftime("%Y-%m-%dT%H:%M:%SZ")))
        security.append(timestamp)
        return super().apply(envelope, headers)

    def verify(self, envelope: etree._Element) -> etree._Element:
        return envelope


class Chain:
    """UsernameToken and Signature together (zeep 4.3.3 cannot verify a list)."""

    def __init__(self, *parts: object) -> None:
        self.parts = parts

    def apply(self, envelope: etree._Element, headers: dict[str, str]):  # type: ignore[no-untyped-def]
        for part in self.parts:
            envelope, headers = part.apply(envelope, headers)  # type: ignore[attr-defined]
        return envelope, headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        return envelope


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    inst = Installation(tmp_path_factory.mktemp("signed"), free_port())
    inst.write_config("")
    try:
        inst.ponte(
            "users", "add", "sap-pi", "--role", "finance_erp", "--password", PASSWORD
        )
        inst.ponte(
            "keys", "generate", "--id", "partner", "--dir", "partner", "--cn", "SAP PI"
        )
        inst.ponte(
            "keys", "generate", "--id", "other", "--dir", "partner", "--cn", "Other"
        )
        bound = inst.ponte(
            "users",
            "bind-cert",
            "sap-pi",
            str(inst.root / "partner" / "partner.cert.pem"),
        )
        assert "bound to certificate sha256:" in bound.stdout
        inst.serve()
        yield inst
    finally:
        inst.stop_all()


def keys(server: Installation, name: str) -> tuple[Path, Path]:
    folder = server.root / "partner"
    return folder / f"{name}.key.pem", folder / f"{name}.cert.pem"


def party(external_id: str) -> dict[str, str]:
    return {
        "sourceSystem": "SAPPI",
        "externalId": external_id,
        "kind": "company",
        "taxId": "11.222.333/0001-81",
        "name": "Fornecedor SA",
    }


def test_request_signed_with_the_bound_certificate_needs_no_password(
    server: Installation,
) -> None:
    client = zeep.Client(f"{server.url}?wsdl", wsse=SignOnly(*keys(server, "partner")))
    result = client.service.UpsertParty(party=party("S-1"))
    assert result.outcome == "created"


def test_signature_and_username_token_together_are_accepted(
    server: Installation,
) -> None:
    wsse = Chain(UsernameToken("sap-pi", PASSWORD), SignOnly(*keys(server, "partner")))
    client = zeep.Client(f"{server.url}?wsdl", wsse=wsse)
    assert client.service.UpsertParty(party=party("S-2")).outcome == "created"


def test_bound_user_without_a_signature_is_refused(server: Installation) -> None:
    client = zeep.Client(f"{server.url}?wsdl", wsse=UsernameToken("sap-pi", PASSWORD))
    with pytest.raises(
        zeep.exceptions.Fault, match="must sign its requests"
    ) as refused:
        client.service.UpsertParty(party=party("S-3"))
    assert "Client.Signature" in refused.value.code


def test_request_signed_with_another_key_is_refused(server: Installation) -> None:
    client = zeep.Client(f"{server.url}?wsdl", wsse=SignOnly(*keys(server, "other")))
    with pytest.raises(zeep.exceptions.Fault, match="no user is bound"):
        client.service.UpsertParty(party=party("S-4"))


def test_tampered_and_replayed_signed_requests_are_refused(
    server: Installation,
) -> None:
    client = zeep.Client(f"{server.url}?wsdl", wsse=SignOnly(*keys(server, "partner")))
    envelope = client.create_message(client.service, "UpsertParty", party=party("S-5"))
    body = etree.tostring(envelope)
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    tampered = body.replace(b"Fornecedor SA", b"Fornecedor SB")
    refused = requests.post(server.url, data=tampered, headers=headers, timeout=30)
    assert refused.status_code == 500 and b"Client.Signature" in refused.content
    first = requests.post(server.url, data=body, headers=headers, timeout=30)
    assert first.status_code == 200, first.text
    again = requests.post(server.url, data=body, headers=headers, timeout=30)
    assert again.status_code == 500 and b"replay" in again.content
