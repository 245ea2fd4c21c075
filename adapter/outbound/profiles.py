"""What each kind of target expects and answers, beyond its WSDL.

A profile turns a mapped document into call parameters, reads the partner's
answer (success with its document key, or a business error that a retry
would not fix) and, after an attempt whose fate is unknown, asks the partner
whether the document is there (``reconcile``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from lxml import etree

from adapter import xmlutil
from adapter.config import TargetSettings
from adapter.delivery.policy import Outcome, Verdict
from adapter.errors import RemoteError
from adapter.outbound.caller import CallResult

# Calls another operation of the target: (operation, parameters) -> result.
Reader = Callable[[str, dict[str, str]], CallResult]


class Found(enum.StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Reconciliation:
    """Whether the partner has the document; ``key`` is its key when found."""

    found: Found
    detail: str
    key: str | None = None


def unknown(detail: str) -> Reconciliation:
    return Reconciliation(Found.UNKNOWN, detail)


class Profile(Protocol):
    def parameters(
        self, target: TargetSettings, mapped: etree._Element
    ) -> dict[str, str]: ...

    def interpret(self, result: object) -> Verdict: ...

    def reconcile(
        self, target: TargetSettings, mapped: etree._Element, read: Reader
    ) -> Reconciliation:
        """Ask the partner whether ``mapped`` was posted; never raises for the
        partner's failures (they make the answer ``UNKNOWN``)."""
        ...


# RM answers SaveRecord with the primary key joined by ';' ("1;12345").
_RM_KEY = re.compile(r"[^;\s]{1,60}(;[^;\s]{1,60}){0,5}")


class TotvsRmDataServer:
    """TOTVS RM ``wsDataServer``: ``SaveRecord(DataServerName, XML, Contexto)``.

    RM reports a business failure as HTTP 200 whose result text is an error
    message (often a .NET stack trace) instead of the key: anything that is
    not a key is a refusal, never a success.

    Reconciling: RM numbers the record itself (``IDLAN -1``), so the key is
    not known before RM answers; but the contract's ``ReadView`` reads the
    DataServer's rows through a filter, and the record carries the key Ponte
    sends: ``NUMERODOCUMENTO`` (the order's external id) within
    ``CODCOLIGADA``. A row found that way whose ``HISTORICO`` is the one Ponte
    sent (it names Ponte's order id) is the posting.
    """

    def parameters(
        self, target: TargetSettings, mapped: etree._Element
    ) -> dict[str, str]:
        params = dict(target.params)
        params["XML"] = etree.tostring(mapped, encoding="unicode")
        return params

    def interpret(self, result: object) -> Verdict:
        text = (result if isinstance(result, str) else "").strip()
        if _RM_KEY.fullmatch(text):
            return Verdict(Outcome.DELIVERED, result=text)
        first_line = text.splitlines()[0][:200] if text else "(empty result)"
        return Verdict(Outcome.PARKED, "business_error", f"RM refused: {first_line}")

    def reconcile(
        self, target: TargetSettings, mapped: etree._Element, read: Reader
    ) -> Reconciliation:
        sent = _rm_record(mapped)
        if sent is None:
            return unknown("the mapped record has no CODCOLIGADA and NUMERODOCUMENTO")
        params = {
            "DataServerName": target.params.get("DataServerName", ""),
            "Filtro": sent.filter,
            "Contexto": target.params.get("Contexto", ""),
        }
        try:
            answer = read("ReadView", params)
        except RemoteError as exc:
            return unknown(f"ReadView failed: {exc}")
        return _rm_match(sent, answer.result)


@dataclass(frozen=True)
class _RmRecord:
    table: str
    company: str
    document: str
    history: str | None

    @property
    def filter(self) -> str:
        document = self.document.replace("'", "''")
        return (
            f"{self.table}.CODCOLIGADA = {self.company} AND "
            f"{self.table}.NUMERODOCUMENTO = '{document}'"
        )


