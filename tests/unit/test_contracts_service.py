"""Contract use cases on a real database: versioned amendments, never overwrites."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from adapter.app.context import CallContext
from adapter.app.contracts import (
    AmendmentFields,
    ContractData,
    ContractFilter,
    ContractService,
)
from adapter.domain.contracts import ContractStatus, validate_contract
from adapter.errors import ConflictError, NotFoundError, ValidationError
from adapter.inbound import types_contracts as tc
from adapter.inbound.mapping_contracts import contract_data
from adapter.runtime import Runtime
from adapter.storage.models import AuditEntry
from adapter.storage.models_contracts import (
    ContractAmendment,
    ContractParty,
    ContractVersion,
)
from adapter.storage.paging import decode_cursor

CALL = CallContext(actor="erp", channel="soap", operation="test")
COMPANY = "11.222.333/0001-81"
SUPPLIER = "12.ABC.345/01DE-35"  # alphanumeric CNPJ
PERSON = "123.456.789-09"  # an individual: personal data

FIELDS: dict[str, Any] = {
    "number": "CT-2026-001",
    "type": "serviço",
    "object": "Manutenção predial",
    "parties": [("company", COMPANY), ("counterparty", SUPPLIER)],
    "value": "120000.00",
    "currency": "BRL",
    "start_date": dt.date(2026, 1, 1),
    "end_date": dt.date(2026, 12, 31),
    "auto_renewal": "true",
    "renewal_months": "12",
    "notice_days": "30",
}


class Clock:
    """A clock the test moves; equal times exercise the paging tie-breaker."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self, seconds: int = 1) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(runtime: Runtime, clock: Clock) -> ContractService:
    return ContractService(runtime.db, runtime.audit, clock)


def data(external_id: str = "C-1", status: str = "active", **changes: Any) -> Any:
    contract = validate_contract(**{**FIELDS, **changes})
    return ContractData("SAP", external_id, ContractStatus(status), contract)


def item(external_id: str, **changes: Any) -> tc.ContractInput:
    """A contract as the SOAP layer hands it over, for bulk calls."""
    values: dict[str, Any] = {
        "sourceSystem": "SAP",
        "externalId": external_id,
        "number": "CT-9",
        "type": "locação",
        "object": "Aluguel da sede",
        "parties": [
            tc.ContractParty(role="company", taxId=COMPANY),
            tc.ContractParty(role="counterparty", taxId=SUPPLIER),
        ],
        "value": Decimal("5000.00"),
        "startDate": dt.date(2026, 1, 1),
        "endDate": dt.date(2027, 12, 31),
        "status": "active",
        **changes,
    }
    return tc.ContractInput(**values)


def amendment(number: int = 1, kind: str = "value", **changes: Any) -> AmendmentFields:
    values: dict[str, Any] = {"effective_date": dt.date(2026, 6, 1), **changes}
    if kind == "value" and "new_value" not in changes:
        values["new_value"] = "150000.00"
    return AmendmentFields(number=number, type=kind, **values)


def count(runtime: Runtime, model: type, *where: Any) -> int:
    with runtime.db.transaction() as session:
        query = select(func.count()).select_from(model).where(*where)
        return int(session.scalar(query) or 0)


