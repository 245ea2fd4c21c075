"""QueryAuditEntries through a live server: who may read the trail, what each
entry carries, paging, and hashes an auditor can recompute from the answer."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import zeep
import zeep.helpers
from lxml import etree
from zeep.wsse.username import UsernameToken

from tests.conftest import PASSWORD, Installation, free_port

CPF, DIGITS = "123.456.789-09", "12345678909"
ROLES = {"erp": "finance_erp", "hr": "hr_system", "audit": "auditor", "boss": "admin"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    inst = Installation(tmp_path_factory.mktemp("audit-soap"), free_port())
    inst.write_config("")
    try:
        for user, role in ROLES.items():
            inst.ponte("users", "add", user, "--role", role, "--password", PASSWORD)
        inst.serve()
        yield inst
    finally:
        inst.stop_all()


def client(server: Installation, user: str, password: str = PASSWORD) -> zeep.Client:
    return zeep.Client(f"{server.url}?wsdl", wsse=UsernameToken(user, password))


def party(external_id: str) -> dict[str, Any]:
    return {
        "sourceSystem": "SAP",
        "externalId": external_id,
        "kind": "individual",
        "taxId": CPF,
        "name": "Maria da Silva",
    }


def entries(server: Installation, reader: str = "audit", **where: Any) -> list[Any]:
    """Every entry matching ``where``, following nextCursor to the end."""
    soap, found, cursor = client(server, reader), [], None
    for _ in range(100):
        page = soap.service.QueryAuditEntries(filter=where, pageSize=3, cursor=cursor)
        found += page["items"]["entry"] if page["items"] else []
        cursor = page["nextCursor"]
        if not cursor:
            return found
    raise AssertionError("paging did not end")


def test_an_auditor_pages_through_the_entries_once_each_in_chain_order(
    server: Installation,
) -> None:
    erp = client(server, "erp")
    keys = [f"A-{uuid.uuid4().hex[:8]}" for _ in range(7)]
    for key in keys:
        erp.service.UpsertParty(party=party(key))
    found = entries(server, user="erp", operation="UpsertParty")
    ids = [e["id"] for e in found]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) >= 7
    assert [e["sequence"] for e in found] == sorted(e["sequence"] for e in found)
    assert all(e["user"] == "erp" and e["outcome"] == "ok" for e in found)


def test_admin_may_read_the_trail_and_integrations_may_not(
    server: Installation,
) -> None:
    assert client(server, "boss").service.QueryAuditEntries(pageSize=1)["items"]
    for user in ("erp", "hr"):
        with pytest.raises(zeep.exceptions.Fault) as refused:
            client(server, user).service.QueryAuditEntries(pageSize=1)
        assert refused.value.code.endswith("Client.Authorization")
        assert f"user {user} (role {ROLES[user]}) may not call QueryAuditEntries" in (
            refused.value.message
        )
    denied = entries(server, operation="QueryAuditEntries", outcome="fault")
    assert {(e["user"], e["faultCode"]) for e in denied} >= {
        ("erp", "Client.Authorization"),
        ("hr", "Client.Authorization"),
    }


def test_an_inbound_entry_carries_the_digest_of_the_request_and_its_duration(
    server: Installation,
) -> None:
    key = f"D-{uuid.uuid4().hex[:8]}"
    erp = client(server, "erp")
    body = erp.create_message(erp.service, "UpsertParty", party=party(key))
    data = etree.tostring(body)
    answer = requests.post(
        server.url,
        data=data,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    created = zeep.helpers.serialize_object(
        erp.service.GetParty(sourceSystem="SAP", externalId=key), dict
    )
    [upserted] = entries(
        server, operation="UpsertParty", recordType="party", recordId=created["id"]
    )
    assert upserted["requestSha256"] == hashlib.sha256(data).hexdigest()
    assert upserted["durationMs"] is not None and upserted["durationMs"] >= 0
    assert upserted["clientAddress"] == "127.0.0.1"
    assert json.loads(upserted["detail"])["result"] == "created"


def test_a_wrong_password_is_an_entry_naming_the_user_it_claimed(
    server: Installation,
) -> None:
    with pytest.raises(zeep.exceptions.Fault, match="wrong user name or password"):
        client(server, "hr", "not-the-password").service.GetParty(id="x")
    refused = entries(server, operation="GetParty", outcome="fault")
    mine = [e for e in refused if json.loads(e["detail"]).get("claimedUser") == "hr"]
    assert mine, refused
    assert (mine[-1]["user"], mine[-1]["faultCode"]) == (
        "anonymous",
        "Client.Authentication",
    )


def test_no_entry_shows_a_full_cpf(server: Installation) -> None:
    erp = client(server, "erp")
    erp.service.UpsertParty(party=party(f"C-{uuid.uuid4().hex[:8]}"))
    with pytest.raises(zeep.exceptions.Fault):
        client(server, "hr").service.GetEmployee(cpf=CPF)  # a refusal naming it
    shown = [zeep.helpers.serialize_object(e, dict) for e in entries(server)]
    text = json.dumps(shown, default=str)
    assert DIGITS not in text and CPF not in text
    assert "***.456.789-**" in text


def test_time_range_and_cursor_are_checked(server: Installation) -> None:
    soap = client(server, "audit")
    past = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    empty = soap.service.QueryAuditEntries(filter={"until": past}, pageSize=5)
    assert empty["items"] is None or not empty["items"]["entry"]
    with pytest.raises(zeep.exceptions.Fault, match=r"filter\.until: must be later"):
        soap.service.QueryAuditEntries(filter={"since": past, "until": past})
    with pytest.raises(zeep.exceptions.Fault, match="cursor: is not a cursor"):
        soap.service.QueryAuditEntries(cursor="bogus")


def test_an_auditor_can_recompute_each_hash_from_the_answer(
    server: Installation,
) -> None:
    """The rule in the README, applied to the answer alone, gives every hash
    and every link: nothing but the published fields is needed."""
    client(server, "erp").service.UpsertParty(party=party(f"H-{uuid.uuid4().hex[:6]}"))
    found = entries(server)
    previous = None
    for e in found:
        fields = [
            1,
            e["sequence"],
            e["at"].astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            e["user"],
            e["channel"],
            e["operation"],
            e["recordType"],
            e["recordId"],
            e["outcome"],
            e["faultCode"],
            e["correlationId"],
            e["clientAddress"],
            e["durationMs"],
            e["detail"],
            e["requestSha256"],
            e["responseSha256"],
            e["previousHash"],
        ]
        text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        assert hashlib.sha256(text.encode()).hexdigest() == e["hash"], e["id"]
        if previous is not None and e["sequence"] == previous["sequence"] + 1:
            assert e["previousHash"] == previous["hash"]
        previous = e
    assert found[0]["sequence"] == 1 and found[0]["previousHash"] == "0" * 64
