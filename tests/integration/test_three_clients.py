"""The published contract from three independent SOAP clients, against a live server.

zeep (Python), suds-community (Python) and node-soap (Node.js, driven through
``tests/clients/node_client.js``) each run the same scenario end to end, one
family of operations after the other: parties (upsert, get, bulk, query,
delete), lawsuits (upsert, bulk, paged query, get, delete) and payment orders
(create, approve, get), then one call the server must refuse with a fault. Every client
authenticates the way its users would: zeep with PasswordDigest, suds with
PasswordText plus Nonce and Created, node-soap with PasswordDigest.

Each client writes under its own ``sourceSystem`` and lawsuit ``area``, so the
three runs share one server without seeing each other's lawsuits. Parties do
share the CPF, as the scenario prescribes, so a payment order's beneficiary
(named by CPF alone) may be another client's party.

A contract problem (something the contract requires that a client cannot
express or read) is an ``xfail(strict=True)`` on that one client's test, listed
in ``CONTRACT_PROBLEMS``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import pytest
import requests
import suds
import suds.client
import suds.sax.text
import suds.sudsobject
import suds.wsse
import zeep
import zeep.helpers
from lxml import etree
from zeep.plugins import HistoryPlugin
from zeep.wsse.username import UsernameToken

from tests.conftest import PASSWORD, REPO, Installation, free_port

CLIENTS_DIR = REPO / "tests" / "clients"
TNS = "urn:ponte:legal:v1"
WSSE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
)
WSU = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
)
USER = "erp"
CPF = "123.456.789-09"
CPF_DIGITS = "12345678909"
OTHER_CPF = "529.982.247-25"
BAD_CPF = "123.456.789-00"
CNJ = "0058967-77.2016.8.19.0000"
CNJ_DIGITS = "00589677720168190000"
MAX_PAGES = 10
DUE_DATE = dt.date.today() + dt.timedelta(days=30)
CLIENTS = ("zeep", "suds", "node")

# (client, check) -> what the contract lets that client not do. Empty: none found.
CONTRACT_PROBLEMS: dict[tuple[str, str], str] = {}

NETWORK_ERRORS = re.compile(
    r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|"
    r"network|getaddrinfo|proxy",
    re.IGNORECASE,
)


# What each driver hands back, in the client's own types turned into plain data.


@dataclass(frozen=True)
class Call:
    op: str
    args: dict[str, Any]


@dataclass(frozen=True)
class SoapFault:
    code: str
    message: str
    detail_code: str | None
    correlation_id: str | None


@dataclass
class Outcome:
    """One call: the result as dicts, lists and leaves, or the fault."""

    op: str
    result: Any = None
    fault: SoapFault | None = None
    request: str | None = None

    def value(self) -> Any:
        assert self.fault is None, f"{self.op} answered with a fault: {self.fault}"
        assert self.result is not None, f"{self.op} answered with no result"
        return self.result


class Driver(Protocol):
    name: str

    def run(self, calls: list[Call]) -> list[Outcome]: ...


def _text(node: Any, local: str) -> str | None:
    found = node.find(f".//{{{TNS}}}{local}") if node is not None else None
    return found.text if found is not None else None


class ZeepDriver:
    name = "zeep"

    def __init__(self, server: Installation) -> None:
        self.history = HistoryPlugin()
        self.client = zeep.Client(
            f"{server.url}?wsdl",
            wsse=UsernameToken(USER, PASSWORD, use_digest=True),
            plugins=[self.history],
        )

    def run(self, calls: list[Call]) -> list[Outcome]:
        return [self._one(call) for call in calls]

    def _one(self, call: Call) -> Outcome:
        operation = getattr(self.client.service, call.op)
        try:
            result = operation(**call.args)
            outcome = Outcome(
                call.op, result=zeep.helpers.serialize_object(result, dict)
            )
        except zeep.exceptions.Fault as fault:
            outcome = Outcome(
                call.op,
                fault=SoapFault(
                    str(fault.code),
                    str(fault.message),
                    _text(fault.detail, "code"),
                    _text(fault.detail, "correlationId"),
                ),
            )
        sent = self.history.last_sent
        if sent is not None:
            outcome.request = etree.tostring(sent["envelope"]).decode()
        return outcome


def suds_plain(value: Any) -> Any:
    """A suds answer as dicts and lists (suds leaves absent elements out)."""
    if isinstance(value, suds.sudsobject.Object):
        return {
            key: suds_plain(item) for key, item in suds.sudsobject.asdict(value).items()
        }
    if isinstance(value, list):
        return [suds_plain(item) for item in value]
    if isinstance(value, suds.sax.text.Text):
        return str(value)
    return value


class SudsDriver:
    name = "suds"

    def __init__(self, server: Installation) -> None:
        self.client = suds.client.Client(f"{server.url}?wsdl", cache=None)

    def run(self, calls: list[Call]) -> list[Outcome]:
        return [self._one(call) for call in calls]

    def _security(self) -> suds.wsse.Security:
        # suds draws the nonce and Created once per token: a token reused for a
        # second call would be a replay, so every call gets its own.
        token = suds.wsse.UsernameToken(USER, PASSWORD)
        token.setnonce()
        token.setcreated()
        security = suds.wsse.Security()
        security.tokens.append(token)
        return security

    def _one(self, call: Call) -> Outcome:
        self.client.set_options(wsse=self._security())
        operation = getattr(self.client.service, call.op)
        try:
            outcome = Outcome(call.op, result=suds_plain(operation(**call.args)))
        except suds.WebFault as error:
            fault = error.fault
            detail = getattr(getattr(fault, "detail", None), "faultDetail", None)
            outcome = Outcome(
                call.op,
                fault=SoapFault(
                    str(fault.faultcode),
                    str(fault.faultstring),
                    str(detail.code) if detail is not None else None,
                    str(detail.correlationId) if detail is not None else None,
                ),
            )
        sent = self.client.last_sent()
        outcome.request = str(sent) if sent is not None else None
        return outcome


def to_json(value: Any) -> Any:
    """Call arguments for node-soap: dates as ISO text, decimals as text."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def node_modules_ready() -> str | None:
    """Install node-soap if needed; the reason to skip, or None when ready."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are needed for the node-soap client (not on PATH)"
    if (CLIENTS_DIR / "node_modules" / "soap" / "package.json").exists():
        return None
    install = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund"],
        cwd=CLIENTS_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if install.returncode == 0:
        return None
    output = install.stdout + install.stderr
    if NETWORK_ERRORS.search(output):
        return f"npm install of node-soap failed for lack of network: {output[-500:]}"
    raise AssertionError(f"npm install in {CLIENTS_DIR} failed:\n{output}")


class NodeDriver:
    name = "node"

    def __init__(self, server: Installation, workdir: Path) -> None:
        self.wsdl = f"{server.url}?wsdl"
        self.workdir = workdir
        self.batches = 0

    def run(self, calls: list[Call]) -> list[Outcome]:
        self.batches += 1
        scenario = self.workdir / f"scenario-{self.batches}.json"
        scenario.write_text(
            json.dumps(
                [{"op": c.op, "args": to_json(c.args), "raw": True} for c in calls]
            )
        )
        done = subprocess.run(
            [
                "node",
                str(CLIENTS_DIR / "node_client.js"),
                self.wsdl,
                USER,
                PASSWORD,
                str(scenario),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"node_client.js failed:\n{done.stderr}"
        lines = [json.loads(line) for line in done.stdout.splitlines() if line]
        assert [line["op"] for line in lines] == [c.op for c in calls], done.stdout
        return [self._outcome(line) for line in lines]

    @staticmethod
    def _outcome(line: dict[str, Any]) -> Outcome:
        op = line["op"]
        if line["ok"]:
            # node-soap gives the response wrapper's content: {"<Op>Result": ...}.
            result = (line["result"] or {}).get(f"{op}Result")
            return Outcome(op, result=result, request=line.get("request"))
        fault = line["fault"]
        detail = ((fault.get("detail") or {}).get("faultDetail")) or {}
        return Outcome(
            op,
            fault=SoapFault(
                str(fault["code"]),
                str(fault["message"]),
                detail.get("code"),
                detail.get("correlationId"),
            ),
            request=line.get("request"),
        )


# The scenario, the same for every client.


@dataclass(frozen=True)
class Identity:
    source: str
    area: str


IDENTITIES = {
    "zeep": Identity("ZEEP", "labor"),
    "suds": Identity("SUDS", "civil"),
    "node": Identity("NODE", "consumer"),
}


def bank_account() -> dict[str, Any]:
    return {
        "bankCode": "001",
        "agency": "1234-5",
        "account": "98765-4",
        "accountType": "checking",
        "holderTaxId": CPF,
    }


def party(source: str, external_id: str, tax_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "sourceSystem": source,
        "externalId": external_id,
        "kind": "individual",
        "taxId": tax_id,
        "name": f"Pessoa {external_id}",
        **extra,
    }


def lawsuit(me: Identity, external_id: str, claim: str) -> dict[str, Any]:
    return {
        "sourceSystem": me.source,
        "externalId": external_id,
        "kind": "judicial",
        "cnjNumber": CNJ,
        "area": me.area,
        "companyRole": "defendant",
        "claimValue": Decimal(claim),
        "risk": "possible",
        "status": "active",
        "filingDate": dt.date(2016, 5, 10),
    }


def payment_order(me: Identity, external_id: str, amount: str) -> dict[str, Any]:
    return {
        "sourceSystem": me.source,
        "externalId": external_id,
        "lawsuitNumber": CNJ,
        "type": "condemnation",
        "beneficiaryTaxId": CPF,
        "amount": Decimal(amount),
        "dueDate": DUE_DATE,
        "costCenter": "JUR-01",
        "description": "Condenação trabalhista",
    }


@dataclass
class Run:
    """What one client saw: each step by name, and the pages of the query."""

    client: str
    me: Identity
    steps: dict[str, Outcome] = field(default_factory=dict)
    pages: list[Outcome] = field(default_factory=list)


def result_id(outcome: Outcome, member: str | None = None) -> str | None:
    if outcome.fault is not None or not outcome.result:
        return None
    record = outcome.result.get(member) if member else outcome.result
    return record.get("id") if record else None


def run_scenario(driver: Driver, me: Identity) -> Run:
    run = Run(driver.name, me)
    lawsuit_filter = {"area": me.area}
    first = [
        Call(
            "UpsertParty",
            {
                "party": party(
                    me.source,
                    "P-1",
                    CPF,
                    bankAccounts={"bankAccount": [bank_account()]},
                )
            },
        ),
        Call("GetParty", {"sourceSystem": me.source, "externalId": "P-1"}),
        Call(
            "UpsertParties",
            {
                "parties": {
                    "party": [
                        party(me.source, "P-2", OTHER_CPF),
                        party(me.source, "P-3", BAD_CPF),
                    ]
                }
            },
        ),
        Call("QueryParties", {"filter": {"taxId": CPF}, "pageSize": 50}),
        Call("UpsertLawsuit", {"lawsuit": lawsuit(me, "L-1", "25000.00")}),
        Call(
            "UpsertLawsuits",
            {
                "lawsuits": {
                    "lawsuit": [
                        lawsuit(me, "L-2", "1500.50"),
                        lawsuit(me, "L-3", "7.00"),
                    ]
                }
            },
        ),
        Call("QueryLawsuits", {"filter": lawsuit_filter, "pageSize": 1}),
    ]
    *steps, page = driver.run(first)
    run.steps.update((outcome.op, outcome) for outcome in steps)
    run.pages.append(page)
    while len(run.pages) < MAX_PAGES:
        last = run.pages[-1]
        cursor = last.result.get("nextCursor") if last.fault is None else None
        if not cursor:
            break
        args = {"filter": lawsuit_filter, "pageSize": 1, "cursor": cursor}
        run.pages += driver.run([Call("QueryLawsuits", args)])

    lawsuit_id = result_id(run.steps["UpsertLawsuit"], "lawsuit")
    second = driver.run(
        [
            Call("GetLawsuit", {"id": lawsuit_id}),
            Call("DeleteLawsuit", {"id": lawsuit_id}),
            Call("DeleteParty", {"sourceSystem": me.source, "externalId": "P-2"}),
            Call(
                "CreatePaymentOrder",
                {"paymentOrder": payment_order(me, "PO-1", "1500.00")},
            ),
        ]
    )
    run.steps.update((outcome.op, outcome) for outcome in second)

    order_id = result_id(run.steps["CreatePaymentOrder"], "paymentOrder")
    third = driver.run(
        [
            Call("ApprovePaymentOrder", {"id": order_id}),
            Call("GetPaymentOrder", {"id": order_id}),
            Call(
                "CreatePaymentOrder",
                {"paymentOrder": payment_order(me, "PO-NEG", "-10.00")},
            ),
        ]
    )
    approve, get, negative = third
    run.steps.update(ApprovePaymentOrder=approve, GetPaymentOrder=get)
    run.steps["NegativeAmount"] = negative
    return run


# Fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    inst = Installation(tmp_path_factory.mktemp("three-clients"), free_port())
    inst.write_config("")
    try:
        inst.ponte(
            "users", "add", USER, "--role", "finance_erp", "--password", PASSWORD
        )
        inst.serve()
        yield inst
    finally:
        inst.stop_all()


class Scenarios:
    """Runs each client's scenario once, on first use, and keeps what it saw."""

    def __init__(self, server: Installation, workdir: Path) -> None:
        self.server = server
        self.workdir = workdir
        self.runs: dict[str, Run] = {}
        self.skips: dict[str, str] = {}

    def driver(self, client: str) -> Driver:
        if client == "zeep":
            return ZeepDriver(self.server)
        if client == "suds":
            return SudsDriver(self.server)
        reason = node_modules_ready()
        if reason is not None:
            self.skips[client] = reason
            pytest.skip(reason)
        return NodeDriver(self.server, self.workdir)

    def get(self, client: str) -> Run:
        if client in self.skips:
            pytest.skip(self.skips[client])
        if client not in self.runs:
            self.runs[client] = run_scenario(self.driver(client), IDENTITIES[client])
        return self.runs[client]