def audit_details(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.db.transaction() as session:
        rows = session.scalars(select(AuditEntry.detail).order_by(AuditEntry.id))
        return [json.loads(r) if r else {} for r in rows]


# Upsert


def test_upsert_is_idempotent_on_source_and_external_id(
    service: ContractService,
) -> None:
    first, created = service.upsert(CALL, data(status="draft"))
    again, unchanged = service.upsert(CALL, data(status="draft"))
    edited, updated = service.upsert(
        CALL, data(status="draft", object="Manutenção predial e elétrica")
    )
    assert (created, unchanged, updated) == ("created", "unchanged", "updated")
    assert first.id == again.id == edited.id
    assert edited.object == "Manutenção predial e elétrica"


def test_new_contract_is_version_zero_with_its_parties_in_their_own_table(
    runtime: Runtime, service: ContractService
) -> None:
    view, _ = service.upsert(CALL, data())
    assert view.version == 0 and view.amendments == ()
    assert [(p.role, p.tax_id) for p in view.parties] == [
        ("company", "11222333000181"),
        ("counterparty", "12ABC34501DE35"),
    ]
    assert count(runtime, ContractParty, ContractParty.contract_id == view.id) == 2
    assert count(runtime, ContractVersion, ContractVersion.contract_id == view.id) == 1


def test_notice_deadline_is_the_end_date_minus_the_notice_days(
    service: ContractService,
) -> None:
    view, _ = service.upsert(CALL, data())
    assert view.notice_deadline == dt.date(2026, 12, 1)


def test_changing_the_parties_replaces_the_list(service: ContractService) -> None:
    service.upsert(CALL, data())
    parties = [("company", COMPANY), ("counterparty", SUPPLIER), ("guarantor", PERSON)]
    view, outcome = service.upsert(CALL, data(parties=parties))
    assert outcome == "updated"
    assert [p.role for p in view.parties] == ["company", "counterparty", "guarantor"]


def test_cpf_of_an_individual_party_is_masked_in_the_audit_entry(
    runtime: Runtime, service: ContractService
) -> None:
    service.upsert(CALL, data(parties=[("counterparty", PERSON)]))
    stored = json.dumps(audit_details(runtime))
    assert "***.456.789-**" in stored
    assert "12345678909" not in stored


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"value": "130000.00"}, r"value: .* is an amendment: use AmendContract"),
        (
            {"end_date": dt.date(2027, 6, 30)},
            r"endDate: .* a renewal is an amendment: use AmendContract",
        ),
        (
            {"end_date": None, "auto_renewal": "false", "renewal_months": None},
            "endDate: .* use AmendContract",
        ),
    ],
)
def test_direct_change_of_value_or_end_date_is_refused(
    runtime: Runtime,
    service: ContractService,
    changes: dict[str, Any],
    message: str,
) -> None:
    stored, _ = service.upsert(CALL, data())
    with pytest.raises(ConflictError, match=message):
        service.upsert(CALL, data(**changes))
    after = service.get(CALL, contract_id=stored.id)
    assert (after.value, after.end_date) == (stored.value, stored.end_date)
    assert count(runtime, ContractVersion) == 1


def test_value_of_a_draft_is_not_overwritten_either(service: ContractService) -> None:
    service.upsert(CALL, data(status="draft"))
    with pytest.raises(ConflictError, match="use AmendContract"):
        service.upsert(CALL, data(status="draft", value="99.00"))


def test_object_may_change_before_signing_and_version_zero_follows(
    runtime: Runtime, service: ContractService
) -> None:
    view, _ = service.upsert(CALL, data(status="signing"))
    service.upsert(CALL, data(status="active", object="Texto final assinado"))
    with runtime.db.transaction() as session:
        versions = session.scalars(
            select(ContractVersion.object).where(ContractVersion.contract_id == view.id)
        ).all()
    assert versions == ["Texto final assinado"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"object": "Outro objeto"}, "object: .* scope amendment: use AmendContract"),
        ({"start_date": dt.date(2026, 2, 1)}, "startDate: .* cannot change"),
    ],
)
def test_object_and_start_of_a_signed_contract_cannot_be_overwritten(
    service: ContractService, changes: dict[str, Any], message: str
) -> None:
    service.upsert(CALL, data(status="active"))
    with pytest.raises(ConflictError, match=message):
        service.upsert(CALL, data(status="active", **changes))


def test_other_fields_of_a_signed_contract_may_change_by_upsert(
    service: ContractService,
) -> None:
    service.upsert(CALL, data())
    view, outcome = service.upsert(CALL, data(notice_days="60", number="CT-1/A"))
    assert outcome == "updated"
    assert (view.notice_days, view.number) == (60, "CT-1/A")


