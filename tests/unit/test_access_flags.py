"""Access-control flags: one flag per person, kept while a reason is open.

A person is linked to an open lawsuit by the legal department (a narrow
purpose) or to a pending contract as its individual counterparty; each link
is one ``access_flags`` row, and the gate hears ``person.flagged`` once and
``person.unflagged`` only when the last open link ends.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from adapter.app.access import (
    CONTRACT_PENDING_DAYS,
    LAWSUIT_DEFAULT_DAYS,
    AccessService,
)
from adapter.delivery.outbox import Outbox
from adapter.domain.parties import validate_party
from adapter.errors import ConflictError, NotFoundError, ValidationError
from adapter.runtime import Runtime, subscriptions_of
from adapter.storage.models import AuditEntry
from adapter.storage.models_access import AccessFlag
from tests.unit.test_event_catalogue import (
    CALL,
    CNJ,
    COMPANY,
    CPF,
    add_lawsuit,
    add_person,
    catalogue_runtime,
    close_lawsuit,
    contract,
    count,
    one,
    outbox,
)

OTHER_CPF = "52998224725"


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = catalogue_runtime(tmp_path, database_url)
    yield runtime
    runtime.db.dispose()


def flags(rt: Runtime) -> list[AccessFlag]:
    with rt.db.transaction() as session:
        query = select(AccessFlag).order_by(AccessFlag.created_at, AccessFlag.id)
        return list(session.scalars(query))


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


# Link, once


def test_link_to_a_lawsuit_flags_the_person_once(rt: Runtime) -> None:
    person = add_person(rt)
    lawsuit = add_lawsuit(rt)
    flag, outcome = rt.access.link_to_lawsuit(CALL, lawsuit, person, "court_order")
    again, repeat = rt.access.link_to_lawsuit(CALL, lawsuit, person, "court_order")

    assert (outcome, repeat) == ("flagged", "unchanged")
    assert again.id == flag.id
    assert [(f.party_id, f.justification, f.justification_id) for f in flags(rt)] == [
        (person, "lawsuit", lawsuit)
    ]
    assert rt.access.flags_of(CALL, person) == [flag]
    event = one(rt, "person.flagged")
    assert event.business_key == f"person:{person}"
    assert event.text("ev:flagId") == flag.id
    assert event.text("ev:purpose") == "court_order"
    assert event.text("ev:justification/ev:record") == "lawsuit"
    assert event.text("ev:justification/ev:id") == lawsuit


def test_second_link_adds_a_reason_but_no_second_flag(rt: Runtime) -> None:
    person = add_person(rt)
    first, second = add_lawsuit(rt, "L-1"), add_lawsuit(rt, "L-2")
    rt.access.link_to_lawsuit(CALL, first, person, "court_order")
    rt.access.link_to_lawsuit(CALL, second, person, "security_threat")
    rt.contracts.upsert(CALL, contract(status="pending"))

    assert len(flags(rt)) == 3
    assert count(rt, "person.flagged") == 1
    assert count(rt, "person.unflagged") == 0


# Unlink only when nothing else is open


def test_closing_one_lawsuit_keeps_the_person_flagged_by_another(rt: Runtime) -> None:
    person = add_person(rt)
    first, second = add_lawsuit(rt, "L-1"), add_lawsuit(rt, "L-2")
    rt.access.link_to_lawsuit(CALL, first, person, "court_order")
    rt.access.link_to_lawsuit(CALL, second, person, "court_order")

    close_lawsuit(rt, "L-1")

    assert count(rt, "person.unflagged") == 0
    # The gate held the first lawsuit: it now holds the second instead.
    held = {e.text("ev:justification/ev:id") for e in outbox(rt, "person.flagged")}
    assert held == {first, second}
    open_rows = [f for f in flags(rt) if f.ended_at is None]
    assert [f.justification_id for f in open_rows] == [second]

    close_lawsuit(rt, "L-2")

    event = one(rt, "person.unflagged")
    assert event.business_key == f"person:{person}"
    assert event.text("ev:reason") == "lawsuit_closed"
    assert event.text("ev:cpf") == CPF
    assert all(f.ended_at is not None for f in flags(rt))


def test_ending_a_reason_the_gate_does_not_hold_writes_no_event(
    rt: Runtime,
) -> None:
    person = add_person(rt)
    lawsuit = add_lawsuit(rt)
    rt.access.link_to_lawsuit(CALL, lawsuit, person, "court_order")
    rt.contracts.upsert(CALL, contract(status="pending"))

    rt.contracts.upsert(CALL, contract(status="active"))

    assert count(rt, "person.unflagged") == 0
    assert count(rt, "person.flagged") == 1


def test_ended_flag_keeps_no_cpf_and_names_its_unflag_event(rt: Runtime) -> None:
    person = add_person(rt)
    lawsuit = add_lawsuit(rt)
    rt.access.link_to_lawsuit(CALL, lawsuit, person, "court_order")
    close_lawsuit(rt)

    [row] = flags(rt)
    event = one(rt, "person.unflagged")
    assert row.cpf is None and row.ended_at is not None
    assert (row.end_reason, row.ended_event_id) == ("lawsuit_closed", event.id)


def test_deleting_the_lawsuit_unflags_the_person(rt: Runtime) -> None:
    person = add_person(rt)
    lawsuit = add_lawsuit(rt)
    rt.access.link_to_lawsuit(CALL, lawsuit, person, "security_threat")
    rt.lawsuits.delete(CALL, lawsuit_id=lawsuit)
    assert one(rt, "person.unflagged").text("ev:reason") == "lawsuit_deleted"


def test_unlink_ends_the_link_once(rt: Runtime) -> None:
    person = add_person(rt)
    lawsuit = add_lawsuit(rt)
    rt.access.link_to_lawsuit(CALL, lawsuit, person, "court_order")
    assert rt.access.unlink_from_lawsuit(CALL, lawsuit, person) == "ended"
    assert rt.access.unlink_from_lawsuit(CALL, lawsuit, person) == "unchanged"
    assert one(rt, "person.unflagged").text("ev:reason") == "link_removed"


def test_removing_the_person_from_a_pending_contract_unflags_them(
    rt: Runtime,
) -> None:
    add_person(rt)
    rt.contracts.upsert(CALL, contract(status="pending"))
    rt.contracts.upsert(
        CALL, contract(status="pending", parties=[("counterparty", COMPANY)])
    )
    assert one(rt, "person.unflagged").text("ev:reason") == "removed_from_contract"


# Expiry


def test_expiry_is_stored_and_sent(rt: Runtime) -> None:
    person = add_person(rt)
    first, second = add_lawsuit(rt, "L-1"), add_lawsuit(rt, "L-2")
    until = today() + dt.timedelta(days=10)
    rt.access.link_to_lawsuit(CALL, first, person, "court_order", until)
    rt.access.link_to_lawsuit(CALL, second, person, "court_order")
    rt.contracts.upsert(CALL, contract(status="pending"))

    assert [f.valid_until for f in flags(rt)] == [
        until,
        today() + dt.timedelta(days=LAWSUIT_DEFAULT_DAYS),
        today() + dt.timedelta(days=CONTRACT_PENDING_DAYS),
    ]
    assert one(rt, "person.flagged").text("ev:validUntil") == until.isoformat()


@pytest.mark.parametrize(
    ("days", "rule"),
    [(-1, "must not be before today"), (181, "must be at most 180 days from today")],
)
def test_validity_in_the_past_or_too_far_is_refused(
    rt: Runtime, days: int, rule: str
) -> None:
    person = add_person(rt)
    lawsuit = add_lawsuit(rt)
    until = today() + dt.timedelta(days=days)
    with pytest.raises(ValidationError, match=f"validUntil: {rule}"):
        rt.access.link_to_lawsuit(CALL, lawsuit, person, "court_order", until)
    assert flags(rt) == [] and count(rt, "person.flagged") == 0


def test_expired_flag_is_replaced_by_a_new_link(rt: Runtime) -> None:
    clock = Clock()
    access = AccessService(
        rt.db, rt.audit, Outbox(subscriptions_of(rt.settings)), clock
    )
    person = add_person(rt)
    lawsuit = add_lawsuit(rt)
    access.link_to_lawsuit(CALL, lawsuit, person, "court_order", today())

    clock.now += dt.timedelta(days=3)
    _, outcome = access.link_to_lawsuit(CALL, lawsuit, person, "court_order")

    assert outcome == "flagged"
    stale, fresh = flags(rt)
    assert (stale.end_reason, stale.cpf) == ("expired", None)
    assert fresh.ended_at is None
    assert count(rt, "person.flagged") == 2  # the gate had dropped the first
    assert count(rt, "person.unflagged") == 0


# Who and why


@pytest.mark.parametrize("purpose", ["contract_pending", "sued_the_company", None])
def test_a_lawsuit_link_needs_a_narrow_purpose(
    rt: Runtime, purpose: str | None
) -> None:
    person = add_person(rt)
    lawsuit = add_lawsuit(rt)
    with pytest.raises(ValidationError, match="purpose: must be one of court_order"):
        rt.access.link_to_lawsuit(CALL, lawsuit, person, purpose)
    assert flags(rt) == []


def test_only_a_person_can_be_flagged(rt: Runtime) -> None:
    company, _ = rt.parties.upsert(
        CALL, validate_party("SAP", "F-1", "company", "Fornecedor", COMPANY)
    )
    lawsuit = add_lawsuit(rt)
    with pytest.raises(ConflictError, match="not a live individual with a CPF"):
        rt.access.link_to_lawsuit(CALL, lawsuit, company.id, "court_order")
    with pytest.raises(NotFoundError, match="partyId: no party with id nope"):
        rt.access.link_to_lawsuit(CALL, lawsuit, "nope", "court_order")
    assert count(rt) == 0


def test_deleted_lawsuit_justifies_no_flag(rt: Runtime) -> None:
    person = add_person(rt)
    lawsuit = add_lawsuit(rt)
    rt.lawsuits.delete(CALL, lawsuit_id=lawsuit)
    with pytest.raises(ConflictError, match="is deleted; only an open lawsuit"):
        rt.access.link_to_lawsuit(CALL, lawsuit, person, "court_order")
    assert flags(rt) == []


def test_cpf_no_party_holds_is_not_flagged(rt: Runtime) -> None:
    rt.contracts.upsert(CALL, contract(status="pending"))
    assert flags(rt) == [] and count(rt, "person.flagged") == 0


def test_two_parties_with_one_cpf_share_one_flag(rt: Runtime) -> None:
    first = add_person(rt, "V-1")
    second = add_person(rt, "P-9")
    lawsuit = add_lawsuit(rt)
    rt.access.link_to_lawsuit(CALL, lawsuit, second, "court_order")
    rt.contracts.upsert(CALL, contract(status="pending"))
    assert {f.party_id for f in flags(rt)} == {first}
    assert one(rt, "person.flagged").business_key == f"person:{first}"


def test_guarantor_and_company_roles_are_not_flagged(rt: Runtime) -> None:
    add_person(rt)
    add_person(rt, "V-2", OTHER_CPF, "João")
    parties = [("company", CPF), ("guarantor", OTHER_CPF), ("counterparty", COMPANY)]
    rt.contracts.upsert(CALL, contract(status="pending", parties=parties))
    assert flags(rt) == []


# Data minimisation


def test_flag_events_carry_only_what_the_purpose_needs(rt: Runtime) -> None:
    person = add_person(rt)
    lawsuit = add_lawsuit(rt)
    rt.access.link_to_lawsuit(CALL, lawsuit, person, "court_order")
    close_lawsuit(rt)

    flagged, unflagged = one(rt, "person.flagged"), one(rt, "person.unflagged")
    assert _children(flagged.xml, "personFlagged") == [
        "flagId",
        "name",
        "cpf",
        "purpose",
        "justification",
        "validUntil",
    ]
    assert _children(unflagged.xml, "personUnflagged") == ["flagId", "cpf", "reason"]
    digits = CNJ.replace("-", "").replace(".", "")
    for event in (flagged, unflagged):
        assert digits.encode() not in etree.tostring(event.xml)


def test_the_audit_entry_names_the_events_and_masks_the_person(rt: Runtime) -> None:
    person = add_person(rt)
    lawsuit = add_lawsuit(rt)
    rt.access.link_to_lawsuit(CALL, lawsuit, person, "court_order")
    event = one(rt, "person.flagged")
    with rt.db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.record_type == "access_flag")
        ).one()
    detail = json.loads(entry.detail or "{}")
    assert entry.record_id == person
    assert detail["access"] == [
        {
            "event": event.id,
            "type": "person.flagged",
            "person": person,
            "targets": ["all-events"],
        }
    ]
    assert CPF not in (entry.detail or "")


def _children(xml: etree._Element, body: str) -> list[str]:
    [element] = xml.xpath(f"ev:{body}", namespaces={"ev": "urn:ponte:events:v1"})
    return [etree.QName(child).localname for child in element]