@pytest.fixture(scope="module")
def scenarios(
    server: Installation, tmp_path_factory: pytest.TempPathFactory
) -> Scenarios:
    return Scenarios(server, tmp_path_factory.mktemp("node-scenarios"))


@pytest.fixture
def run(client: str, scenarios: Scenarios) -> Run:
    return scenarios.get(client)


def per_client(check: str) -> pytest.MarkDecorator:
    """Parametrize over the clients; a known contract problem is a strict xfail."""
    return pytest.mark.parametrize(
        "client",
        [
            pytest.param(
                client,
                id=client,
                marks=[
                    pytest.mark.xfail(
                        strict=True, reason=CONTRACT_PROBLEMS[(client, check)]
                    )
                ]
                if (client, check) in CONTRACT_PROBLEMS
                else [],
            )
            for client in CLIENTS
        ],
    )


# Reading answers the same way whatever the client


def members(wrapper: Any, member: str) -> list[Any]:
    """The records inside an array wrapper; every client must give a list."""
    if wrapper is None:
        return []
    records = wrapper.get(member)
    if records is None:
        return []
    assert isinstance(records, list), f"{member} is not a list: {records!r}"
    return records


def money(value: Any) -> Decimal:
    """xs:decimal: zeep gives Decimal, suds and node-soap give its text."""
    assert isinstance(value, Decimal | str), f"not a decimal: {value!r}"
    return Decimal(value)


