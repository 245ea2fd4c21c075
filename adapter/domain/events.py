"""Business events and their canonical XML (schema: ``wsdl/events-v1.xsd``).

Every event is one ``ev:event`` envelope: the header (``id``, ``type``,
``version``, ``occurredAt``, ``businessKey``) and then one body element, named
after the event type (``BODY_ELEMENTS``). ``build`` writes the envelope; the
builders of each family fill the body:

- payment orders: here (``payment_order.approved``) and in
  ``events_payment_orders``;
- contracts: ``events_contracts``;
- access-control flags of people: ``events_access``;
- provisions and lawsuits: ``events_lawsuits``.

The business key names the record whose events must stay in order
(``payment_order:<id>``, ``contract:<id>``, ``person:<party id>``,
``provision:<lawsuit id>``, ``lawsuit:<id>``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

EVENTS_NS = "urn:ponte:events:v1"
VERSION = 1

PAYMENT_ORDER_APPROVED = "payment_order.approved"
PAYMENT_ORDER_CANCELLED = "payment_order.cancelled"
PAYMENT_ORDER_REGISTERED = "payment_order.registered"
PAYMENT_ORDER_PAID = "payment_order.paid"
CONTRACT_CREATED = "contract.created"
CONTRACT_RENEWED = "contract.renewed"
CONTRACT_CHANGED = "contract.changed"
CONTRACT_ENDED = "contract.ended"
PERSON_FLAGGED = "person.flagged"
PERSON_UNFLAGGED = "person.unflagged"
PROVISION_CHANGED = "provision.changed"
LAWSUIT_CLOSED = "lawsuit.closed"

# The body element of each event type; payment_order.approved keeps the name
# it was first published with.
BODY_ELEMENTS: dict[str, str] = {
    PAYMENT_ORDER_APPROVED: "paymentOrder",
    PAYMENT_ORDER_CANCELLED: "paymentOrderCancelled",
    PAYMENT_ORDER_REGISTERED: "paymentOrderRegistered",
    PAYMENT_ORDER_PAID: "paymentOrderPaid",
    CONTRACT_CREATED: "contractCreated",
    CONTRACT_RENEWED: "contractRenewed",
    CONTRACT_CHANGED: "contractChanged",
    CONTRACT_ENDED: "contractEnded",
    PERSON_FLAGGED: "personFlagged",
    PERSON_UNFLAGGED: "personUnflagged",
    PROVISION_CHANGED: "provisionChanged",
    LAWSUIT_CLOSED: "lawsuitClosed",
}
EVENT_TYPES = frozenset(BODY_ELEMENTS)

Fields = Iterable[tuple[str, object | None]]


@dataclass(frozen=True)
class Event:
    """An event as the outbox stores it: identity plus canonical XML body."""

    id: str
    type: str
    version: int
    business_key: str
    occurred_at: dt.datetime
    body: bytes


def business_key(record: str, record_id: str) -> str:
    """``record:id``, such as ``contract:<id>``: events of one key stay in order."""
    return f"{record}:{record_id}"


# Writing XML


def add(parent: etree._Element, name: str, text: object | None) -> etree._Element:
    """Append ``<ev:name>``, with ``text`` when it is not None."""
    child = etree.SubElement(parent, f"{{{EVENTS_NS}}}{name}")
    if text is not None:
        child.text = str(text)
    return child


def add_fields(parent: etree._Element, fields: Fields) -> None:
    """Append one element per ``(name, value)``; a None value is left out."""
    for name, value in fields:
        if value is not None:
            add(parent, name, value)


def iso(moment: dt.datetime) -> str:
    """A UTC time to the second, as ``xs:dateTime`` with ``Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: Decimal | None) -> str | None:
    """An amount with its two decimals, as the schema's ``Amount``."""
    return None if amount is None else f"{amount:.2f}"


def day(date: dt.date | None) -> str | None:
    return None if date is None else date.isoformat()


def build(
    event_type: str,
    key: str,
    now: dt.datetime,
    fill: Callable[[etree._Element], None],
) -> Event:
    """The event of ``event_type``: the envelope, and a body ``fill`` writes."""
    event_id = str(uuid.uuid4())
    root = etree.Element(f"{{{EVENTS_NS}}}event", nsmap={"ev": EVENTS_NS})
    add_fields(
        root,
        (
            ("id", event_id),
            ("type", event_type),
            ("version", VERSION),
            ("occurredAt", iso(now)),
            ("businessKey", key),
        ),
    )
    fill(add(root, BODY_ELEMENTS[event_type], None))
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Event(event_id, event_type, VERSION, key, now, xml)


# payment_order.approved


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


def payment_order_approved(order: PaymentOrderSnapshot, now: dt.datetime) -> Event:
    """The event a finance system receives when a payment order is approved."""

    def fill(body: etree._Element) -> None:
        add_fields(
            body,
            (
                ("id", order.id),
                ("sourceSystem", order.source_system),
                ("externalId", order.external_id),
                ("lawsuitNumber", order.lawsuit_number),
                ("type", order.type),
                ("amount", money(order.amount)),
                ("currency", "BRL"),
                ("dueDate", day(order.due_date)),
                ("costCenter", order.cost_center),
                ("description", order.description),
                ("approvedAt", iso(order.approved_at)),
                ("approvedBy", order.approved_by),
            ),
        )
        b = order.beneficiary
        add_fields(
            add(body, "beneficiary", None),
            (
                ("sourceSystem", b.source_system),
                ("externalId", b.external_id),
                ("kind", b.kind),
                ("name", b.name),
                ("taxId", b.tax_id),
            ),
        )

    key = business_key("payment_order", order.id)
    return build(PAYMENT_ORDER_APPROVED, key, now, fill)