def test_status_changes_only_along_its_transitions(service: ContractService) -> None:
    service.upsert(CALL, data(status="draft"))
    with pytest.raises(ConflictError, match="in status draft cannot become active"):
        service.upsert(CALL, data(status="active"))
    service.upsert(CALL, data(status="signing"))
    view, _ = service.upsert(CALL, data(status="active"))
    assert view.status == "active"
    service.upsert(CALL, data(status="terminated"))
    with pytest.raises(ConflictError, match="terminated cannot become active"):
        service.upsert(CALL, data(status="active"))


# Amendments


def test_amendment_gives_a_new_version_and_keeps_the_old_one_as_a_row(
    runtime: Runtime, service: ContractService
) -> None:
    stored, _ = service.upsert(CALL, data())
    view, outcome = service.amend(CALL, amendment(), contract_id=stored.id)
    assert outcome == "amended"
    assert (view.version, view.value) == (1, Decimal("150000.00"))
    with runtime.db.transaction() as session:
        versions = session.execute(
            select(ContractVersion.version, ContractVersion.value)
            .where(ContractVersion.contract_id == stored.id)
            .order_by(ContractVersion.version)
        ).all()
    assert [tuple(v) for v in versions] == [
        (0, Decimal("120000.00")),
        (1, Decimal("150000.00")),
    ]


def test_each_amendment_keeps_its_old_and_new_values_and_effective_date(
    service: ContractService,
) -> None:
    stored, _ = service.upsert(CALL, data())
    service.amend(CALL, amendment(1, "value"), key=("SAP", "C-1"))
    term = amendment(
        2,
        "renewal",
        effective_date=dt.date(2026, 12, 31),
        new_end_date=dt.date(2027, 12, 31),
        signed_at=dt.date(2026, 11, 20),
    )
    service.amend(CALL, term, contract_id=stored.id)
    view = service.get(CALL, key=("SAP", "C-1"))
    value, renewal = view.amendments
    assert (value.number, value.type, value.effective_date) == (
        1,
        "value",
        dt.date(2026, 6, 1),
    )
    assert (value.old_value, value.new_value) == (
        Decimal("120000.00"),
        Decimal("150000.00"),
    )
    assert value.old_end_date is None and value.new_end_date is None
    assert (renewal.number, renewal.type, renewal.signed_at) == (
        2,
        "renewal",
        dt.date(2026, 11, 20),
    )
    assert (renewal.old_end_date, renewal.new_end_date) == (
        dt.date(2026, 12, 31),
        dt.date(2027, 12, 31),
    )
    assert renewal.old_value is None
    assert view.version == 2 and view.end_date == dt.date(2027, 12, 31)
    assert view.notice_deadline == dt.date(2027, 12, 1)


def test_scope_amendment_rewrites_the_object(service: ContractService) -> None:
    stored, _ = service.upsert(CALL, data())
    scope = amendment(1, "scope", new_object="Manutenção e limpeza")
    view, _ = service.amend(CALL, scope, contract_id=stored.id)
    assert view.object == "Manutenção e limpeza"
    assert view.amendments[0].old_object == "Manutenção predial"


def test_upsert_after_an_amendment_must_carry_the_amended_terms(
    service: ContractService,
) -> None:
    service.upsert(CALL, data())
    service.amend(CALL, amendment(), key=("SAP", "C-1"))
    with pytest.raises(ConflictError, match=r"worth 150000\.00 in version 1"):
        service.upsert(CALL, data())
    _, outcome = service.upsert(CALL, data(value="150000.00"))
    assert outcome == "unchanged"


def test_amendment_number_must_follow_the_current_version(
    runtime: Runtime, service: ContractService
) -> None:
    stored, _ = service.upsert(CALL, data())
    with pytest.raises(ValidationError, match="number: must be 1"):
        service.amend(CALL, amendment(2), contract_id=stored.id)
    assert count(runtime, ContractAmendment) == 0