def day(value: Any) -> dt.date:
    """xs:date: zeep and suds give a date, node-soap a Date at UTC midnight."""
    if isinstance(value, str):
        assert value.endswith("T00:00:00.000Z") or len(value) == 10, value
        return dt.date.fromisoformat(value[:10])
    assert isinstance(value, dt.date), f"not a date: {value!r}"
    return value


def present(value: Any) -> bool:
    return value is not None and value != ""


def assert_lawsuit(record: dict[str, Any], me: Identity, external_id: str) -> None:
    assert record["sourceSystem"] == me.source
    assert record["externalId"] == external_id
    assert record["kind"] == "judicial"
    assert record["cnjNumber"] == CNJ_DIGITS
    assert (record["segment"], record["court"], record["origin"], record["year"]) == (
        8,
        "19",
        "0000",
        2016,
    )
    assert record["area"] == me.area
    assert record["companyRole"] == "defendant"
    assert record["risk"] == "possible"
    assert record["status"] == "active"
    assert day(record["filingDate"]) == dt.date(2016, 5, 10)


# The checks, one per step, for each client


@per_client("upsert_party")
def test_upsert_party_creates_it_with_its_bank_account(run: Run) -> None:
    result = run.steps["UpsertParty"].value()
    assert result["outcome"] == "created"
    got = result["party"]
    assert present(got["id"])
    assert (got["sourceSystem"], got["externalId"]) == (run.me.source, "P-1")
    assert (got["kind"], got["taxId"], got["name"]) == (
        "individual",
        CPF_DIGITS,
        "Pessoa P-1",
    )
    accounts = members(got["bankAccounts"], "bankAccount")
    assert [
        (a["bankCode"], a["agency"], a["account"], a["accountType"], a["holderTaxId"])
        for a in accounts
    ] == [("001", "1234-5", "98765-4", "checking", CPF_DIGITS)]
    assert got.get("deletedAt") is None


