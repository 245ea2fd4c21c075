"""Business events and their canonical XML (schema: ``wsdl/events-v1.xsd``)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

EVENTS_NS = "urn:ponte:events:v1"
PAYMENT_ORDER_APPROVED = "payment_order.approved"
EVENT_TYPES = frozenset({PAYMENT_ORDER_APPROVED})


@dataclass(frozen=True)
class BeneficiarySnapshot:
    source_system: str
    external_id: str
    kind: str
    name: str
    tax_id: str | None


@dataclass(frozen=True)
class PaymentOrderSnapshot:
    id: str
    source_system: str
    external_id: str
    lawsuit_number: str
    type: str
    amount: Decimal
    due_date: dt.date
    cost_center: str
    description: str
    approved_at: dt.datetime
    approved_by: str
    beneficiary: BeneficiarySnapshot


@dataclass(frozen=True)
class Event:
    """An event as the outbox stores it: identity plus canonical XML body."""

    id: str
    type: str
    version: int
    business_key: str
    occurred_at: dt.datetime
    body: bytes


def _add(parent: etree._Element, name: str, text: object | None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{EVENTS_NS}}}{name}")
    if text is not None:
        child.text = str(text)
    return child


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def payment_order_approved(order: PaymentOrderSnapshot, now: dt.datetime) -> Event:
    """The event a finance system receives when a payment order is approved."""
    event_id = str(uuid.uuid4())
    business_key = f"payment_order:{order.id}"
    root = etree.Element(f"{{{EVENTS_NS}}}event", nsmap={"ev": EVENTS_NS})
    for name, value in (
        ("id", event_id),
        ("type", PAYMENT_ORDER_APPROVED),
        ("version", 1),
        ("occurredAt", _iso(now)),
        ("businessKey", business_key),
    ):
        _add(root, name, value)
    body = _add(root, "paymentOrder", None)
    for name, value in (
        ("id", order.id),
        ("sourceSystem", order.source_system),
        ("externalId", order.external_id),
        ("lawsuitNumber", order.lawsuit_number),
        ("type", order.type),
        ("amount", f"{order.amount:.2f}"),
        ("currency", "BRL"),
        ("dueDate", order.due_date.isoformat()),
        ("costCenter", order.cost_center),
        ("description", order.description),
        ("approvedAt", _iso(order.approved_at)),
        ("approvedBy", order.approved_by),
    ):
        _add(body, name, value)
    party = _add(body, "beneficiary", None)
    b = order.beneficiary
    fields: tuple[tuple[str, str | None], ...] = (
        ("sourceSystem", b.source_system),
        ("externalId", b.external_id),
        ("kind", b.kind),
        ("name", b.name),
        ("taxId", b.tax_id),
    )
    for field_name, field_value in fields:
        if field_value is not None:
            _add(party, field_name, field_value)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Event(event_id, PAYMENT_ORDER_APPROVED, 1, business_key, now, xml)
