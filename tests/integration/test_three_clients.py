"""The published contract from three independent SOAP clients, against a live server.

zeep (Python), suds-community (Python) and node-soap (Node.js, driven through
``tests/clients/node_client.js``) each run the same scenario end to end and call
every operation of ``wsdl/ponte-v1.wsdl`` at least once: parties (upsert, get,
bulk, query, delete), lawsuits (upsert, bulk, paged query, get, delete),
contracts (upsert, bulk, two amendments, get, query, delete), provisions
(upsert, bulk, get, history, query, delete), employees (upsert, bulk, get,
query, delete), time-clock punches (bulk upsert, get, a refused delete, AFD
import and read-back, query), payment orders (one created, submitted,
approved, registered and paid; one rejected; one cancelled; a query) and the
audit trail (the entry of the client's own GetParty), then one call the server
must refuse with a fault. Every client authenticates the way its
users would: zeep with PasswordDigest, suds with PasswordText plus Nonce and
Created, node-soap with PasswordDigest, all as one ``admin`` user, the only role
that may call every family.

Each client writes under its own ``sourceSystem`` and lawsuit ``area``, so the
three runs share one server without seeing each other's lawsuits. Parties do
share the CPF, as the scenario prescribes, so a payment order's beneficiary
(named by CPF alone) may be another client's party; employees share CPF and
employer too, but each client gives its own registration numbers (unique per
employer among live employees), and its punches and AFD file fall on its own
day, so no two clients import the same bytes.

``xs:base64Binary`` (an AFD file's content) goes as bytes through zeep, which
encodes it; suds and node-soap treat the type as text, so their callers send
and read the base64 text themselves, as the contract's lexical form.

A contract problem (something the contract requires that a client cannot
express or read) is an ``xfail(strict=True)`` on that one client's test, listed
in ``CONTRACT_PROBLEMS``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
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
from tests.fakes.afd_files import BRT, FakePunch, build_afd_671

CLIENTS_DIR = REPO / "tests" / "clients"
TNS = "urn:ponte:legal:v1"
WSSE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
)
WSU = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
)
USER = "admin"
CPF = "123.456.789-09"
CPF_DIGITS = "12345678909"
OTHER_CPF = "529.982.247-25"
BAD_CPF = "123.456.789-00"
CNJ = "0058967-77.2016.8.19.0000"
CNJ_DIGITS = "00589677720168190000"
MAX_PAGES = 10
DUE_DATE = dt.date.today() + dt.timedelta(days=30)
PAID_ON = dt.date.today()
OTHER_CPF_DIGITS = "52998224725"
EMPLOYER = "11.222.333/0001-81"
EMPLOYER_DIGITS = "11222333000181"
SUPPLIER = "12.ABC.345/01DE-35"
SUPPLIER_DIGITS = "12ABC34501DE35"
MAY, JUNE = dt.date(2026, 5, 31), dt.date(2026, 6, 30)
MORNING = dt.datetime(2026, 9, 24, 8, 0, tzinfo=BRT)
AFD_PUNCHES = 4
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
    label: str | None = None  # the step's name in ``Run.steps``; the op if None

    @property
    def step(self) -> str:
        return self.label or self.op


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


def as_base64_text(value: Any) -> Any:
    """Call arguments with ``bytes`` as base64 text, for clients that treat
    ``xs:base64Binary`` as a string (suds maps it to XString, node-soap writes
    strings as they are)."""
    if isinstance(value, dict):
        return {key: as_base64_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_base64_text(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
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
            args = as_base64_text(call.args)
            outcome = Outcome(call.op, result=suds_plain(operation(**args)))
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
    """Call arguments for node-soap: dates as ISO text, decimals as text and
    bytes as base64 text."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
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
    day: int  # the client's own day for punches, so its AFD bytes are its own

    @property
    def morning(self) -> dt.datetime:
        return MORNING + dt.timedelta(days=self.day)

    def registration(self, n: int) -> str:
        return f"{self.source}-{n:04d}"