@per_client("get_party")
def test_get_party_by_erp_key(run: Run) -> None:
    created = run.steps["UpsertParty"].value()["party"]
    got = run.steps["GetParty"].value()
    assert got["id"] == created["id"]
    assert (got["sourceSystem"], got["externalId"], got["taxId"]) == (
        run.me.source,
        "P-1",
        CPF_DIGITS,
    )
    assert [a["bankCode"] for a in members(got["bankAccounts"], "bankAccount")] == [
        "001"
    ]


@per_client("upsert_parties")
def test_upsert_parties_accepts_the_good_item_and_refuses_the_bad_cpf(
    run: Run,
) -> None:
    result = run.steps["UpsertParties"].value()
    assert (int(result["accepted"]), int(result["refused"])) == (1, 1)
    good, bad = members(result["items"], "item")
    assert (int(good["index"]), good["externalId"], good["outcome"]) == (
        0,
        "P-2",
        "created",
    )
    assert present(good["id"]) and good.get("faultCode") is None
    assert (int(bad["index"]), bad["externalId"], bad["outcome"]) == (
        1,
        "P-3",
        "refused",
    )
    assert bad["faultCode"] == "Client.Validation"
    assert "taxId" in bad["message"] and "CPF" in bad["message"]
    assert bad.get("id") is None