def test_amendment_field_rules_are_the_domain_rules(service: ContractService) -> None:
    stored, _ = service.upsert(CALL, data())
    late = amendment(effective_date=dt.date(2027, 1, 1))
    with pytest.raises(ValidationError, match="effectiveDate: must not be after"):
        service.amend(CALL, late, contract_id=stored.id)
    with pytest.raises(ValidationError, match="newEndDate: is required"):
        service.amend(CALL, amendment(kind="term"), contract_id=stored.id)


@pytest.mark.parametrize("status", ["draft", "signing"])
def test_contract_not_yet_in_force_cannot_be_amended(
    runtime: Runtime, service: ContractService, status: str
) -> None:
    stored, _ = service.upsert(CALL, data(status=status))
    with pytest.raises(ConflictError, match=f"in status {status} cannot be amended"):
        service.amend(CALL, amendment(), contract_id=stored.id)
    assert count(runtime, ContractAmendment) == 0
    assert count(runtime, ContractVersion) == 1


def test_repeated_amendment_changes_nothing(
    runtime: Runtime, service: ContractService
) -> None:
    stored, _ = service.upsert(CALL, data())
    service.amend(CALL, amendment(), contract_id=stored.id)
    view, outcome = service.amend(CALL, amendment(), contract_id=stored.id)
    assert outcome == "unchanged" and view.version == 1
    assert count(runtime, ContractAmendment) == 1
    assert count(runtime, ContractVersion) == 2


def test_same_amendment_number_with_other_terms_is_a_conflict(
    service: ContractService,
) -> None:
    stored, _ = service.upsert(CALL, data())
    service.amend(CALL, amendment(), contract_id=stored.id)
    other = amendment(new_value="170000.00")
    expected = r"amendment 1 .* other terms; the next amendment is number 2"
    with pytest.raises(ConflictError, match=expected):
        service.amend(CALL, other, contract_id=stored.id)


def test_deleted_contract_cannot_be_amended(service: ContractService) -> None:
    stored, _ = service.upsert(CALL, data(status="terminated"))
    service.delete(CALL, contract_id=stored.id)
    with pytest.raises(ConflictError, match="is deleted; it cannot be amended"):
        service.amend(CALL, amendment(), contract_id=stored.id)


def test_amendment_is_audited_with_old_and_new_values(
    runtime: Runtime, service: ContractService
) -> None:
    stored, _ = service.upsert(CALL, data())
    service.amend(CALL, amendment(), contract_id=stored.id)
    detail = audit_details(runtime)[-1]
    assert detail["result"] == "amended"
    assert (detail["old_value"], detail["new_value"]) == ("120000.00", "150000.00")
    assert detail["effective_date"] == "2026-06-01"


# Get and delete


def test_contract_is_read_by_id_and_by_erp_key(service: ContractService) -> None:
    stored, _ = service.upsert(CALL, data())
    assert service.get(CALL, key=("SAP", "C-1")).id == stored.id
    with pytest.raises(NotFoundError, match="no contract with id nope exists"):
        service.get(CALL, contract_id="nope")
    with pytest.raises(NotFoundError, match="sourceSystem SAP and externalId C-2"):
        service.amend(CALL, amendment(), key=("SAP", "C-2"))


@pytest.mark.parametrize("status", ["active", "pending"])
def test_contract_in_force_cannot_be_deleted(
    service: ContractService, status: str
) -> None:
    stored, _ = service.upsert(CALL, data(status="signing"))
    service.upsert(CALL, data(status=status))
    with pytest.raises(ConflictError, match=f"is {status}; a contract in force"):
        service.delete(CALL, contract_id=stored.id)
    assert service.get(CALL, contract_id=stored.id).deleted_at is None


