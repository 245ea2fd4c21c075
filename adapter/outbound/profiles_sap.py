"""SAP: an RFC-based web service as SOAMANAGER publishes it.

The contract is ``mappings/sap/contract/zws_ponte_acc_document.wsdl``: the
function group ``ZPONTE_ACC_DOCUMENT`` with two function modules, published
as one service (namespace ``urn:sap-com:document:sap:rfc:functions``,
unqualified local elements, DDIC types):

- ``ZPONTE_ACC_DOCUMENT_POST``: an accounting document modelled on
  ``BAPI_ACC_DOCUMENT_POST`` (header, vendor lines, G/L lines, amounts),
  posted and committed by the function itself. It answers ``OBJ_TYPE``,
  ``OBJ_KEY`` (document number, company code and fiscal year run together,
  ``190000001210002026``) and ``OBJ_SYS``, and a ``RETURN`` table of
  ``BAPIRET2`` messages. Like every BAPI it reports a refusal in ``RETURN``
  (``TYPE`` E or A) with HTTP 200, not as a SOAP fault.
- ``ZPONTE_ACC_DOCUMENT_FIND``: the documents posted for a Ponte event
  (``PONTE_EVENT_ID``, which the POST stores), to reconcile after a timeout.

The answer of a POST, read by ``interpret``:

    RETURN has a row of TYPE E or A          parked, business_error
    OBJ_KEY is a document key                delivered; key BELNR/BUKRS/GJAHR
    neither                                  uncertain, unreadable (asked
                                             first on the next attempt)
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lxml import etree

from adapter.config import TargetSettings
from adapter.delivery.policy import Outcome, Verdict
from adapter.errors import RemoteError
from adapter.outbound.profiles_generic import body_parameters, field, text

if TYPE_CHECKING:
    from adapter.outbound.profiles import Reader, Reconciliation

# adapter.outbound.profiles lists this profile in PROFILES: its helpers are
# imported where they are used, not when this module loads, so that either
# module may be imported first.

NAME = "sap-acc-document"
FIND_OPERATION = "ZPONTE_ACC_DOCUMENT_FIND"

# OBJ_KEY of an FI document: BELNR (10), BUKRS (4), GJAHR (4).
_OBJ_KEY = re.compile(r"(?P<belnr>\d{10})(?P<bukrs>[0-9A-Z]{4})(?P<gjahr>\d{4})")


def document_key(obj_key: str) -> str | None:
    """``1900000012/1000/2026`` for ``190000001210002026``; other non-empty
    keys as they are; None for an empty key or SAP's ``$`` placeholder."""
    key = obj_key.strip()
    if not key or key.startswith("$"):
        return None
    found = _OBJ_KEY.fullmatch(key)
    if found is None:
        return key
    return f"{found['belnr']}/{found['bukrs']}/{found['gjahr']}"


class SapAccDocument:
    """``ZPONTE_ACC_DOCUMENT_POST``; the mapped document is its input element."""

    def parameters(
        self, target: TargetSettings, mapped: etree._Element
    ) -> dict[str, Any]:
        return body_parameters(target, mapped)

    def interpret(self, result: object) -> Verdict:
        from adapter.outbound.profiles import sap_business_error

        refused = sap_business_error(result)
        if refused is not None:
            return refused
        key = document_key(text(result, "OBJ_KEY"))
        if key is not None:
            return Verdict(Outcome.DELIVERED, result=key)
        return Verdict(
            Outcome.UNCERTAIN,
            "unreadable",
            "SAP answered without an error and without a document key (OBJ_KEY)",
        )

    def reconcile(
        self, target: TargetSettings, mapped: etree._Element, read: Reader
    ) -> Reconciliation:
        from adapter.outbound.profiles import unknown

        header = mapped.find("DOCUMENTHEADER")
        event_id = "" if header is None else (header.findtext("PONTE_EVENT_ID") or "")
        company = "" if header is None else (header.findtext("COMP_CODE") or "")
        if not event_id.strip():
            return unknown("the mapped document has no DOCUMENTHEADER/PONTE_EVENT_ID")
        params = {"COMP_CODE": company.strip(), "PONTE_EVENT_ID": event_id.strip()}
        try:
            answer = read(FIND_OPERATION, params)
        except RemoteError as exc:
            return unknown(f"{FIND_OPERATION} failed: {exc}")
        return _found(event_id.strip(), answer.result)


def _found(event_id: str, result: object) -> Reconciliation:
    """FOUND when SAP has a document for the event, reversed or not: the
    posting happened, and a reversal is SAP's own later decision."""
    from adapter.outbound.profiles import (
        Found,
        Reconciliation,
        sap_business_error,
        unknown,
    )

    refused = sap_business_error(result)
    if refused is not None:
        return unknown(f"{FIND_OPERATION}: {refused.detail}")
    rows = _items(field(result, "DOCUMENTS"))
    rows.sort(key=lambda r: text(r, "REVERSED").upper() == "X")  # live ones first
    for row in rows:
        key = document_key(text(row, "OBJ_KEY"))
        if key is None:
            continue
        state = " (reversed since)" if text(row, "REVERSED").upper() == "X" else ""
        return Reconciliation(
            Found.FOUND, f"SAP has document {key}{state} for event {event_id}", key
        )
    return Reconciliation(Found.NOT_FOUND, f"SAP has no document for event {event_id}")


def _items(table: object) -> list[object]:
    if table is None:
        return []
    items = field(table, "item")
    if items is None:
        return []
    return list(items) if isinstance(items, list | tuple) else [items]