@per_client("query_parties")
def test_query_parties_by_tax_id(run: Run) -> None:
    created = run.steps["UpsertParty"].value()["party"]
    page = run.steps["QueryParties"].value()
    found = members(page["items"], "party")
    assert found, "the query found no party"
    assert {p["taxId"] for p in found} == {CPF_DIGITS}
    mine = [p for p in found if p["sourceSystem"] == run.me.source]
    assert [(p["id"], p["externalId"]) for p in mine] == [(created["id"], "P-1")]
    assert page.get("nextCursor") is None


@per_client("upsert_lawsuit")
def test_upsert_lawsuit_parses_the_cnj_number(run: Run) -> None:
    result = run.steps["UpsertLawsuit"].value()
    assert result["outcome"] == "created"
    got = result["lawsuit"]
    assert present(got["id"])
    assert_lawsuit(got, run.me, "L-1")
    assert money(got["claimValue"]) == Decimal("25000.00")
    assert got.get("deletedAt") is None


@per_client("upsert_lawsuits")
def test_upsert_lawsuits_creates_both(run: Run) -> None:
    result = run.steps["UpsertLawsuits"].value()
    assert (int(result["accepted"]), int(result["refused"])) == (2, 0)
    items = members(result["items"], "item")
    assert [(int(i["index"]), i["externalId"], i["outcome"]) for i in items] == [
        (0, "L-2", "created"),
        (1, "L-3", "created"),
    ]
    ids = [i["id"] for i in items]
    assert all(present(i) for i in ids) and len(set(ids)) == 2
    assert all(i.get("faultCode") is None for i in items)


@per_client("query_lawsuits")
def test_query_lawsuits_one_per_page_visits_every_lawsuit_once(run: Run) -> None:
    single = run.steps["UpsertLawsuit"].value()["lawsuit"]
    bulk = members(run.steps["UpsertLawsuits"].value()["items"], "item")
    expected = {single["id"]: "L-1", **{i["id"]: i["externalId"] for i in bulk}}
    pages = [page.value() for page in run.pages]
    records = [members(page["items"], "lawsuit") for page in pages]
    assert [len(r) for r in records] == [1, 1, 1]
    assert all(present(page.get("nextCursor")) for page in pages[:-1])
    assert pages[-1].get("nextCursor") is None
    seen = {r["id"]: r["externalId"] for page in records for r in page}
    assert len(seen) == 3 and seen == expected
    for page in records:
        assert_lawsuit(page[0], run.me, page[0]["externalId"])
    claims = {r["externalId"]: money(r["claimValue"]) for p in records for r in p}
    assert claims == {
        "L-1": Decimal("25000.00"),
        "L-2": Decimal("1500.50"),
        "L-3": Decimal("7.00"),
    }


@per_client("get_lawsuit")
def test_get_lawsuit_by_id(run: Run) -> None:
    created = run.steps["UpsertLawsuit"].value()["lawsuit"]
    got = run.steps["GetLawsuit"].value()
    assert got["id"] == created["id"]
    assert_lawsuit(got, run.me, "L-1")
    assert got.get("deletedAt") is None


@per_client("delete_lawsuit")
def test_delete_lawsuit_marks_it_deleted(run: Run) -> None:
    created = run.steps["UpsertLawsuit"].value()["lawsuit"]
    deleted = run.steps["DeleteLawsuit"].value()
    assert (deleted["id"], deleted["externalId"]) == (created["id"], "L-1")
    assert present(deleted.get("deletedAt"))


