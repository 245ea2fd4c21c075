"""TOTVS Protheus: payables (SE2) through an ADVPL ``WSSERVICE``.

The contract is ``mappings/protheus/contract/WSPONTEFIN.wsdl``, the WSDL
Protheus publishes at ``/ws/WSPONTEFIN.apw?WSDL`` for a ``WSSERVICE
WSPONTEFIN`` with two methods:

- ``INCLUITITULO(TITULO)``: the struct ``TITULOPAGAR`` carries SE2 fields
  (``E2_PREFIXO``, ``E2_NUM``, ``E2_TIPO``, ``E2_NATUREZ``, ``E2_FORNECE`` and
  ``E2_LOJA`` or the supplier's ``CGCFORNECE``, ``E2_EMISSAO``,
  ``E2_VENCTO``, ``E2_VALOR``, ``E2_HIST``, ``E2_CCD``) and ``IDPONTE``, the
  event id, which the method stores with the payable. It answers
  ``RETORNOTITULO``: ``SUCESSO``, ``CHAVE`` (``E2_FILIAL`` + prefix + number +
  instalment + type + supplier + store) and ``MENSAGEM`` (the error that
  ``MsExecAuto`` of FINA050 left, on failure).
- ``CONSULTATITULO(IDPONTE)``: whether a payable exists for the event.

A method that calls ``SetSoapFault`` answers a SOAP fault instead; the
delivery policy reads it (a Client fault is parked, a Server fault retried).
"""

from __future__ import annotations

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

NAME = "protheus-payables"
FIND_OPERATION = "CONSULTATITULO"


class ProtheusPayables:
    """``INCLUITITULO``; the mapped document is its input element."""

    def parameters(
        self, target: TargetSettings, mapped: etree._Element
    ) -> dict[str, Any]:
        return body_parameters(target, mapped)

    def interpret(self, result: object) -> Verdict:
        success = field(result, "SUCESSO")
        if success is True:
            key = text(result, "CHAVE")
            if key:
                return Verdict(Outcome.DELIVERED, result=key)
            return Verdict(
                Outcome.UNCERTAIN,
                "unreadable",
                "Protheus answered SUCESSO without the payable's CHAVE",
            )
        if success is False:
            message = text(result, "MENSAGEM")
            first = message.splitlines()[0][:200] if message else "(no MENSAGEM)"
            return Verdict(
                Outcome.PARKED, "business_error", f"Protheus refused: {first}"
            )
        return Verdict(
            Outcome.UNCERTAIN, "unreadable", "Protheus answered without SUCESSO"
        )

    def reconcile(
        self, target: TargetSettings, mapped: etree._Element, read: Reader
    ) -> Reconciliation:
        from adapter.outbound.profiles import Found, Reconciliation, unknown

        event_id = _idponte(mapped)
        if not event_id:
            return unknown("the mapped document has no TITULO/IDPONTE")
        try:
            answer = read(FIND_OPERATION, {"IDPONTE": event_id})
        except RemoteError as exc:
            return unknown(f"{FIND_OPERATION} failed: {exc}")
        found = field(answer.result, "ENCONTRADO")
        key = text(answer.result, "CHAVE") or None
        if found is True:
            return Reconciliation(
                Found.FOUND, f"Protheus has the payable for event {event_id}", key
            )
        if found is False:
            return Reconciliation(
                Found.NOT_FOUND, f"Protheus has no payable for event {event_id}"
            )
        return unknown(f"{FIND_OPERATION} answered without ENCONTRADO")


def _idponte(mapped: etree._Element) -> str:
    # Qualified elements (elementFormDefault="qualified"): match by local name.
    for element in mapped.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname == "IDPONTE":
            return (element.text or "").strip()
    return ""
