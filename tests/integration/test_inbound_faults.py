"""Bad requests against a running ``ponte serve``: each gets a SOAP Fault.

One server for the whole module. Every refusal is checked the same way: HTTP
500 with a well-formed SOAP 1.1 Fault and a stable code, nothing written to
parties, payment orders, events or deliveries, an audit entry with outcome
``fault`` and that code, and a server that still answers afterwards.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import zeep
from lxml import etree
from zeep.wsse.username import UsernameToken

from adapter.xmlutil import SOAP11_ENV, safe_parser
from tests.conftest import PASSWORD, REPO, Installation, free_port

HOSTILE = REPO / "tests" / "data" / "hostile"
EXPECTED: dict[str, str] = json.loads((HOSTILE / "expected.json").read_text())
TNS = "urn:ponte:legal:v1"
MAX_BODY = 16384
WRITTEN_TABLES = ("parties", "payment_orders", "events", "deliveries")
CPF = "123.456.789-09"
UNKNOWN_CPF = "529.982.247-25"
CNJ = "0058967-77.2016.8.19.0000"
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
PASSWORD_TEXT = (
    "http://docs.oasis-open.org/wss/2004/01/"
    "oasis-200401-wss-username-token-profile-1.0#PasswordText"
)
WSSE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
)
WSU = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
)

# Product bugs found by these tests; each is an xfail(strict=True) until fixed.
# The five found first (XML bomb code, empty Body, SOAP 1.2 VersionMismatch,
# spyne faults audited with another code, chunked bodies) are fixed.
HOSTILE_BUGS: dict[str, str] = {}
AUDIT_BUGS: dict[str, str] = {}


def hostile_files(bugs: dict[str, str]) -> list[Any]:
    return [
        pytest.param(
            path.name,
            id=path.stem,
            marks=[pytest.mark.xfail(reason=bugs[path.name], strict=True)]
            if path.name in bugs
            else [],
        )
        for path in sorted(HOSTILE.glob("*.xml"))
    ]


class LimitedInstallation(Installation):
    """An installation whose server refuses bodies over ``MAX_BODY`` bytes."""

    def env(self) -> dict[str, str]:
        env = super().env()
        env["PONTE_SERVER__MAX_BODY_BYTES"] = str(MAX_BODY)
        return env


# Raw envelopes, for what zeep will not send


def security_header(
    user: str = "erp",
    password: str = PASSWORD,
    *,
    nonce: bytes | None = None,
    created: str | None = None,
) -> str:
    extra = ""
    if nonce is not None:
        extra += f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
    if created is not None:
        extra += f'<wsu:Created xmlns:wsu="{WSU}">{created}</wsu:Created>'
    return (
        f'<soap:Header><wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>{user}</wsse:Username>"
        f'<wsse:Password Type="{PASSWORD_TEXT}">{password}</wsse:Password>'
        f"{extra}</wsse:UsernameToken></wsse:Security></soap:Header>"
    )


def envelope(body: str, header: str | None = None, encoding: str = "UTF-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<soap:Envelope xmlns:soap="{SOAP11_ENV}" xmlns:p="{TNS}">'
        f"{security_header() if header is None else header}"
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    )


def upsert_party_body(external_id: str, name: str) -> str:
    return (
        "<p:UpsertParty><p:party><p:sourceSystem>TEST</p:sourceSystem>"
        f"<p:externalId>{external_id}</p:externalId><p:kind>foreign</p:kind>"
        f"<p:name>{name}</p:name></p:party></p:UpsertParty>"
    )


def get_party_body(external_id: str) -> str:
    return (
        "<p:GetParty><p:sourceSystem>SAP</p:sourceSystem>"
        f"<p:externalId>{external_id}</p:externalId></p:GetParty>"
    )


def post(
    server: Installation, body: bytes | Iterator[bytes], **headers: str
) -> requests.Response:
    return requests.post(
        server.url, data=body, headers={**SOAP_HEADERS, **headers}, timeout=30
    )


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# The SOAP Fault as a client reads it


@dataclass(frozen=True)
class SoapFault:
    code: str
    message: str
    correlation_id: str | None


def soap_fault(response: requests.Response) -> SoapFault:
    """Parse ``response`` as a SOAP 1.1 Fault; fail when it is anything else."""
    assert response.status_code == 500, response.text[:500]
    assert response.headers["Content-Type"].startswith("text/xml"), response.text
    root = etree.fromstring(response.content, safe_parser())
    assert root.tag == f"{{{SOAP11_ENV}}}Envelope"
    fault = root.find(f"{{{SOAP11_ENV}}}Body/{{{SOAP11_ENV}}}Fault")
    assert fault is not None, response.text
    code, message = fault.findtext("faultcode"), fault.findtext("faultstring")
    assert code and message, response.text
    prefix, _, local = code.partition(":")
    assert fault.nsmap.get(prefix) == SOAP11_ENV, f"{code} is not a SOAP 1.1 QName"
    return SoapFault(
        code=local,
        message=message,
        correlation_id=fault.findtext(
            f"detail/{{{TNS}}}faultDetail/{{{TNS}}}correlationId"
        ),
    )


# What the database holds


def database(server: Installation) -> sqlite3.Connection:
    return sqlite3.connect(server.root / "data" / "ponte.db")


def written_counts(server: Installation) -> dict[str, int]:
    with database(server) as db:
        return {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in WRITTEN_TABLES
        }


def last_audit_id(server: Installation) -> int:
    with database(server) as db:
        return int(
            db.execute("SELECT coalesce(max(id), 0) FROM audit_entries").fetchone()[0]
        )


def audit_since(
    server: Installation, after: int
) -> list[tuple[str, str | None, str | None]]:
    """``(outcome, fault_code, correlation_id)`` of entries newer than ``after``."""
    with database(server) as db:
        return db.execute(
            "SELECT outcome, fault_code, correlation_id FROM audit_entries"
            " WHERE id > ? ORDER BY id",
            (after,),
        ).fetchall()


@contextmanager
def nothing_written(server: Installation, code: str) -> Iterator[None]:
    """Check that the block writes no business row and audits one ``code`` fault."""
    counts, mark = written_counts(server), last_audit_id(server)
    yield
    assert written_counts(server) == counts
    entries = audit_since(server, mark)
    assert entries, "no audit entry was written"
    assert all(outcome == "fault" for outcome, _, _ in entries), entries
    assert code in [fault_code for _, fault_code, _ in entries], entries


def party_name(server: Installation, external_id: str) -> str | None:
    with database(server) as db:
        row = db.execute(
            "SELECT name FROM parties WHERE external_id = ?", (external_id,)
        ).fetchone()
    return None if row is None else str(row[0])


def assert_still_serving(server: Installation) -> None:
    health = requests.get(f"http://127.0.0.1:{server.port}/health", timeout=10)
    assert health.status_code == 200 and health.json()["database"] == "ok"
    answer = post(server, envelope(get_party_body("SEED-1")).encode())
    assert answer.status_code == 200, answer.text
    assert b"Maria da Silva" in answer.content


# Fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    inst = LimitedInstallation(tmp_path_factory.mktemp("ponte"), free_port())
    inst.write_config("")
    try:
        inst.ponte(
            "users", "add", "erp", "--role", "finance_erp", "--password", PASSWORD
        )
        inst.ponte(
            "users", "add", "reader", "--role", "auditor", "--password", PASSWORD
        )
        inst.serve()
        seeded = post(inst, envelope(seed_party_body()).encode())
        assert seeded.status_code == 200, seeded.text
        yield inst
    finally:
        inst.stop_all()


def seed_party_body() -> str:
    return (
        "<p:UpsertParty><p:party><p:sourceSystem>SAP</p:sourceSystem>"
        "<p:externalId>SEED-1</p:externalId><p:kind>individual</p:kind>"
        f"<p:taxId>{CPF}</p:taxId><p:name>Maria da Silva</p:name>"
        "</p:party></p:UpsertParty>"
    )


def client_for(server: Installation, token: UsernameToken) -> zeep.Client:
    return zeep.Client(f"{server.url}?wsdl", wsse=token)


@pytest.fixture(scope="module")
def erp(server: Installation) -> zeep.Client:
    return client_for(server, UsernameToken("erp", PASSWORD))


def order(external_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "sourceSystem": "SAP",
        "externalId": external_id,
        "lawsuitNumber": CNJ,
        "type": "condemnation",
        "beneficiaryTaxId": CPF,
        "amount": "1500.00",
        "dueDate": dt.date(2026, 12, 20),
        "costCenter": "JUR-01",
        "description": "Condenação trabalhista",
        **changes,
    }


def party(external_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "sourceSystem": "SAP",
        "externalId": external_id,
        "kind": "individual",
        "taxId": CPF,
        "name": "Maria da Silva",
        **changes,
    }


# Hostile bodies


@pytest.mark.parametrize("name", hostile_files(HOSTILE_BUGS))
def test_hostile_request_gets_a_soap_fault(server: Installation, name: str) -> None:
    counts = written_counts(server)

    response = post(server, (HOSTILE / name).read_bytes())

    fault = soap_fault(response)
    assert EXPECTED[name] in fault.code, fault
    assert b"root:" not in response.content
    assert written_counts(server) == counts
    assert_still_serving(server)


@pytest.mark.parametrize("name", hostile_files(AUDIT_BUGS))
def test_hostile_request_is_audited_with_the_code_the_client_got(
    server: Installation, name: str
) -> None:
    mark = last_audit_id(server)
    sent = (HOSTILE / name).read_bytes()

    response = post(server, sent)

    entries = audit_since(server, mark)
    assert response.status_code == 500
    assert len(entries) == 1, entries
    outcome, code, correlation_id = entries[0]
    fault = soap_fault(response)
    assert (outcome, code) == ("fault", fault.code)
    assert fault.correlation_id == correlation_id
    # Refused before any operation ran, the entry still has the request's digest.
    with database(server) as db:
        (digest,) = db.execute(
            "SELECT request_sha256 FROM audit_entries WHERE id > ?", (mark,)
        ).fetchone()
    assert digest == hashlib.sha256(sent).hexdigest()


def test_every_hostile_file_has_an_expected_code() -> None:
    assert sorted(EXPECTED) == sorted(p.name for p in HOSTILE.glob("*.xml"))


# Authentication


def test_wrong_password_is_refused(server: Installation) -> None:
    client = client_for(server, UsernameToken("erp", "not-the-password-at-all"))

    with (
        nothing_written(server, "Client.Authentication"),
        pytest.raises(
            zeep.exceptions.Fault, match="wrong user name or password"
        ) as caught,
    ):
        client.service.UpsertParty(party=party(new_id("WRONG-PW")))

    assert "Client.Authentication" in caught.value.code


def test_unknown_user_is_refused(server: Installation) -> None:
    client = client_for(server, UsernameToken("nobody", PASSWORD, use_digest=True))

    with (
        nothing_written(server, "Client.Authentication"),
        pytest.raises(
            zeep.exceptions.Fault, match="wrong user name or password"
        ) as caught,
    ):
        client.service.UpsertParty(party=party(new_id("NOBODY")))

    assert "Client.Authentication" in caught.value.code


def test_replayed_nonce_is_rejected(server: Installation) -> None:
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = security_header(nonce=os.urandom(16), created=created)
    external_id = new_id("REPLAY")
    body = envelope(upsert_party_body(external_id, "Replay Ltda"), header).encode()

    first = post(server, body)
    with nothing_written(server, "Client.Authentication"):
        second = post(server, body)

    assert first.status_code == 200, first.text
    fault = soap_fault(second)
    assert fault.code == "Client.Authentication"
    assert "replay" in fault.message


@pytest.mark.parametrize("check", ["rules", "database"])
def test_a_request_that_failed_is_a_replay_the_second_time(
    server: Installation, check: str
) -> None:
    # The nonce is stored with the call's own transaction; when the call
    # fails (in its rules, before any transaction, or in the database) it is
    # stored on its own, so the same request sent again is refused as a
    # replay, and both refusals are audited.
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = security_header(nonce=os.urandom(16), created=created)
    if check == "rules":  # a CPF whose check digits are wrong
        request, code = (
            "<p:UpsertParty><p:party><p:sourceSystem>TEST</p:sourceSystem>"
            f"<p:externalId>{new_id('BADCPF')}</p:externalId><p:kind>person</p:kind>"
            "<p:taxId>123.456.789-00</p:taxId><p:name>Fulano</p:name>"
            "</p:party></p:UpsertParty>",
            "Client.Validation",
        )
    else:
        request, code = (
            "<p:GetParty><p:sourceSystem>SAP</p:sourceSystem>"
            f"<p:externalId>{new_id('NOBODY')}</p:externalId></p:GetParty>",
            "Client.NotFound",
        )
    body = envelope(request, header).encode()

    with nothing_written(server, code):
        first = soap_fault(post(server, body))
    with nothing_written(server, "Client.Authentication"):
        second = soap_fault(post(server, body))

    assert first.code == code, first
    assert second.code == "Client.Authentication" and "replay" in second.message


def test_stale_created_is_rejected(server: Installation) -> None:
    ten_minutes_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    token = UsernameToken("erp", PASSWORD, use_digest=True, created=ten_minutes_ago)
    client = client_for(server, token)

    with (
        nothing_written(server, "Client.Authentication"),
        pytest.raises(
            zeep.exceptions.Fault, match="outside the allowed window"
        ) as caught,
    ):
        client.service.UpsertParty(party=party(new_id("STALE")))

    assert "Client.Authentication" in caught.value.code


def test_good_password_digest_is_accepted(server: Installation) -> None:
    client = client_for(server, UsernameToken("erp", PASSWORD, use_digest=True))
    external_id = new_id("DIGEST")

    result = client.service.UpsertParty(party=party(external_id))

    assert result.outcome == "created"
    assert party_name(server, external_id) == "Maria da Silva"


def test_auditor_may_not_create_a_payment_order(server: Installation) -> None:
    reader = client_for(server, UsernameToken("reader", PASSWORD))

    with (
        nothing_written(server, "Client.Authorization"),
        pytest.raises(
            zeep.exceptions.Fault, match="may not call CreatePaymentOrder"
        ) as caught,
    ):
        reader.service.CreatePaymentOrder(paymentOrder=order(new_id("AUDITOR")))

    assert "Client.Authorization" in caught.value.code


# Validation and state


def test_invalid_cpf_is_refused_naming_tax_id(
    server: Installation, erp: zeep.Client
) -> None:
    with (
        nothing_written(server, "Client.Validation"),
        pytest.raises(zeep.exceptions.Fault, match=r"^taxId: .*check digits") as caught,
    ):
        erp.service.UpsertParty(party=party(new_id("BAD-CPF"), taxId="123.456.789-00"))

    assert "Client.Validation" in caught.value.code


def test_invalid_cnj_is_refused_naming_lawsuit_number(
    server: Installation, erp: zeep.Client
) -> None:
    bad = order(new_id("BAD-CNJ"), lawsuitNumber="0058967-78.2016.8.19.0000")

    with (
        nothing_written(server, "Client.Validation"),
        pytest.raises(zeep.exceptions.Fault, match=r"^lawsuitNumber: ") as caught,
    ):
        erp.service.CreatePaymentOrder(paymentOrder=bad)

    assert "Client.Validation" in caught.value.code


def test_negative_amount_is_refused_naming_amount(
    server: Installation, erp: zeep.Client
) -> None:
    bad = order(new_id("NEGATIVE"), amount="-10.00")

    with (
        nothing_written(server, "Client.Validation"),
        pytest.raises(
            zeep.exceptions.Fault, match=r"^amount: must be greater than zero"
        ) as caught,
    ):
        erp.service.CreatePaymentOrder(paymentOrder=bad)

    assert "Client.Validation" in caught.value.code


def test_unknown_beneficiary_is_not_found_naming_beneficiary_tax_id(
    server: Installation, erp: zeep.Client
) -> None:
    bad = order(new_id("NO-PARTY"), beneficiaryTaxId=UNKNOWN_CPF)

    with (
        nothing_written(server, "Client.NotFound"),
        pytest.raises(
            zeep.exceptions.Fault, match=r"^beneficiaryTaxId: no party"
        ) as caught,
    ):
        erp.service.CreatePaymentOrder(paymentOrder=bad)

    assert "Client.NotFound" in caught.value.code
    assert "529" not in str(caught.value)  # the CPF is masked in the fault


def test_approving_twice_is_a_conflict(server: Installation, erp: zeep.Client) -> None:
    created = erp.service.CreatePaymentOrder(paymentOrder=order(new_id("TWICE")))
    order_id = created.paymentOrder.id
    assert erp.service.ApprovePaymentOrder(id=order_id).status == "approved"

    with (
        nothing_written(server, "Client.Conflict"),
        pytest.raises(zeep.exceptions.Fault, match="cannot become approved") as caught,
    ):
        erp.service.ApprovePaymentOrder(id=order_id)

    assert "Client.Conflict" in caught.value.code


# Size, encoding and HTTP details


def padded(external_id: str, size: int) -> bytes:
    """A valid UpsertParty of exactly ``size`` bytes (a trailing comment pads it)."""
    body = envelope(upsert_party_body(external_id, "Padded Ltda")).encode()
    filler = size - len(body) - len(b"<!---->")
    assert filler >= 0
    return body + b"<!--" + b"x" * filler + b"-->"


def test_body_over_the_size_limit_is_too_large(server: Installation) -> None:
    body = padded(new_id("HUGE"), MAX_BODY + 1)

    with nothing_written(server, "Client.TooLarge"):
        response = post(server, body)

    fault = soap_fault(response)
    assert fault.code == "Client.TooLarge"
    assert str(MAX_BODY) in fault.message


def test_body_of_exactly_the_size_limit_is_accepted(server: Installation) -> None:
    external_id = new_id("LIMIT")

    response = post(server, padded(external_id, MAX_BODY))

    assert response.status_code == 200, response.text
    assert party_name(server, external_id) == "Padded Ltda"


def test_latin1_request_is_stored_as_the_same_text(server: Installation) -> None:
    external_id = new_id("LATIN1")
    text = envelope(
        upsert_party_body(external_id, "São Paulo Ltda"), encoding="ISO-8859-1"
    )
    body = text.encode("iso-8859-1")
    assert b"S\xe3o Paulo" in body

    response = post(server, body, **{"Content-Type": "text/xml"})

    assert response.status_code == 200, response.text
    assert party_name(server, external_id) == "São Paulo Ltda"


def test_request_without_soap_action_is_accepted(server: Installation) -> None:
    external_id = new_id("NO-ACTION")
    body = envelope(upsert_party_body(external_id, "Sem Ação Ltda")).encode()

    response = requests.post(
        server.url, data=body, headers={"Content-Type": "text/xml"}, timeout=30
    )

    assert response.status_code == 200, response.text
    assert party_name(server, external_id) == "Sem Ação Ltda"


def test_chunked_request_is_accepted(server: Installation) -> None:
    external_id = new_id("CHUNKED")
    body = envelope(upsert_party_body(external_id, "Chunked Ltda")).encode()

    response = post(server, iter([body]))  # a generator makes requests chunk

    assert response.status_code == 200, response.text
    assert party_name(server, external_id) == "Chunked Ltda"