IDENTITIES = {
    "zeep": Identity("ZEEP", "labor", 0),
    "suds": Identity("SUDS", "civil", 1),
    "node": Identity("NODE", "consumer", 2),
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


def contract(me: Identity, external_id: str, status: str) -> dict[str, Any]:
    return {
        "sourceSystem": me.source,
        "externalId": external_id,
        "number": f"CT-{me.source}-{external_id}",
        "type": "serviço",
        "object": "Manutenção predial",
        "parties": {
            "party": [
                {"role": "company", "taxId": EMPLOYER},
                {"role": "counterparty", "taxId": SUPPLIER},
            ]
        },
        "value": Decimal("120000.00"),
        "startDate": dt.date(2026, 1, 1),
        "endDate": dt.date(2026, 12, 31),
        "autoRenewal": True,
        "renewalMonths": 12,
        "noticeDays": 30,
        "status": status,
    }


RENEWAL = {
    "number": 1,
    "type": "renewal",
    "effectiveDate": dt.date(2026, 12, 31),
    "newEndDate": dt.date(2027, 12, 31),
    "signedAt": dt.date(2026, 11, 20),
}
RAISE = {
    "number": 2,
    "type": "value",
    "effectiveDate": dt.date(2027, 1, 1),
    "newValue": Decimal("130000.00"),
}


def provision(
    me: Identity, external_id: str, date: dt.date, classification: str, amount: str
) -> dict[str, Any]:
    return {
        "sourceSystem": me.source,
        "externalId": external_id,
        "lawsuitSourceSystem": me.source,
        "lawsuitExternalId": "L-2",
        "reportingDate": date,
        "classification": classification,
        "amount": Decimal(amount),
    }


def employee(me: Identity, external_id: str, cpf: str, n: int) -> dict[str, Any]:
    return {
        "sourceSystem": me.source,
        "externalId": external_id,
        "cpf": cpf,
        "registrationNumber": me.registration(n),
        "employerTaxId": EMPLOYER,
        "name": f"Empregado {external_id}",
        "admissionDate": dt.date(2020, 2, 3),
    }


def punch(me: Identity, external_id: str, minutes: int) -> dict[str, Any]:
    return {
        "sourceSystem": me.source,
        "externalId": external_id,
        "employeeCpf": CPF,
        "punchedAt": me.morning + dt.timedelta(minutes=minutes),
        "collector": "REP-7",
    }


def afd_punch_times(me: Identity) -> list[dt.datetime]:
    return [me.morning + dt.timedelta(hours=n) for n in range(AFD_PUNCHES)]


def afd_file(me: Identity) -> bytes:
    """A valid Portaria 671 AFD of four punches (types 3, 7, 3, 7) on the
    client's own day, for the OTHER_CPF employee."""
    return build_afd_671(
        FakePunch(when, cpf=OTHER_CPF_DIGITS, record_type=7 if n % 2 else 3)
        for n, when in enumerate(afd_punch_times(me))
    )


@dataclass
class Run:
    """What one client saw: each step by name, and the pages of the query."""

    client: str
    me: Identity
    steps: dict[str, Outcome] = field(default_factory=dict)
    pages: list[Outcome] = field(default_factory=list)

    def record(self, calls: list[Call], outcomes: list[Outcome]) -> None:
        assert [c.op for c in calls] == [o.op for o in outcomes]
        for call, outcome in zip(calls, outcomes, strict=True):
            assert call.step not in self.steps, f"two steps named {call.step}"
            self.steps[call.step] = outcome


def result_id(outcome: Outcome, member: str | None = None) -> str | None:
    if outcome.fault is not None or not outcome.result:
        return None
    record = outcome.result.get(member) if member else outcome.result
    return record.get("id") if record else None


def bulk_ids(outcome: Outcome) -> list[str | None]:
    """The ids of a bulk upsert's items, in order (None for a refused one)."""
    if outcome.fault is not None or not outcome.result:
        return [None]
    items = (outcome.result.get("items") or {}).get("item") or [{}]
    return [item.get("id") for item in items]


def by_key(me: Identity, external_id: str) -> dict[str, Any]:
    return {"sourceSystem": me.source, "externalId": external_id}


def first_calls(me: Identity) -> list[Call]:
    """Everything that needs no id from an earlier answer (keys do instead)."""
    lawsuit_filter = {"area": me.area}
    return [
        # Parties
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
        Call("GetParty", by_key(me, "P-1")),
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
        # Lawsuits
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
        # Contracts
        Call("UpsertContract", {"contract": contract(me, "C-1", "active")}),
        Call(
            "UpsertContracts",
            {
                "contracts": {
                    "contract": [
                        contract(me, "C-2", "ended"),
                        contract(me, "C-3", "closed"),
                    ]
                }
            },
        ),
        Call("AmendContract", {**by_key(me, "C-1"), "amendment": RENEWAL}),
        Call(
            "AmendContract",
            {**by_key(me, "C-1"), "amendment": RAISE},
            label="AmendContractValue",
        ),
        Call("GetContract", by_key(me, "C-1")),
        Call(
            "QueryContracts",
            {"filter": {"counterpartyTaxId": SUPPLIER}, "pageSize": 50},
        ),
        Call("DeleteContract", by_key(me, "C-2")),
        # Provisions, on lawsuit L-2 named by its key
        Call(
            "UpsertProvision",
            {"provision": provision(me, "PV-1", MAY, "probable", "1000.00")},
        ),
        Call(
            "UpsertProvisions",
            {
                "provisions": {
                    "provision": [
                        provision(me, "PV-2", JUNE, "possible", "700.00"),
                        provision(me, "PV-X", JUNE, "likely", "1.00"),
                    ]
                }
            },
        ),
        Call("GetProvision", by_key(me, "PV-1")),
        Call(
            "GetProvisionHistory",
            {"lawsuitSourceSystem": me.source, "lawsuitExternalId": "L-2"},
        ),
        # Employees
        Call("UpsertEmployee", {"employee": employee(me, "E-1", CPF, 1)}),
        Call(
            "UpsertEmployees",
            {
                "employees": {
                    "employee": [
                        employee(me, "E-2", OTHER_CPF, 2),
                        employee(me, "E-3", BAD_CPF, 3),
                    ]
                }
            },
        ),
        Call("GetEmployee", by_key(me, "E-1")),
        Call(
            "QueryEmployees",
            {"filter": {"employerTaxId": EMPLOYER, "activeOnly": True}, "pageSize": 50},
        ),
        Call("DeleteEmployee", by_key(me, "E-2")),
        # Time-clock punches
        Call(
            "UpsertTimePunches",
            {"punches": {"punch": [punch(me, "T-1", 0), punch(me, "T-2", 1)]}},
        ),
        Call("GetTimePunch", by_key(me, "T-1")),
        Call("DeleteTimePunch", by_key(me, "T-2")),
        Call("GetTimePunch", by_key(me, "T-2"), label="GetTimePunchAfterDelete"),
        Call(
            "ImportAfdFile",
            {
                "afdFile": {
                    "fileName": f"AFD-{me.source}.txt",
                    "employerTaxId": EMPLOYER,
                    "content": afd_file(me),
                }
            },
        ),
        Call(
            "GetAfdFile",
            {
                "sha256": hashlib.sha256(afd_file(me)).hexdigest(),
                "includeContent": True,
            },
        ),
        # Payment orders: one to pay, one to reject, one to cancel
        Call(
            "CreatePaymentOrder",
            {"paymentOrder": payment_order(me, "PO-1", "1500.00")},
        ),
        Call(
            "CreatePaymentOrder",
            {"paymentOrder": payment_order(me, "PO-2", "200.00")},
            label="CreatePaymentOrderToReject",
        ),
        Call(
            "CreatePaymentOrder",
            {"paymentOrder": payment_order(me, "PO-3", "300.00")},
            label="CreatePaymentOrderToCancel",
        ),
        # The first page last: the pages are kept apart from the steps
        Call("QueryLawsuits", {"filter": lawsuit_filter, "pageSize": 1}),
    ]


def run_scenario(driver: Driver, me: Identity) -> Run:
    run = Run(driver.name, me)
    lawsuit_filter = {"area": me.area}
    first = first_calls(me)
    *steps, page = driver.run(first)
    run.record(first[:-1], steps)
    run.pages.append(page)
    while len(run.pages) < MAX_PAGES:
        last = run.pages[-1]
        cursor = last.result.get("nextCursor") if last.fault is None else None
        if not cursor:
            break
        args = {"filter": lawsuit_filter, "pageSize": 1, "cursor": cursor}
        run.pages += driver.run([Call("QueryLawsuits", args)])

    lawsuit_id = result_id(run.steps["UpsertLawsuit"], "lawsuit")
    provision_lawsuit = bulk_ids(run.steps["UpsertLawsuits"])[0]  # L-2
    afd_id = result_id(run.steps["ImportAfdFile"], "afdFile")
    order_id = result_id(run.steps["CreatePaymentOrder"], "paymentOrder")
    to_reject = result_id(run.steps["CreatePaymentOrderToReject"], "paymentOrder")
    to_cancel = result_id(run.steps["CreatePaymentOrderToCancel"], "paymentOrder")
    party_id = result_id(run.steps["UpsertParty"], "party")
    audit_filter = {
        "operation": "GetParty",
        "recordType": "party",
        "recordId": party_id,
        "since": dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    }
    second = [
        Call("QueryAuditEntries", {"filter": audit_filter, "pageSize": 10}),
        Call("GetLawsuit", {"id": lawsuit_id}),
        Call("DeleteLawsuit", {"id": lawsuit_id}),
        Call("DeleteParty", by_key(me, "P-2")),
        Call(
            "QueryProvisions",
            {"filter": {"lawsuitId": provision_lawsuit}, "pageSize": 50},
        ),
        Call("DeleteProvision", by_key(me, "PV-2")),
        Call("QueryTimePunches", {"filter": {"afdFileId": afd_id}, "pageSize": 50}),
        Call("SubmitPaymentOrder", {"id": order_id}),
        Call("ApprovePaymentOrder", {"id": order_id}),
        Call("GetPaymentOrder", {"id": order_id}),
        Call(
            "ConfirmPaymentOrderRegistered",
            {"id": order_id, "documentNumber": f"DOC-{me.source}-5100000123"},
        ),
        Call(
            "ConfirmPaymentOrderPaid",
            {"id": order_id, "paymentDate": PAID_ON, "receipt": f"AUT-{me.source}"},
        ),
        Call("GetPaymentOrder", by_key(me, "PO-1"), label="GetPaymentOrderPaid"),
        Call("RejectPaymentOrder", {"id": to_reject, "reason": "sem alçada"}),
        Call("CancelPaymentOrder", {"id": to_cancel, "reason": "acordo desfeito"}),
        Call(
            "QueryPaymentOrders",
            {"filter": {"lawsuitNumber": CNJ}, "pageSize": 50},
        ),
        Call("DeletePaymentOrder", {"id": to_cancel}),
        Call(
            "CreatePaymentOrders",
            {
                "paymentOrders": {
                    "paymentOrder": [
                        payment_order(me, "PO-B1", "40.00"),
                        payment_order(me, "PO-B2", "0.001"),
                    ]
                }
            },
        ),
        Call(
            "CreatePaymentOrder",
            {"paymentOrder": payment_order(me, "PO-NEG", "-10.00")},
            label="NegativeAmount",
        ),
    ]
    run.record(second, driver.run(second))
    return run


# Fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    inst = Installation(tmp_path_factory.mktemp("three-clients"), free_port())
    inst.write_config("")
    try:
        inst.ponte("users", "add", USER, "--role", "admin", "--password", PASSWORD)
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


def instant(value: Any) -> dt.datetime:
    """xs:dateTime: zeep and suds give an aware datetime, node-soap a Date (its
    ISO text in UTC)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime), f"not a dateTime: {value!r}"
    assert value.tzinfo is not None, f"a dateTime without its offset: {value!r}"
    return value


def blob(value: Any) -> bytes:
    """xs:base64Binary: zeep gives the bytes, suds and node-soap the base64 text."""
    if isinstance(value, str):
        return base64.b64decode(value, validate=True)
    assert isinstance(value, bytes), f"not base64Binary: {value!r}"
    return value


def moves(wrapper: Any) -> list[tuple[str, Decimal]]:
    """A provision change's movements as (kind, amount)."""
    return [(m["kind"], money(m["amount"])) for m in members(wrapper, "movement")]


def assert_bulk(
    outcome: Outcome, created: list[str], refused: tuple[str, str, str]
) -> list[dict[str, Any]]:
    """A bulk upsert that created ``created`` and refused the item ``refused``
    (external id, fault code, the start of the message), the last one sent."""
    result = outcome.value()
    assert (int(result["accepted"]), int(result["refused"])) == (len(created), 1)
    items = members(result["items"], "item")
    assert [(int(i["index"]), i["externalId"], i["outcome"]) for i in items] == [
        *((n, ext, "created") for n, ext in enumerate(created)),
        (len(created), refused[0], "refused"),
    ]
    *good, bad = items
    assert all(present(i["id"]) and i.get("faultCode") is None for i in good)
    assert len({i["id"] for i in good}) == len(good)
    assert (bad["faultCode"], bad.get("id")) == (refused[1], None)
    assert bad["message"].startswith(refused[2]), bad["message"]
    return good


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


@per_client("submit_payment_order")
def test_submit_payment_order_awaits_approval(run: Run) -> None:
    created = run.steps["CreatePaymentOrder"].value()["paymentOrder"]
    submitted = run.steps["SubmitPaymentOrder"].value()
    assert (submitted["id"], submitted["externalId"]) == (created["id"], "PO-1")
    assert submitted["status"] == "pending_approval"
    assert submitted.get("approvedBy") is None
    assert submitted.get("approvedAt") is None


@per_client("confirm_registered")
def test_confirm_registered_keeps_the_erp_document_number(run: Run) -> None:
    created = run.steps["CreatePaymentOrder"].value()["paymentOrder"]
    registered = run.steps["ConfirmPaymentOrderRegistered"].value()
    assert registered["id"] == created["id"]
    assert registered["status"] == "registered"
    assert registered["erpDocument"] == f"DOC-{run.me.source}-5100000123"
    assert registered["approvedBy"] == USER
    assert registered.get("paymentDate") is None


@per_client("confirm_paid")
def test_confirm_paid_records_date_and_receipt(run: Run) -> None:
    created = run.steps["CreatePaymentOrder"].value()["paymentOrder"]
    paid = run.steps["ConfirmPaymentOrderPaid"].value()
    assert paid["id"] == created["id"]
    assert paid["status"] == "paid"
    assert day(paid["paymentDate"]) == PAID_ON
    assert paid["receipt"] == f"AUT-{run.me.source}"
    assert paid["erpDocument"] == f"DOC-{run.me.source}-5100000123"


@per_client("get_paid_payment_order")
def test_get_payment_order_by_key_after_payment(run: Run) -> None:
    created = run.steps["CreatePaymentOrder"].value()["paymentOrder"]
    got = run.steps["GetPaymentOrderPaid"].value()
    assert (got["id"], got["sourceSystem"], got["externalId"]) == (
        created["id"],
        run.me.source,
        "PO-1",
    )
    assert (got["status"], got["approvedBy"]) == ("paid", USER)
    assert got["erpDocument"] == f"DOC-{run.me.source}-5100000123"
    assert (day(got["paymentDate"]), got["receipt"]) == (
        PAID_ON,
        f"AUT-{run.me.source}",
    )
    assert money(got["amount"]) == Decimal("1500.00")


@per_client("reject_payment_order")
def test_reject_payment_order_carries_its_reason(run: Run) -> None:
    result = run.steps["CreatePaymentOrderToReject"].value()
    assert (result["outcome"], result["paymentOrder"]["status"]) == (
        "created",
        "created",
    )
    rejected = run.steps["RejectPaymentOrder"].value()
    assert (rejected["id"], rejected["externalId"]) == (
        result["paymentOrder"]["id"],
        "PO-2",
    )
    assert (rejected["status"], rejected["statusReason"]) == ("rejected", "sem alçada")
    assert money(rejected["amount"]) == Decimal("200.00")
    assert rejected.get("approvedBy") is None


@per_client("cancel_payment_order")
def test_cancel_payment_order_carries_its_reason(run: Run) -> None:
    result = run.steps["CreatePaymentOrderToCancel"].value()
    assert (result["outcome"], result["paymentOrder"]["status"]) == (
        "created",
        "created",
    )
    cancelled = run.steps["CancelPaymentOrder"].value()
    assert (cancelled["id"], cancelled["externalId"]) == (
        result["paymentOrder"]["id"],
        "PO-3",
    )
    assert (cancelled["status"], cancelled["statusReason"]) == (
        "cancelled",
        "acordo desfeito",
    )
    assert money(cancelled["amount"]) == Decimal("300.00")


@per_client("delete_payment_order")
def test_delete_payment_order_after_cancelling_it(run: Run) -> None:
    cancelled = run.steps["CancelPaymentOrder"].value()
    deleted = run.steps["DeletePaymentOrder"].value()
    assert deleted["id"] == cancelled["id"]
    assert deleted["status"] == "cancelled"
    assert present(deleted.get("deletedAt"))


@per_client("create_payment_orders")
def test_create_payment_orders_in_bulk_refuses_only_the_bad_item(run: Run) -> None:
    outcome = run.steps["CreatePaymentOrders"]
    assert_bulk(
        outcome,
        ["PO-B1"],
        ("PO-B2", "Client.Validation", "amount: must have at most 2"),
    )


@per_client("query_payment_orders")
def test_query_payment_orders_of_the_lawsuit_shows_each_final_status(
    run: Run,
) -> None:
    ids = {
        step: run.steps[step].value()["paymentOrder"]["id"]
        for step in (
            "CreatePaymentOrder",
            "CreatePaymentOrderToReject",
            "CreatePaymentOrderToCancel",
        )
    }
    page = run.steps["QueryPaymentOrders"].value()
    found = members(page["items"], "paymentOrder")
    assert {o["lawsuitNumber"] for o in found} == {CNJ_DIGITS}
    mine = {
        o["externalId"]: (o["id"], o["status"], money(o["amount"]))
        for o in found
        if o["sourceSystem"] == run.me.source
    }
    assert mine == {
        "PO-1": (ids["CreatePaymentOrder"], "paid", Decimal("1500.00")),
        "PO-2": (ids["CreatePaymentOrderToReject"], "rejected", Decimal("200.00")),
        "PO-3": (ids["CreatePaymentOrderToCancel"], "cancelled", Decimal("300.00")),
    }
    assert page.get("nextCursor") is None


@per_client("negative_amount")
def test_negative_amount_is_a_validation_fault(run: Run) -> None:
    refused = run.steps["NegativeAmount"]
    assert refused.fault is not None, f"accepted: {refused.result}"
    assert "Client.Validation" in refused.fault.code
    assert "amount" in refused.fault.message
    assert refused.fault.detail_code == "Client.Validation"
    assert present(refused.fault.correlation_id)


# Contracts


def assert_contract(record: dict[str, Any], me: Identity, external_id: str) -> None:
    assert present(record["id"])
    assert (record["sourceSystem"], record["externalId"]) == (me.source, external_id)
    assert record["number"] == f"CT-{me.source}-{external_id}"
    assert (record["type"], record["object"]) == ("serviço", "Manutenção predial")
    assert [(p["role"], p["taxId"]) for p in members(record["parties"], "party")] == [
        ("company", EMPLOYER_DIGITS),
        ("counterparty", SUPPLIER_DIGITS),
    ]
    assert record["currency"] == "BRL"
    assert day(record["startDate"]) == dt.date(2026, 1, 1)
    assert record["autoRenewal"] is True
    assert (int(record["renewalMonths"]), int(record["noticeDays"])) == (12, 30)


@per_client("upsert_contract")
def test_upsert_contract_creates_version_0(run: Run) -> None:
    result = run.steps["UpsertContract"].value()
    assert result["outcome"] == "created"
    got = result["contract"]
    assert_contract(got, run.me, "C-1")
    assert money(got["value"]) == Decimal("120000.00")
    assert day(got["endDate"]) == dt.date(2026, 12, 31)
    assert day(got["noticeDeadline"]) == dt.date(2026, 12, 1)
    assert (got["status"], int(got["version"])) == ("active", 0)
    assert members(got.get("amendments"), "amendment") == []
    assert got.get("deletedAt") is None


@per_client("upsert_contracts")
def test_upsert_contracts_creates_the_ended_one_and_refuses_a_bad_status(
    run: Run,
) -> None:
    assert_bulk(
        run.steps["UpsertContracts"],
        ["C-2"],
        ("C-3", "Client.Validation", "status: must be one of"),
    )


@per_client("amend_contract")
def test_amend_contract_renewal_gives_version_1(run: Run) -> None:
    created = run.steps["UpsertContract"].value()["contract"]
    result = run.steps["AmendContract"].value()
    assert result["outcome"] == "amended"
    got = result["contract"]
    assert got["id"] == created["id"]
    assert (int(got["version"]), got["status"]) == (1, "active")
    assert day(got["endDate"]) == dt.date(2027, 12, 31)
    assert day(got["noticeDeadline"]) == dt.date(2027, 12, 1)
    assert money(got["value"]) == Decimal("120000.00")
    listed = members(got["amendments"], "amendment")
    assert [(int(a["number"]), a["type"]) for a in listed] == [(1, "renewal")]


@per_client("amend_contract_value")
def test_amend_contract_value_gives_version_2(run: Run) -> None:
    created = run.steps["UpsertContract"].value()["contract"]
    result = run.steps["AmendContractValue"].value()
    assert result["outcome"] == "amended"
    got = result["contract"]
    assert got["id"] == created["id"]
    assert int(got["version"]) == 2
    assert money(got["value"]) == Decimal("130000.00")
    assert day(got["endDate"]) == dt.date(2027, 12, 31)
    listed = members(got["amendments"], "amendment")
    assert [(int(a["number"]), a["type"]) for a in listed] == [
        (1, "renewal"),
        (2, "value"),
    ]


@per_client("get_contract")
def test_get_contract_lists_both_amendments(run: Run) -> None:
    created = run.steps["UpsertContract"].value()["contract"]
    got = run.steps["GetContract"].value()
    assert got["id"] == created["id"]
    assert_contract(got, run.me, "C-1")
    assert (int(got["version"]), got["status"]) == (2, "active")
    assert money(got["value"]) == Decimal("130000.00")
    assert day(got["endDate"]) == dt.date(2027, 12, 31)
    renewal, raise_ = members(got["amendments"], "amendment")
    assert (int(renewal["number"]), renewal["type"]) == (1, "renewal")
    assert day(renewal["effectiveDate"]) == dt.date(2026, 12, 31)
    assert day(renewal["signedAt"]) == dt.date(2026, 11, 20)
    assert (day(renewal["oldEndDate"]), day(renewal["newEndDate"])) == (
        dt.date(2026, 12, 31),
        dt.date(2027, 12, 31),
    )
    assert renewal.get("oldValue") is None and renewal.get("newValue") is None
    assert (int(raise_["number"]), raise_["type"]) == (2, "value")
    assert day(raise_["effectiveDate"]) == dt.date(2027, 1, 1)
    assert (money(raise_["oldValue"]), money(raise_["newValue"])) == (
        Decimal("120000.00"),
        Decimal("130000.00"),
    )
    assert raise_.get("oldEndDate") is None and raise_.get("newEndDate") is None
    assert all(present(a["createdAt"]) for a in (renewal, raise_))
    assert got.get("deletedAt") is None


@per_client("query_contracts")
def test_query_contracts_by_counterparty(run: Run) -> None:
    single = run.steps["UpsertContract"].value()["contract"]
    bulk = bulk_ids(run.steps["UpsertContracts"])[0]
    page = run.steps["QueryContracts"].value()
    found = members(page["items"], "contract")
    for record in found:
        parties = members(record["parties"], "party")
        assert ("counterparty", SUPPLIER_DIGITS) in [
            (p["role"], p["taxId"]) for p in parties
        ]
    mine = sorted(
        (c["externalId"], c["id"], int(c["version"]), c["status"])
        for c in found
        if c["sourceSystem"] == run.me.source
    )
    assert mine == [
        ("C-1", single["id"], 2, "active"),
        ("C-2", bulk, 0, "ended"),
    ]
    assert page.get("nextCursor") is None


@per_client("delete_contract")
def test_delete_contract_that_ended(run: Run) -> None:
    bulk = bulk_ids(run.steps["UpsertContracts"])[0]
    deleted = run.steps["DeleteContract"].value()
    assert (deleted["id"], deleted["externalId"]) == (bulk, "C-2")
    assert deleted["status"] == "ended"
    assert present(deleted.get("deletedAt"))


# Provisions


def l2_id(run: Run) -> str:
    """The id of lawsuit L-2, which carries the provisions."""
    lawsuit_id = bulk_ids(run.steps["UpsertLawsuits"])[0]
    assert lawsuit_id
    return lawsuit_id


def assert_provision(
    record: dict[str, Any],
    run: Run,
    external_id: str,
    figure: tuple[dt.date, str, str],
) -> None:
    assert present(record["id"])
    assert (record["sourceSystem"], record["externalId"]) == (
        run.me.source,
        external_id,
    )
    assert record["lawsuitId"] == l2_id(run)
    date, classification, amount = figure
    assert day(record["reportingDate"]) == date
    assert record["classification"] == classification
    assert (money(record["amount"]), record["currency"]) == (Decimal(amount), "BRL")


@per_client("upsert_provision")
def test_upsert_provision_constitutes_it(run: Run) -> None:
    result = run.steps["UpsertProvision"].value()
    assert result["outcome"] == "created"
    assert_provision(result["provision"], run, "PV-1", (MAY, "probable", "1000.00"))
    assert result["provision"].get("deletedAt") is None
    (movement,) = members(result["movements"], "movement")
    assert (movement["kind"], money(movement["amount"])) == (
        "constitution",
        Decimal("1000.00"),
    )
    assert (movement["debit"], movement["credit"]) == ("provision_expense", "provision")
    assert (movement["currency"], movement["cause"]) == ("BRL", "reporting")
    assert present(movement["recordedAt"])


@per_client("upsert_provisions")
def test_upsert_provisions_takes_june_and_refuses_a_bad_classification(
    run: Run,
) -> None:
    assert_bulk(
        run.steps["UpsertProvisions"],
        ["PV-2"],
        ("PV-X", "Client.Validation", "classification: must be one of"),
    )


@per_client("get_provision")
def test_get_provision_by_erp_key(run: Run) -> None:
    created = run.steps["UpsertProvision"].value()["provision"]
    got = run.steps["GetProvision"].value()
    assert got["id"] == created["id"]
    assert_provision(got, run, "PV-1", (MAY, "probable", "1000.00"))
    assert got.get("deletedAt") is None


@per_client("provision_history")
def test_provision_history_lists_each_date_with_its_movements(run: Run) -> None:
    may = run.steps["UpsertProvision"].value()["provision"]
    june = bulk_ids(run.steps["UpsertProvisions"])[0]
    history = run.steps["GetProvisionHistory"].value()
    assert history["lawsuitId"] == l2_id(run)
    entries = members(history["entries"], "entry")
    assert [
        (
            e["provisionId"],
            e["externalId"],
            day(e["reportingDate"]),
            e["classification"],
            money(e["amount"]),
        )
        for e in entries
    ] == [
        (may["id"], "PV-1", MAY, "probable", Decimal("1000.00")),
        (june, "PV-2", JUNE, "possible", Decimal("700.00")),
    ]
    assert [moves(e["movements"]) for e in entries] == [
        [("constitution", Decimal("1000.00"))],
        [("reversal", Decimal("1000.00")), ("disclosure", Decimal("700.00"))],
    ]
    reversal = members(entries[1]["movements"], "movement")[0]
    assert (reversal["debit"], reversal["credit"]) == (
        "provision",
        "provision_reversal",
    )
    assert all(e.get("deletedAt") is None for e in entries)


@per_client("query_provisions")
def test_query_provisions_of_the_lawsuit(run: Run) -> None:
    may = run.steps["UpsertProvision"].value()["provision"]
    june = bulk_ids(run.steps["UpsertProvisions"])[0]
    page = run.steps["QueryProvisions"].value()
    found = members(page["items"], "provision")
    assert [p["id"] for p in found] == [may["id"], june]
    assert_provision(found[0], run, "PV-1", (MAY, "probable", "1000.00"))
    assert_provision(found[1], run, "PV-2", (JUNE, "possible", "700.00"))
    assert page.get("nextCursor") is None


@per_client("delete_provision")
def test_delete_the_latest_provision_restores_the_previous_figure(run: Run) -> None:
    june = bulk_ids(run.steps["UpsertProvisions"])[0]
    result = run.steps["DeleteProvision"].value()
    assert result["outcome"] == "deleted"
    deleted = result["provision"]
    assert deleted["id"] == june
    assert_provision(deleted, run, "PV-2", (JUNE, "possible", "700.00"))
    assert present(deleted.get("deletedAt"))
    (movement,) = members(result["movements"], "movement")
    assert (movement["kind"], money(movement["amount"]), movement["cause"]) == (
        "constitution",
        Decimal("1000.00"),
        "withdrawal",
    )


# Employees


def assert_employee(
    record: dict[str, Any], me: Identity, external_id: str, cpf: str, n: int
) -> None:
    assert present(record["id"])
    assert (record["sourceSystem"], record["externalId"]) == (me.source, external_id)
    assert (record["cpf"], record["registrationNumber"]) == (cpf, me.registration(n))
    assert record["employerTaxId"] == EMPLOYER_DIGITS
    assert record["name"] == f"Empregado {external_id}"
    assert day(record["admissionDate"]) == dt.date(2020, 2, 3)
    assert record.get("terminationDate") is None
    assert record.get("terminationReason") is None


@per_client("upsert_employee")
def test_upsert_employee_normalizes_cpf_and_cnpj(run: Run) -> None:
    result = run.steps["UpsertEmployee"].value()
    assert result["outcome"] == "created"
    assert_employee(result["employee"], run.me, "E-1", CPF_DIGITS, 1)
    assert result["employee"].get("deletedAt") is None


@per_client("upsert_employees")
def test_upsert_employees_refuses_the_bad_cpf(run: Run) -> None:
    assert_bulk(
        run.steps["UpsertEmployees"],
        ["E-2"],
        ("E-3", "Client.Validation", "cpf: CPF check digits"),
    )


@per_client("get_employee")
def test_get_employee_by_erp_key(run: Run) -> None:
    created = run.steps["UpsertEmployee"].value()["employee"]
    got = run.steps["GetEmployee"].value()
    assert got["id"] == created["id"]
    assert_employee(got, run.me, "E-1", CPF_DIGITS, 1)
    assert got.get("deletedAt") is None


@per_client("query_employees")
def test_query_active_employees_of_the_employer(run: Run) -> None:
    single = run.steps["UpsertEmployee"].value()["employee"]
    bulk = bulk_ids(run.steps["UpsertEmployees"])[0]
    page = run.steps["QueryEmployees"].value()
    found = members(page["items"], "employee")
    assert {e["employerTaxId"] for e in found} == {EMPLOYER_DIGITS}
    registrations = [e["registrationNumber"] for e in found]
    assert len(set(registrations)) == len(registrations)
    mine = [e for e in found if e["sourceSystem"] == run.me.source]
    assert sorted((e["externalId"], e["id"]) for e in mine) == [
        ("E-1", single["id"]),
        ("E-2", bulk),
    ]
    by_key = {e["externalId"]: e for e in mine}
    assert_employee(by_key["E-1"], run.me, "E-1", CPF_DIGITS, 1)
    assert_employee(by_key["E-2"], run.me, "E-2", OTHER_CPF_DIGITS, 2)
    assert page.get("nextCursor") is None


@per_client("delete_employee")
def test_delete_employee_marks_it_deleted(run: Run) -> None:
    bulk = bulk_ids(run.steps["UpsertEmployees"])[0]
    deleted = run.steps["DeleteEmployee"].value()
    assert deleted["id"] == bulk
    assert_employee(deleted, run.me, "E-2", OTHER_CPF_DIGITS, 2)
    assert present(deleted.get("deletedAt"))


# Time-clock punches


@per_client("upsert_time_punches")
def test_upsert_time_punches_creates_both(run: Run) -> None:
    result = run.steps["UpsertTimePunches"].value()
    assert (int(result["accepted"]), int(result["refused"])) == (2, 0)
    items = members(result["items"], "item")
    assert [(int(i["index"]), i["externalId"], i["outcome"]) for i in items] == [
        (0, "T-1", "created"),
        (1, "T-2", "created"),
    ]
    ids = [i["id"] for i in items]
    assert all(present(i) for i in ids) and len(set(ids)) == 2
    assert all(i.get("faultCode") is None for i in items)


def assert_api_punch(
    record: dict[str, Any], run: Run, external_id: str, minutes: int
) -> None:
    n = ["T-1", "T-2"].index(external_id)
    assert record["id"] == bulk_ids(run.steps["UpsertTimePunches"])[n]
    assert (record["sourceSystem"], record["externalId"]) == (
        run.me.source,
        external_id,
    )
    assert (record["origin"], record["employeeCpf"]) == ("api", CPF_DIGITS)
    assert instant(record["punchedAt"]) == run.me.morning + dt.timedelta(
        minutes=minutes
    )
    assert record["collector"] == "REP-7"
    assert record.get("afdFileId") is None and record.get("nsr") is None


@per_client("get_time_punch")
def test_get_time_punch_by_erp_key(run: Run) -> None:
    assert_api_punch(run.steps["GetTimePunch"].value(), run, "T-1", 0)


@per_client("delete_time_punch")
def test_delete_time_punch_is_refused_as_a_conflict_and_keeps_it(run: Run) -> None:
    refused = run.steps["DeleteTimePunch"]
    assert refused.fault is not None, f"deleted: {refused.result}"
    assert "Client.Conflict" in refused.fault.code
    assert refused.fault.detail_code == "Client.Conflict"
    assert f"{run.me.source}/T-2" in refused.fault.message
    assert "never deleted" in refused.fault.message
    assert present(refused.fault.correlation_id)
    assert_api_punch(run.steps["GetTimePunchAfterDelete"].value(), run, "T-2", 1)


def assert_afd_file(record: dict[str, Any], me: Identity) -> None:
    sent = afd_file(me)
    assert present(record["id"])
    assert (record["fileName"], record["employerTaxId"]) == (
        f"AFD-{me.source}.txt",
        EMPLOYER_DIGITS,
    )
    assert (record["layout"], record["layoutVersion"], record["repId"]) == (
        "671",
        "004",
        "BR512021000123456",
    )
    assert day(record["periodStart"]) == day(record["periodEnd"]) == me.morning.date()
    assert record["sha256"] == hashlib.sha256(sent).hexdigest()
    assert (int(record["size"]), int(record["lineCount"])) == (len(sent), 7)
    assert (int(record["acceptedCount"]), int(record["refusedCount"])) == (
        AFD_PUNCHES,
        0,
    )
    assert members(record.get("refusedLines"), "line") == []
    assert members(record.get("warnings"), "line") == []
    assert record["importedBy"] == USER
    assert present(record["importedAt"])


@per_client("import_afd_file")
def test_import_afd_file_accepts_every_punch(run: Run) -> None:
    result = run.steps["ImportAfdFile"].value()
    assert result["outcome"] == "created"
    assert_afd_file(result["afdFile"], run.me)
    assert result["afdFile"].get("content") is None


@per_client("get_afd_file")
def test_get_afd_file_by_sha256_gives_back_the_exact_bytes(run: Run) -> None:
    imported = run.steps["ImportAfdFile"].value()["afdFile"]
    got = run.steps["GetAfdFile"].value()
    assert got["id"] == imported["id"]
    assert_afd_file(got, run.me)
    content = blob(got["content"])
    assert content == afd_file(run.me)
    assert hashlib.sha256(content).hexdigest() == imported["sha256"]


@per_client("query_time_punches")
def test_query_time_punches_of_the_afd_file_in_time_order(run: Run) -> None:
    imported = run.steps["ImportAfdFile"].value()["afdFile"]
    page = run.steps["QueryTimePunches"].value()
    found = members(page["items"], "punch")
    assert [int(p["nsr"]) for p in found] == [1, 2, 3, 4]
    assert [int(p["recordType"]) for p in found] == [3, 7, 3, 7]
    assert [instant(p["punchedAt"]) for p in found] == afd_punch_times(run.me)
    assert {(p["origin"], p["afdFileId"], p["employeeCpf"]) for p in found} == {
        ("afd", imported["id"], OTHER_CPF_DIGITS)
    }
    assert [present(p.get("hash")) for p in found] == [False, True, False, True]
    assert len({p["id"] for p in found}) == AFD_PUNCHES
    assert page.get("nextCursor") is None


# The audit trail


@per_client("query_audit_entries")
def test_query_audit_entries_finds_the_get_party_call_with_its_chain_fields(
    run: Run,
) -> None:
    party_id = result_id(run.steps["UpsertParty"], "party")
    page = run.steps["QueryAuditEntries"].value()
    [found] = members(page["items"], "entry")
    assert (found["user"], found["channel"], found["operation"]) == (
        USER,
        "soap",
        "GetParty",
    )
    assert (found["recordType"], found["recordId"]) == ("party", party_id)
    assert found["outcome"] == "ok" and found.get("faultCode") is None
    assert int(found["sequence"]) >= 1 and int(found["id"]) >= 1
    for digest in ("hash", "previousHash", "requestSha256"):
        assert re.fullmatch("[0-9a-f]{64}", found[digest]), (digest, found)
    assert instant(found["at"]) > dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    assert CPF_DIGITS not in json.dumps(found, default=str)
    assert page.get("nextCursor") is None


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
