"""The generic profile: the canonical event goes out as it is.

The target publishes Ponte's receiver contract
(``mappings/generic/contract/ponte-receiver-v1.wsdl``): ``ReceiveEvent``
takes the ``ev:event`` of ``wsdl/events-v1.xsd`` as the SOAP Body's element
and answers an optional ``receipt``; ``FindEvent(eventId)`` says whether an
event arrived. A receiver refuses an event with a SOAP ``Client`` fault
(parked, not retried); a ``Server`` fault is retried.

``element_values`` is also how the SAP and Protheus profiles hand a mapped
body to zeep: the element's children become the operation's parameters, and
zeep writes them again in the WSDL's order and namespaces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lxml import etree

from adapter.config import TargetSettings
from adapter.delivery.policy import Outcome, Verdict
from adapter.domain.events import EVENTS_NS
from adapter.errors import MappingError, RemoteError

if TYPE_CHECKING:
    from adapter.outbound.profiles import Reader, Reconciliation

# adapter.outbound.profiles lists this profile in PROFILES: its helpers are
# imported where they are used, not when this module loads, so that either
# module may be imported first.

NAME = "generic"


def element_values(element: etree._Element) -> dict[str, Any]:
    """The children of ``element`` as zeep parameters, by local name.

    A child without child elements becomes its text (``""`` when empty); one
    with child elements a dict of the same kind; a name that repeats a list,
    in document order. Attributes are refused with ``MappingError`` (no
    shipped contract has any, and zeep would need them by another name).
    """
    values: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = tag.rpartition("}")[2]
        if child.attrib:
            raise MappingError(
                f"<{name}> has attributes; a mapped SOAP body is made of elements only"
            )
        # len() first: most fields are leaves, and it costs nothing.
        nested = len(child) and any(isinstance(c.tag, str) for c in child)
        value: Any = element_values(child) if nested else (child.text or "")
        if name not in values:
            values[name] = value
        elif isinstance(values[name], list):
            values[name].append(value)
        else:
            values[name] = [values[name], value]
    return values


def body_parameters(target: TargetSettings, mapped: etree._Element) -> dict[str, Any]:
    """The parameters for the body element ``mapped``, checked against the
    target's operation (document/literal wrapped: the element is named after
    the operation)."""
    name = etree.QName(mapped).localname
    if name != target.operation:
        raise MappingError(
            f"target {target.name}: the mapping wrote <{name}>, but the target's "
            f"operation is {target.operation}"
        )
    return element_values(mapped)


def field(value: object, name: str) -> Any:
    """``value.name`` for a zeep object or a dict; None when absent."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get(name)
    try:
        return getattr(value, name)
    except (AttributeError, KeyError, IndexError):
        return None


def text(value: object, name: str) -> str:
    found = field(value, name)
    return "" if found is None else str(found).strip()


class GenericEvent:
    """``ReceiveEvent(ev:event)``; the answer's ``receipt`` is the key."""

    def parameters(
        self, target: TargetSettings, mapped: etree._Element
    ) -> dict[str, Any]:
        if mapped.tag != f"{{{EVENTS_NS}}}event":
            raise MappingError(
                f"target {target.name}: the generic profile sends a canonical "
                f"event, not <{etree.QName(mapped).localname}>"
            )
        return element_values(mapped)

    def interpret(self, result: object) -> Verdict:
        receipt = result if isinstance(result, str) else text(result, "receipt")
        return Verdict(Outcome.DELIVERED, result=receipt or None)

    def reconcile(
        self, target: TargetSettings, mapped: etree._Element, read: Reader
    ) -> Reconciliation:
        from adapter.outbound.profiles import Found, Reconciliation, unknown

        event_id = (mapped.findtext(f"{{{EVENTS_NS}}}id") or "").strip()
        if not event_id:
            return unknown("the event has no ev:id")
        try:
            answer = read("FindEvent", {"eventId": event_id})
        except RemoteError as exc:
            return unknown(f"FindEvent failed: {exc}")
        found = field(answer.result, "found")
        receipt = text(answer.result, "receipt") or None
        if found is True:
            return Reconciliation(
                Found.FOUND, f"the receiver has event {event_id}", receipt
            )
        if found is False:
            return Reconciliation(
                Found.NOT_FOUND, f"the receiver has no event {event_id}"
            )
        return unknown("FindEvent answered without found")
