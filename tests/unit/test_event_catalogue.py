"""Every event of the catalogue, made by its business change through the service.

Each test makes the change, then reads the outbox: the event's type, business
key and body values, the body valid against ``wsdl/events-v1.xsd``, and a
delivery to the target that subscribes to every type. A change its rules
refuse writes no event.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from lxml import etree
from sqlalchemy import select

from adapter.app.context import CallContext
from adapter.app.contracts import AmendmentFields, ContractData
from adapter.app.provision_records import LawsuitRef, ProvisionData
from adapter.domain import events
from adapter.domain.contracts import ContractStatus, validate_contract
from adapter.domain.events import BODY_ELEMENTS, EVENT_TYPES, EVENTS_NS
from adapter.domain.lawsuits import validate_lawsuit
from adapter.domain.parties import validate_party
from adapter.domain.payments import validate_payment_order
from adapter.domain.provisions import validate_provision
from adapter.errors import ConflictError, ValidationError
from adapter.inbound import types_contracts as tc
from adapter.inbound.mapping_contracts import contract_data
from adapter.outbound.event_json import EventJson
from adapter.runtime import Runtime, build_runtime
from adapter.storage.models import AuditEntry, Delivery, OutboxEvent
from adapter.xmlutil import safe_parser
from tests.unit.conftest import MAPPING, REPO, make_settings

SCHEMA = etree.XMLSchema(
    etree.parse(str(REPO / "wsdl" / "events-v1.xsd"), safe_parser())
)
NS = {"ev": EVENTS_NS}
CALL = CallContext(actor="erp", channel="soap", operation="test")
TARGET = "all-events"
CPF = "12345678909"
CNJ = "0058967-77.2016.8.19.0000"
COMPANY = "11.222.333/0001-81"


# The runtime: one target subscribed to every event type


def catalogue_runtime(tmp_path: Path, database_url: str) -> Runtime:
    target = {
        "name": TARGET,
        "wsdl": "unused.wsdl",
        "mapping": str(MAPPING),
        "params": {"DataServerName": "FinLanDataBR", "Contexto": "CODCOLIGADA=1"},
        "events": sorted(EVENT_TYPES),
    }
    return build_runtime(make_settings(tmp_path, database_url, targets=[target]))


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = catalogue_runtime(tmp_path, database_url)
    yield runtime
    runtime.db.dispose()


# Reading the outbox


@dataclass(frozen=True)
class Stored:
    """An outbox row, its parsed body and the targets it is delivered to."""

    id: str
    type: str
    version: int
    business_key: str
    xml: etree._Element
    targets: list[str]

    def text(self, path: str) -> str | None:
        """The text at ``path`` under the body element (``ev:`` prefixed)."""
        found = self.xml.xpath(f"ev:{BODY_ELEMENTS[self.type]}/{path}", namespaces=NS)
        assert len(found) <= 1, f"{path} matches {len(found)} elements"
        return found[0].text if found else None

    def has(self, path: str) -> bool:
        body = f"ev:{BODY_ELEMENTS[self.type]}/{path}"
        return bool(self.xml.xpath(body, namespaces=NS))

    def texts(self, path: str) -> list[str]:
        found = self.xml.xpath(f"ev:{BODY_ELEMENTS[self.type]}/{path}", namespaces=NS)
        return [e.text for e in found]


def check_envelope(stored: Stored) -> None:
    """Schema-valid; the header repeats the row; exactly the one body it names."""
    SCHEMA.assertValid(stored.xml)
    header = {
        name: stored.xml.findtext(f"{{{EVENTS_NS}}}{name}")
        for name in ("id", "type", "version", "businessKey")
    }
    assert header == {
        "id": stored.id,
        "type": stored.type,
        "version": "1",
        "businessKey": stored.business_key,
    }
    uuid.UUID(stored.id)
    assert stored.version == 1
    bodies = [etree.QName(e).localname for e in stored.xml][5:]
    assert bodies == [BODY_ELEMENTS[stored.type]]


def outbox(rt: Runtime, event_type: str) -> list[Stored]:
    """The events of ``event_type``, each checked by ``check_envelope``."""
    with rt.db.transaction() as session:
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == event_type)
        ).all()
        found = []
        for row in rows:
            targets = session.scalars(
                select(Delivery.target).where(Delivery.event_id == row.id)
            ).all()
            xml = etree.fromstring(row.body, safe_parser())
            stored = Stored(
                row.id, row.type, row.version, row.business_key, xml, list(targets)
            )
            check_envelope(stored)
            found.append(stored)
    return found


def one(rt: Runtime, event_type: str) -> Stored:
    """The one event of ``event_type``, delivered to the subscribed target."""
    [stored] = outbox(rt, event_type)
    assert stored.targets == [TARGET]
    return stored


def count(rt: Runtime, event_type: str | None = None) -> int:
    with rt.db.transaction() as session:
        query = select(OutboxEvent.id)
        if event_type is not None:
            query = query.where(OutboxEvent.type == event_type)
        return len(session.scalars(query).all())


def audit_of(rt: Runtime, record_id: str) -> list[str]:
    with rt.db.transaction() as session:
        rows = session.scalars(
            select(AuditEntry.detail)
            .where(AuditEntry.record_id == record_id)
            .order_by(AuditEntry.id)
        ).all()
        return [r or "" for r in rows]


# Records the changes need


def add_person(
    rt: Runtime, external_id: str = "V-1", cpf: str = CPF, name: str = "Maria"
) -> str:
    party = validate_party("SAP", external_id, "individual", name, cpf)
    view, _ = rt.parties.upsert(CALL, party)
    return view.id


def lawsuit_input(external_id: str = "L-1", **changes: Any) -> Any:
    values: dict[str, Any] = {
        "source_system": "SAP",
        "external_id": external_id,
        "kind": "judicial",
        "cnj_number": CNJ,
        "area": "labor",
        "company_role": "defendant",
        "claim_value": "25000.00",
        "risk": "probable",
        "status": "active",
        "filing_date": dt.date(2016, 5, 10),
        **changes,
    }
    return validate_lawsuit(**values)


def add_lawsuit(rt: Runtime, external_id: str = "L-1") -> str:
    view, _ = rt.lawsuits.upsert(CALL, lawsuit_input(external_id))
    return str(view.id)


def close_lawsuit(rt: Runtime, external_id: str = "L-1") -> None:
    closed = lawsuit_input(
        external_id,
        status="closed",
        closure_date=dt.date(2026, 11, 30),
        closure_reason="acordo homologado",
    )
    rt.lawsuits.upsert(CALL, closed)


def contract(
    external_id: str = "C-1",
    status: str = "active",
    parties: list[tuple[str, str]] | None = None,
    **changes: Any,
) -> ContractData:
    values: dict[str, Any] = {
        "number": "CT-2026-001",
        "type": "serviço",
        "object": "Manutenção predial",
        "parties": parties or [("company", COMPANY), ("counterparty", CPF)],
        "value": "120000.00",
        "currency": "BRL",
        "start_date": dt.date(2026, 1, 1),
        "end_date": dt.date(2026, 12, 31),
        "auto_renewal": "false",
        "renewal_months": None,
        "notice_days": "30",
        **changes,
    }
    return ContractData(
        "SAP", external_id, ContractStatus(status), validate_contract(**values)
    )


def add_order(rt: Runtime, external_id: str = "PO-1") -> str:
    add_person(rt, "B-1", "98765432100", "Beneficiária")
    data = validate_payment_order(
        source_system="SAP",
        external_id=external_id,
        lawsuit_number=CNJ,
        type="settlement",
        beneficiary_tax_id="98765432100",
        amount="1500.00",
        due_date=dt.date(2026, 12, 31),
        cost_center="JUR-01",
        description="Acordo",
    )
    order, _ = rt.legal.create_payment_order(CALL, data)
    return str(order.id)


def registered_order(rt: Runtime) -> str:
    order_id = add_order(rt)
    rt.legal.approve_payment_order(CALL, order_id)
    rt.legal.confirm_payment_order_registered(CALL, order_id, "5100000123")
    return order_id


def provision(
    lawsuit_id: str, external_id: str, date: dt.date, cls: str, amount: str
) -> ProvisionData:
    figure = validate_provision(lawsuit_id, date, cls, amount)
    return ProvisionData("SAP", external_id, LawsuitRef(id=lawsuit_id), figure)


# The catalogue and its schema


def test_every_event_type_has_a_body_element_the_schema_declares() -> None:
    schema = etree.parse(str(REPO / "wsdl" / "events-v1.xsd"), safe_parser())
    xs = {"xs": "http://www.w3.org/2001/XMLSchema"}
    declared = schema.xpath(
        "//xs:complexType[@name='Event']//xs:element/@name", namespaces=xs
    )
    enumerated = schema.xpath(
        "//xs:simpleType[@name='EventType']//xs:enumeration/@value", namespaces=xs
    )
    assert set(enumerated) == EVENT_TYPES
    assert set(BODY_ELEMENTS.values()) <= set(declared)
    assert not schema.xpath("//xs:any | //xs:choice", namespaces=xs)


def test_approved_event_xml_is_unchanged() -> None:
    """Byte for byte what the TOTVS RM mapping was written against."""
    beneficiary = events.BeneficiarySnapshot(
        "SAP", "V-1", "individual", "Maria", "12345678909"
    )
    now = dt.datetime(2026, 3, 1, 12, 0, 5, tzinfo=dt.UTC)
    order = events.PaymentOrderSnapshot(
        "oid-1",
        "SAP",
        "PO-1",
        "00589677720168190000",
        "condemnation",
        Decimal("1500.5"),
        dt.date(2026, 12, 20),
        "JUR-01",
        "Condenação",
        now,
        "erp",
        beneficiary,
    )
    with mock.patch("uuid.uuid4", return_value=uuid.UUID(int=7)):
        event = events.payment_order_approved(order, now)
    assert (
        event.body
        == (
            "<?xml version='1.0' encoding='UTF-8'?>\n"
            '<ev:event xmlns:ev="urn:ponte:events:v1">'
            "<ev:id>00000000-0000-0000-0000-000000000007</ev:id>"
            "<ev:type>payment_order.approved</ev:type><ev:version>1</ev:version>"
            "<ev:occurredAt>2026-03-01T12:00:05Z</ev:occurredAt>"
            "<ev:businessKey>payment_order:oid-1</ev:businessKey>"
            "<ev:paymentOrder><ev:id>oid-1</ev:id><ev:sourceSystem>SAP</ev:sourceSystem>"
            "<ev:externalId>PO-1</ev:externalId>"
            "<ev:lawsuitNumber>00589677720168190000</ev:lawsuitNumber>"
            "<ev:type>condemnation</ev:type><ev:amount>1500.50</ev:amount>"
            "<ev:currency>BRL</ev:currency><ev:dueDate>2026-12-20</ev:dueDate>"
            "<ev:costCenter>JUR-01</ev:costCenter>"
            "<ev:description>Condenação</ev:description>"
            "<ev:approvedAt>2026-03-01T12:00:05Z</ev:approvedAt>"
            "<ev:approvedBy>erp</ev:approvedBy>"
            "<ev:beneficiary><ev:sourceSystem>SAP</ev:sourceSystem>"
            "<ev:externalId>V-1</ev:externalId><ev:kind>individual</ev:kind>"
            "<ev:name>Maria</ev:name><ev:taxId>12345678909</ev:taxId></ev:beneficiary>"
            "</ev:paymentOrder></ev:event>"
        ).encode()
    )


# payment_order.*


def test_approval_writes_a_valid_approved_event(rt: Runtime) -> None:
    order_id = add_order(rt)
    rt.legal.approve_payment_order(CALL, order_id)
    event = one(rt, "payment_order.approved")
    assert event.business_key == f"payment_order:{order_id}"
    assert event.text("ev:amount") == "1500.00"


def test_cancellation_writes_its_event_after_stopping_the_approval(
    rt: Runtime,
) -> None:
    order_id = add_order(rt)
    rt.legal.approve_payment_order(CALL, order_id)
    rt.legal.cancel_payment_order(CALL, order_id, "acordo desfeito")

    event = one(rt, "payment_order.cancelled")
    assert event.business_key == f"payment_order:{order_id}"
    assert event.text("ev:id") == order_id
    assert event.text("ev:previousStatus") == "approved"
    assert event.text("ev:reason") == "acordo desfeito"
    assert event.text("ev:cancelledBy") == "erp"
    assert event.text("ev:erpDocument") is None
    with rt.db.transaction() as session:
        statuses = dict(
            session.execute(
                select(OutboxEvent.type, Delivery.status).join(
                    OutboxEvent, Delivery.event_id == OutboxEvent.id
                )
            ).all()
        )
    assert statuses == {
        "payment_order.approved": "cancelled",
        "payment_order.cancelled": "pending",
    }
    assert any(event.id in d and TARGET in d for d in audit_of(rt, order_id))


def test_cancelling_a_registered_order_names_the_erp_document(rt: Runtime) -> None:
    order_id = registered_order(rt)
    rt.legal.cancel_payment_order(CALL, order_id, "pago por depósito")
    event = one(rt, "payment_order.cancelled")
    assert event.text("ev:erpDocument") == "5100000123"
    assert event.text("ev:previousStatus") == "registered"


def test_refused_cancellation_writes_no_event(rt: Runtime) -> None:
    order_id = registered_order(rt)
    rt.legal.confirm_payment_order_paid(CALL, order_id, dt.date(2026, 12, 1))
    with pytest.raises(ConflictError, match="paid cannot become cancelled"):
        rt.legal.cancel_payment_order(CALL, order_id, "erro")
    assert count(rt, "payment_order.cancelled") == 0


def test_registration_writes_the_document_number(rt: Runtime) -> None:
    order_id = registered_order(rt)
    event = one(rt, "payment_order.registered")
    assert event.business_key == f"payment_order:{order_id}"
    assert event.text("ev:documentNumber") == "5100000123"
    assert event.text("ev:replacedDocument") is None
    assert event.text("ev:confirmedBy") == "erp"


def test_repeated_registration_writes_no_second_event_and_a_new_number_one(
    rt: Runtime,
) -> None:
    order_id = registered_order(rt)
    rt.legal.confirm_payment_order_registered(CALL, order_id, "5100000123")
    assert count(rt, "payment_order.registered") == 1
    rt.legal.confirm_payment_order_registered(CALL, order_id, "5100000999")
    numbers = {
        (e.text("ev:documentNumber"), e.text("ev:replacedDocument"))
        for e in outbox(rt, "payment_order.registered")
    }
    assert numbers == {("5100000123", None), ("5100000999", "5100000123")}


def test_registration_of_an_unapproved_order_writes_no_event(rt: Runtime) -> None:
    order_id = add_order(rt)
    with pytest.raises(ConflictError, match="created cannot become registered"):
        rt.legal.confirm_payment_order_registered(CALL, order_id, "5100000123")
    assert count(rt, "payment_order.registered") == 0


def test_payment_writes_the_date_and_receipt(rt: Runtime) -> None:
    order_id = registered_order(rt)
    rt.legal.confirm_payment_order_paid(CALL, order_id, dt.date(2026, 12, 1), "R-77")
    event = one(rt, "payment_order.paid")
    assert event.business_key == f"payment_order:{order_id}"
    assert event.text("ev:paymentDate") == "2026-12-01"
    assert event.text("ev:receipt") == "R-77"
    assert event.text("ev:erpDocument") == "5100000123"
    assert event.text("ev:amount") == "1500.00"
    rt.legal.confirm_payment_order_paid(CALL, order_id, dt.date(2026, 12, 1))
    assert count(rt, "payment_order.paid") == 1  # a repeat changes nothing


def test_payment_dated_in_the_future_writes_no_event(rt: Runtime) -> None:
    order_id = registered_order(rt)
    later = dt.date.today() + dt.timedelta(days=3)
    with pytest.raises(ValidationError, match="paymentDate: must not be after today"):
        rt.legal.confirm_payment_order_paid(CALL, order_id, later)
    assert count(rt, "payment_order.paid") == 0


# contract.*


def test_new_contract_writes_created_with_its_terms(rt: Runtime) -> None:
    view, _ = rt.contracts.upsert(CALL, contract())
    event = one(rt, "contract.created")
    assert event.business_key == f"contract:{view.id}"
    assert event.text("ev:contract/ev:number") == "CT-2026-001"
    assert event.text("ev:contract/ev:autoRenewal") == "false"
    assert event.texts("ev:contract/ev:parties/ev:party/ev:taxId") == [
        "11222333000181",
        CPF,
    ]
    assert event.text("ev:effectiveDate") == "2026-01-01"
    assert not event.has("ev:before")
    assert event.text("ev:after/ev:value") == "120000.00"
    assert event.text("ev:after/ev:status") == "active"
    assert event.text("ev:after/ev:version") == "0"


def test_upsert_overwriting_a_term_writes_no_event(rt: Runtime) -> None:
    rt.contracts.upsert(CALL, contract())
    with pytest.raises(ConflictError, match="is an amendment"):
        rt.contracts.upsert(CALL, contract(value="130000.00"))
    rt.contracts.upsert(CALL, contract())  # unchanged
    assert count(rt) == 1


def test_renewal_amendment_writes_renewed_with_old_and_new_end(rt: Runtime) -> None:
    view, _ = rt.contracts.upsert(CALL, contract())
    fields = AmendmentFields(
        number=1,
        type="renewal",
        effective_date=dt.date(2026, 12, 1),
        new_end_date=dt.date(2027, 12, 31),
        signed_at=dt.date(2026, 11, 20),
    )
    rt.contracts.amend(CALL, fields, contract_id=view.id)
    event = one(rt, "contract.renewed")
    assert event.business_key == f"contract:{view.id}"
    assert event.text("ev:effectiveDate") == "2026-12-01"
    assert event.text("ev:amendment/ev:number") == "1"
    assert event.text("ev:amendment/ev:type") == "renewal"
    assert event.text("ev:amendment/ev:signedAt") == "2026-11-20"
    assert event.texts("ev:changedField") == ["endDate"]
    assert event.text("ev:before/ev:endDate") == "2026-12-31"
    assert event.text("ev:after/ev:endDate") == "2027-12-31"
    assert (event.text("ev:before/ev:version"), event.text("ev:after/ev:version")) == (
        "0",
        "1",
    )


def test_value_amendment_writes_changed_with_old_and_new_value(rt: Runtime) -> None:
    view, _ = rt.contracts.upsert(CALL, contract())
    fields = AmendmentFields(
        number=1, type="value", effective_date="2026-06-01", new_value="150000.00"
    )
    rt.contracts.amend(CALL, fields, contract_id=view.id)
    event = one(rt, "contract.changed")
    assert event.texts("ev:changedField") == ["value"]
    assert event.text("ev:before/ev:value") == "120000.00"
    assert event.text("ev:after/ev:value") == "150000.00"
    assert event.text("ev:effectiveDate") == "2026-06-01"
    assert any(event.id in d for d in audit_of(rt, view.id))


def test_refused_amendment_writes_no_event(rt: Runtime) -> None:
    view, _ = rt.contracts.upsert(CALL, contract())
    wrong = AmendmentFields(
        number=2, type="value", effective_date="2026-06-01", new_value="1.00"
    )
    with pytest.raises(ValidationError, match="number: must be 1"):
        rt.contracts.amend(CALL, wrong, contract_id=view.id)
    assert count(rt) == 1


def test_status_change_by_upsert_writes_changed_effective_today(rt: Runtime) -> None:
    rt.contracts.upsert(CALL, contract(parties=[("counterparty", COMPANY)]))
    rt.contracts.upsert(
        CALL, contract(status="pending", parties=[("counterparty", COMPANY)])
    )
    event = one(rt, "contract.changed")
    assert event.texts("ev:changedField") == ["status"]
    assert event.text("ev:before/ev:status") == "active"
    assert event.text("ev:after/ev:status") == "pending"
    assert event.text("ev:effectiveDate") == dt.datetime.now(dt.UTC).date().isoformat()


def test_ending_a_contract_writes_ended(rt: Runtime) -> None:
    view, _ = rt.contracts.upsert(CALL, contract())
    rt.contracts.upsert(CALL, contract(status="ended"))
    event = one(rt, "contract.ended")
    assert event.business_key == f"contract:{view.id}"
    assert event.text("ev:before/ev:status") == "active"
    assert event.text("ev:after/ev:status") == "ended"
    today = dt.datetime.now(dt.UTC).date()
    assert (
        event.text("ev:effectiveDate") == min(today, dt.date(2026, 12, 31)).isoformat()
    )


def test_refused_status_change_writes_no_event(rt: Runtime) -> None:
    rt.contracts.upsert(CALL, contract(status="ended"))
    with pytest.raises(ConflictError, match="ended cannot become active"):
        rt.contracts.upsert(CALL, contract(status="active"))
    assert count(rt) == 1


# person.*


def test_pending_contract_flags_its_individual_counterparty(rt: Runtime) -> None:
    person = add_person(rt)
    view, _ = rt.contracts.upsert(CALL, contract(status="pending"))
    event = one(rt, "person.flagged")
    assert event.business_key == f"person:{person}"
    assert event.text("ev:cpf") == CPF
    assert event.text("ev:name") == "Maria"
    assert event.text("ev:purpose") == "contract_pending"
    assert event.text("ev:justification/ev:record") == "contract"
    assert event.text("ev:justification/ev:id") == view.id
    assert event.text("ev:validUntil") is not None
    audited = audit_of(rt, view.id)[-1]
    assert event.id in audited and CPF not in audited


def test_contract_leaving_pending_unflags_the_person(rt: Runtime) -> None:
    person = add_person(rt)
    rt.contracts.upsert(CALL, contract(status="pending"))
    rt.contracts.upsert(CALL, contract(status="active"))
    flagged = one(rt, "person.flagged")
    event = one(rt, "person.unflagged")
    assert event.business_key == f"person:{person}"
    assert event.text("ev:flagId") == flagged.text("ev:flagId")
    assert event.text("ev:cpf") == CPF
    assert event.text("ev:reason") == "contract_no_longer_pending"


def test_flag_refused_for_a_closed_lawsuit_writes_no_event(rt: Runtime) -> None:
    person = add_person(rt)
    lawsuit_id = add_lawsuit(rt)
    close_lawsuit(rt)
    with pytest.raises(ConflictError, match="only an open lawsuit justifies a flag"):
        rt.access.link_to_lawsuit(CALL, lawsuit_id, person, "court_order")
    assert count(rt, "person.flagged") == 0


# provision.changed


def test_first_probable_provision_is_constituted(rt: Runtime) -> None:
    lawsuit_id = add_lawsuit(rt)
    rt.provisions.upsert(
        CALL, provision(lawsuit_id, "PV-1", dt.date(2026, 5, 31), "probable", "10.00")
    )
    event = one(rt, "provision.changed")
    assert event.business_key == f"provision:{lawsuit_id}"
    assert event.text("ev:cause") == "reporting"
    assert event.text("ev:lawsuitNumber") == "00589677720168190000"
    assert not event.has("ev:before")
    assert event.text("ev:after/ev:provisionedAmount") == "10.00"
    assert event.texts("ev:movements/ev:movement/ev:kind") == ["constitution"]
    assert event.text("ev:movements/ev:movement/ev:debit") == "provision_expense"
    assert event.text("ev:movements/ev:movement/ev:credit") == "provision"


def test_reclassification_to_possible_reverses_and_discloses(rt: Runtime) -> None:
    lawsuit_id = add_lawsuit(rt)
    rt.provisions.upsert(
        CALL, provision(lawsuit_id, "PV-1", dt.date(2026, 5, 31), "probable", "10.00")
    )
    rt.provisions.upsert(
        CALL, provision(lawsuit_id, "PV-2", dt.date(2026, 6, 30), "possible", "8.00")
    )
    [event] = [e for e in outbox(rt, "provision.changed") if e.has("ev:before")]
    assert event.text("ev:before/ev:classification") == "probable"
    assert event.text("ev:after/ev:classification") == "possible"
    assert event.text("ev:after/ev:provisionedAmount") == "0.00"
    moves = event.xml.xpath("//ev:movement", namespaces=NS)
    assert [
        (m.findtext("ev:kind", namespaces=NS), m.findtext("ev:amount", namespaces=NS))
        for m in moves
    ] == [("reversal", "10.00"), ("disclosure", "8.00")]
    assert moves[1].findtext("ev:debit", namespaces=NS) is None


def test_revision_and_withdrawal_each_write_their_movements(rt: Runtime) -> None:
    lawsuit_id = add_lawsuit(rt)
    first = provision(lawsuit_id, "PV-1", dt.date(2026, 5, 31), "probable", "10.00")
    rt.provisions.upsert(CALL, first)
    rt.provisions.upsert(
        CALL, provision(lawsuit_id, "PV-1", dt.date(2026, 5, 31), "probable", "25.00")
    )
    rt.provisions.delete(CALL, key=("SAP", "PV-1"))
    by_cause = {e.text("ev:cause"): e for e in outbox(rt, "provision.changed")}
    revision, withdrawal = by_cause["revision"], by_cause["withdrawal"]
    assert revision.texts("ev:movements/ev:movement/ev:kind") == ["increase"]
    assert revision.text("ev:movements/ev:movement/ev:amount") == "15.00"
    assert withdrawal.text("ev:before/ev:amount") == "25.00"
    assert not withdrawal.has("ev:after")
    assert withdrawal.texts("ev:movements/ev:movement/ev:kind") == ["reversal"]
    assert withdrawal.text("ev:movements/ev:movement/ev:amount") == "25.00"


def test_provision_out_of_order_writes_no_event(rt: Runtime) -> None:
    lawsuit_id = add_lawsuit(rt)
    rt.provisions.upsert(
        CALL, provision(lawsuit_id, "PV-2", dt.date(2026, 6, 30), "probable", "10.00")
    )
    with pytest.raises(ConflictError, match="history is not rewritten"):
        rt.provisions.upsert(
            CALL,
            provision(lawsuit_id, "PV-1", dt.date(2026, 5, 31), "probable", "9.00"),
        )
    assert count(rt, "provision.changed") == 1


# lawsuit.closed


def test_closing_a_lawsuit_writes_closed(rt: Runtime) -> None:
    lawsuit_id = add_lawsuit(rt)
    close_lawsuit(rt)
    event = one(rt, "lawsuit.closed")
    assert event.business_key == f"lawsuit:{lawsuit_id}"
    assert event.text("ev:previousStatus") == "active"
    assert event.text("ev:closureDate") == "2026-11-30"
    assert event.text("ev:closureReason") == "acordo homologado"
    assert event.text("ev:cnjNumber") == "00589677720168190000"
    close_lawsuit(rt)  # unchanged
    rt.lawsuits.upsert(CALL, lawsuit_input(status="archived"))
    assert count(rt, "lawsuit.closed") == 1


def test_refused_closure_writes_no_event(rt: Runtime) -> None:
    add_lawsuit(rt)
    rt.lawsuits.upsert(
        CALL,
        lawsuit_input(
            status="closed",
            closure_date=dt.date(2026, 11, 30),
            closure_reason="acordo",
        ),
    )
    rt.lawsuits.upsert(CALL, lawsuit_input(status="archived"))
    with pytest.raises(ConflictError, match="archived cannot become closed"):
        close_lawsuit(rt)
    assert count(rt, "lawsuit.closed") == 1


def test_bulk_contract_upsert_writes_one_event_per_changed_item(rt: Runtime) -> None:
    def item(external_id: str, value: str) -> tc.ContractInput:
        return tc.ContractInput(
            sourceSystem="SAP",
            externalId=external_id,
            number="CT-9",
            type="locação",
            object="Aluguel",
            parties=[tc.ContractParty(role="counterparty", taxId=COMPANY)],
            value=Decimal(value),
            startDate=dt.date(2026, 1, 1),
            endDate=dt.date(2027, 12, 31),
            status="active",
        )

    results = rt.contracts.upsert_many(
        CALL,
        [item("B-1", "10.00"), item("B-2", "-1"), item("B-3", "30.00")],
        contract_data,
    )
    assert [r.outcome for r in results] == ["created", "refused", "created"]
    keys = {e.business_key for e in outbox(rt, "contract.created")}
    assert keys == {f"contract:{r.id}" for r in results if r.id}


def test_one_history_writes_every_event_type_valid_and_convertible(
    rt: Runtime,
) -> None:
    """A sample of every type, each valid against the schema and as JSON."""
    add_person(rt)
    paid = registered_order(rt)
    rt.legal.confirm_payment_order_paid(CALL, paid, dt.date(2026, 12, 1))
    rt.legal.cancel_payment_order(CALL, add_order(rt, "PO-2"), "erro")
    view, _ = rt.contracts.upsert(CALL, contract(status="pending"))
    renewal = AmendmentFields(
        1, "renewal", dt.date(2026, 12, 1), new_end_date=dt.date(2027, 12, 31)
    )
    rt.contracts.amend(CALL, renewal, contract_id=view.id)
    value = AmendmentFields(2, "value", dt.date(2026, 12, 1), new_value="1.00")
    rt.contracts.amend(CALL, value, contract_id=view.id)
    rt.contracts.upsert(
        CALL, contract(status="active", end_date=dt.date(2027, 12, 31), value="1.00")
    )
    rt.contracts.upsert(
        CALL, contract(status="ended", end_date=dt.date(2027, 12, 31), value="1.00")
    )
    lawsuit_id = add_lawsuit(rt)
    rt.provisions.upsert(
        CALL, provision(lawsuit_id, "PV-1", dt.date(2026, 5, 31), "possible", "0.00")
    )
    close_lawsuit(rt)

    to_json = EventJson()
    for event_type in sorted(EVENT_TYPES):
        samples = outbox(rt, event_type)  # each checked against the schema
        assert samples, f"no {event_type} event"
        for sample in samples:
            value_of = json.loads(to_json.convert(etree.tostring(sample.xml)))
            assert value_of["type"] == event_type
    [ended] = outbox(rt, "contract.ended")
    body = json.loads(to_json.convert(etree.tostring(ended.xml)))["contractEnded"]
    assert body["contract"]["parties"]["party"][1] == {
        "role": "counterparty",
        "taxId": CPF,
    }
    assert body["changedField"] == ["status"]
    [changed] = outbox(rt, "provision.changed")
    movements = json.loads(to_json.convert(etree.tostring(changed.xml)))[
        "provisionChanged"
    ]["movements"]["movement"]
    assert movements == [{"kind": "disclosure", "amount": "0.00"}]