def _rm_record(mapped: etree._Element) -> _RmRecord | None:
    """The first table row of the DataSet Ponte sent, and the fields to find it."""
    row = next((c for c in mapped if isinstance(c.tag, str)), None)
    if row is None:
        return None
    company = (row.findtext("CODCOLIGADA") or "").strip()
    document = (row.findtext("NUMERODOCUMENTO") or "").strip()
    if not company.isdigit() or not document:
        return None
    history = row.findtext("HISTORICO")
    table = etree.QName(row).localname
    return _RmRecord(table, company, document, history.strip() if history else None)


def _rm_match(sent: _RmRecord, result: object) -> Reconciliation:
    """Read ReadView's answer: a DataSet serialised into a string."""
    text = result if isinstance(result, str) else ""
    try:
        dataset = xmlutil.parse(text.strip().encode("utf-8"))
    except etree.XMLSyntaxError:
        return unknown("ReadView answered something that is not a DataSet")
    rows = [r for r in dataset if isinstance(r.tag, str) and r.tag == sent.table]
    for row in rows:
        history = (row.findtext("HISTORICO") or "").strip()
        if sent.history and history and history != sent.history:
            continue  # the same document number, posted by someone else
        idlan = (row.findtext("IDLAN") or "").strip()
        key = f"{sent.company};{idlan}" if idlan else None
        where = f"{sent.table} NUMERODOCUMENTO={sent.document}"
        return Reconciliation(Found.FOUND, f"RM has the record ({where})", key)
    return Reconciliation(
        Found.NOT_FOUND,
        f"RM has no {sent.table} with NUMERODOCUMENTO={sent.document} from Ponte",
    )


# SAP BAPIs answer HTTP 200 and report failures in a RETURN table
# (BAPIRET2: TYPE, ID, NUMBER, MESSAGE); TYPE E is an error, A an abort.
SAP_ERROR_TYPES = frozenset({"E", "A"})


@dataclass(frozen=True)
class SapMessage:
    type: str
    id: str
    number: str
    message: str

    def __str__(self) -> str:
        return f"{self.type} {self.id} {self.number}: {self.message}".strip()


def sap_return_messages(result: object, table: str = "RETURN") -> list[SapMessage]:
    """The rows of a BAPI's return table in a zeep result (object or dict).

    The table may be the result itself, a list of rows, or zeep's rendering
    of an ABAP table: an object whose ``item`` holds the rows.
    """
    value = _field(result, table)
    if value is None and _field(result, "TYPE") is not None:
        value = result  # the return structure itself
    return [_sap_message(row) for row in _rows(value)]


def sap_business_error(result: object, table: str = "RETURN") -> Verdict | None:
    """A parked verdict when the return table has an E or A row, else None."""
    errors = [
        m for m in sap_return_messages(result, table) if m.type in SAP_ERROR_TYPES
    ]
    if not errors:
        return None
    text = "; ".join(str(m) for m in errors)[:300]
    return Verdict(Outcome.PARKED, "business_error", f"SAP refused: {text}")


def _field(value: object, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get(name)
    try:
        return getattr(value, name)
    except AttributeError:
        return None
    except (KeyError, IndexError):  # zeep objects raise these for unknown names
        return None


def _rows(value: object) -> Iterable[object]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return value
    items = _field(value, "item")
    if items is not None:
        return items if isinstance(items, list | tuple) else [items]
    return [value]


def _sap_message(row: object) -> SapMessage:
    def text(name: str) -> str:
        found = _field(row, name)
        return "" if found is None else str(found).strip()

    return SapMessage(text("TYPE").upper(), text("ID"), text("NUMBER"), text("MESSAGE"))


# The other profiles import helpers from this module; they are imported
# last, once everything above exists.
from adapter.outbound import (  # noqa: E402
    profiles_access,
    profiles_generic,
    profiles_protheus,
    profiles_sap,
)

PROFILES: dict[str, Profile] = {
    "totvs-rm-dataserver": TotvsRmDataServer(),
    profiles_sap.NAME: profiles_sap.SapAccDocument(),
    profiles_protheus.NAME: profiles_protheus.ProtheusPayables(),
    profiles_access.NAME: profiles_access.AccessControlGate(),
    profiles_generic.NAME: profiles_generic.GenericEvent(),
}