@per_client("delete_party")
def test_delete_party_without_orders(run: Run) -> None:
    stored = members(run.steps["UpsertParties"].value()["items"], "item")[0]
    deleted = run.steps["DeleteParty"].value()
    assert (deleted["id"], deleted["externalId"]) == (stored["id"], "P-2")
    assert present(deleted.get("deletedAt"))


@per_client("create_payment_order")
def test_create_payment_order(run: Run) -> None:
    result = run.steps["CreatePaymentOrder"].value()
    assert result["outcome"] == "created"
    order = result["paymentOrder"]
    assert present(order["id"])
    assert (order["sourceSystem"], order["externalId"]) == (run.me.source, "PO-1")
    assert (order["type"], order["status"]) == ("condemnation", "created")
    assert money(order["amount"]) == Decimal("1500.00")
    assert order["currency"] == "BRL"
    assert day(order["dueDate"]) == DUE_DATE
    assert order["beneficiaryTaxId"] == CPF_DIGITS
    # The contract names the beneficiary by CPF only, and every client's party
    # has this CPF: the server binds the order to one of them, not necessarily
    # the caller's own (its sourceSystem plays no part).
    same_cpf = members(run.steps["QueryParties"].value()["items"], "party")
    assert order["beneficiaryId"] in {p["id"] for p in same_cpf}
    assert (order["costCenter"], order["description"]) == (
        "JUR-01",
        "Condenação trabalhista",
    )


@per_client("approve_payment_order")
def test_approve_payment_order(run: Run) -> None:
    created = run.steps["CreatePaymentOrder"].value()["paymentOrder"]
    approved = run.steps["ApprovePaymentOrder"].value()
    assert approved["id"] == created["id"]
    assert approved["status"] == "approved"
    assert approved["approvedBy"] == USER
    assert present(approved.get("approvedAt"))


@per_client("get_payment_order")
def test_get_payment_order_is_approved(run: Run) -> None:
    created = run.steps["CreatePaymentOrder"].value()["paymentOrder"]
    got = run.steps["GetPaymentOrder"].value()
    assert (got["id"], got["externalId"]) == (created["id"], "PO-1")
    assert got["status"] == "approved"
    assert money(got["amount"]) == Decimal("1500.00")


@per_client("negative_amount")
def test_negative_amount_is_a_validation_fault(run: Run) -> None:
    refused = run.steps["NegativeAmount"]
    assert refused.fault is not None, f"accepted: {refused.result}"
    assert "Client.Validation" in refused.fault.code
    assert "amount" in refused.fault.message
    assert refused.fault.detail_code == "Client.Validation"
    assert present(refused.fault.correlation_id)


@per_client("usernametoken")
def test_each_call_carries_a_fresh_nonce_and_a_replay_is_refused(
    run: Run, server: Installation
) -> None:
    requests_sent = [o.request for o in run.steps.values()]
    assert all(requests_sent), "a call's request was not captured"
    nonces = [_token_field(r, "Nonce") for r in requests_sent if r]
    assert all(nonces) and len(set(nonces)) == len(nonces), nonces
    assert all(_token_field(r, "Created") for r in requests_sent if r)
    replay = requests.post(
        server.url,
        data=(requests_sent[0] or "").encode(),
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"UpsertParty"',
        },
        timeout=10,
    )
    assert replay.status_code == 500
    fault = etree.fromstring(replay.content).find(
        ".//{http://schemas.xmlsoap.org/soap/envelope/}Fault"
    )
    assert fault is not None, replay.text
    assert "Client.Authentication" in (fault.findtext("faultcode") or "")
    assert "replay" in (fault.findtext("faultstring") or "")


def _token_field(request: str, local: str) -> str | None:
    envelope = etree.fromstring(request.encode())
    namespace = WSU if local == "Created" else WSSE
    return envelope.findtext(f".//{{{WSSE}}}UsernameToken/{{{namespace}}}{local}")


@per_client("coverage")
def test_the_scenario_calls_every_published_operation(run: Run) -> None:
    wsdl = etree.parse(str(REPO / "wsdl" / "ponte-v1.wsdl"))
    published = set(
        wsdl.xpath(
            "//wsdl:portType/wsdl:operation/@name",
            namespaces={"wsdl": "http://schemas.xmlsoap.org/wsdl/"},
        )
    )
    called = {o.op for o in run.steps.values()} | {o.op for o in run.pages}
    assert called == published