def test_ended_contract_is_soft_deleted_and_audited(
    runtime: Runtime, service: ContractService, clock: Clock
) -> None:
    stored, _ = service.upsert(CALL, data(status="ended"))
    deleted = service.delete(CALL, key=("SAP", "C-1"))
    assert deleted.deleted_at == clock.now
    assert audit_details(runtime)[-1] == {"result": "deleted"}
    page, _ = service.query(CALL, ContractFilter(), None, 10)
    assert page == []
    page, _ = service.query(CALL, ContractFilter(include_deleted=True), None, 10)
    assert [v.id for v in page] == [stored.id]


# Bulk


def test_bulk_upsert_refuses_only_the_bad_items(
    runtime: Runtime, service: ContractService
) -> None:
    service.upsert_many(CALL, [item("B-3")], contract_data)
    items = [
        item("B-0"),
        item("B-1", parties=[tc.ContractParty(role="company", taxId=COMPANY)]),
        item("B-2", status="closed"),
        item("B-3", value=Decimal("6000.00")),  # a direct change of value
        item("B-4"),
        item("B-0"),  # the same key twice in one call
    ]
    results = service.upsert_many(CALL, items, contract_data)
    assert [r.outcome for r in results] == [
        "created",
        "refused",
        "refused",
        "refused",
        "created",
        "refused",
    ]
    assert [r.fault_code for r in results if r.outcome == "refused"] == [
        "Client.Validation",
        "Client.Validation",
        "Client.Conflict",
        "Client.Validation",
    ]
    assert "parties: must include at least one counterparty" in str(results[1].message)
    assert "status: must be one of" in str(results[2].message)
    assert "use AmendContract" in str(results[3].message)
    assert "repeats item 0" in str(results[5].message)
    assert count(runtime, ContractParty) == 3 * 2
    assert service.get(CALL, key=("SAP", "B-3")).value == Decimal("5000.00")


def test_bulk_over_ten_thousand_items_is_refused(service: ContractService) -> None:
    with pytest.raises(ValidationError, match="the limit is 10000"):
        service.upsert_many(CALL, [None] * 10_001, contract_data)


# Query


def test_query_pages_in_a_stable_order_until_the_end(
    service: ContractService, clock: Clock
) -> None:
    for i in range(7):
        if i % 3 == 0:  # several contracts share a time: the id breaks the tie
            clock.tick()
        service.upsert(CALL, data(f"Q-{i}"))
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page, following = service.query(CALL, ContractFilter(), cursor, 3)
        seen += [v.external_id for v in page]
        if following is None:
            break
        cursor = decode_cursor(following)
    assert len(seen) == len(set(seen)) == 7
    assert sorted(seen) == [f"Q-{i}" for i in range(7)]


def test_query_filters_by_status_counterparty_and_modified_since(
    service: ContractService, clock: Clock
) -> None:
    service.upsert(CALL, data("F-1"))
    service.upsert(CALL, data("F-2", status="draft"))
    since = clock.tick(60)
    person = [("company", COMPANY), ("counterparty", PERSON)]
    service.upsert(CALL, data("F-3", parties=person))

    def ids(where: ContractFilter) -> list[str]:
        return [v.external_id for v in service.query(CALL, where, None, 100)[0]]

    assert ids(ContractFilter(status="draft")) == ["F-2"]
    assert ids(ContractFilter(counterparty_tax_id="12345678909")) == ["F-3"]
    assert ids(ContractFilter(counterparty_tax_id="11222333000181")) == []
    assert ids(ContractFilter(modified_since=since)) == ["F-3"]


def test_query_audit_masks_the_cpf_it_was_filtered_by(
    runtime: Runtime, service: ContractService
) -> None:
    service.query(CALL, ContractFilter(counterparty_tax_id="12345678909"), None, 10)
    stored = json.dumps(audit_details(runtime))
    assert "12345678909" not in stored and "***.456.789-**" in stored


def test_the_runtime_wires_the_contract_service(runtime: Runtime) -> None:
    view, outcome = runtime.contracts.upsert(CALL, data())
    assert outcome == "created" and runtime.contracts.get(CALL, contract_id=view.id)
