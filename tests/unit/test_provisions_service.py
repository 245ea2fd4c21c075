"""Provision use cases on a real database: an append-only history and its movements."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from adapter.app.context import CallContext
from adapter.app.provision_records import LawsuitRef, ProvisionData, ProvisionFilter
from adapter.app.provisions import ProvisionService
from adapter.domain.lawsuits import validate_lawsuit
from adapter.domain.provisions import Classification
from adapter.errors import ConflictError, NotFoundError, ValidationError
from adapter.inbound import types_provisions as tp
from adapter.inbound.mapping_provisions import (
    lawsuit_ref,
    provision_data,
    provision_filter,
)
from adapter.runtime import Runtime
from adapter.storage.models import AuditEntry, Provision
from adapter.storage.models_provisions import DeletedProvision, ProvisionMovement
from adapter.storage.paging import decode_cursor

CALL = CallContext(actor="erp", channel="soap", operation="test")
MAY, JUNE, JULY = dt.date(2026, 5, 31), dt.date(2026, 6, 30), dt.date(2026, 7, 31)


class Clock:
    """A clock the test moves; equal times exercise the paging tie-breaker."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, minutes: int = 1) -> dt.datetime:
        self.now += dt.timedelta(minutes=minutes)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(runtime: Runtime, clock: Clock) -> ProvisionService:
    return ProvisionService(runtime.db, runtime.audit, clock)


def add_lawsuit(runtime: Runtime, external_id: str = "L-1") -> str:
    lawsuit = validate_lawsuit(
        source_system="SAP",
        external_id=external_id,
        kind="judicial",
        cnj_number="0058967-77.2016.8.19.0000",
        area="labor",
        company_role="defendant",
        claim_value="25000.00",
        risk="probable",
        status="active",
        filing_date=dt.date(2016, 5, 10),
    )
    view, _ = runtime.lawsuits.upsert(CALL, lawsuit)
    return view.id


def item(
    lawsuit_id: str | None,
    external_id: str,
    date: dt.date,
    classification: str,
    amount: str,
    **extra: Any,
) -> tp.ProvisionInput:
    return tp.ProvisionInput(
        sourceSystem="SAP",
        externalId=external_id,
        lawsuitId=lawsuit_id,
        reportingDate=date,
        classification=classification,
        amount=Decimal(amount),
        **extra,
    )


def provision(
    lawsuit_id: str, external_id: str, date: dt.date, cls: str, amount: str
) -> ProvisionData:
    return provision_data(item(lawsuit_id, external_id, date, cls, amount))


def kinds(moves: Any) -> list[tuple[str, Decimal]]:
    return [(m.kind, m.amount) for m in moves]


def stored_movements(runtime: Runtime) -> list[ProvisionMovement]:
    with runtime.db.transaction() as session:
        query = select(ProvisionMovement).order_by(ProvisionMovement.id)
        return list(session.scalars(query))


def count(runtime: Runtime, model: type) -> int:
    with runtime.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# Mapping: how a call names the lawsuit


def test_lawsuit_is_named_by_id_or_by_erp_key() -> None:
    assert lawsuit_ref(" abc ", None, "").id == "abc"
    assert lawsuit_ref(None, "SAP", "L-1").key == ("SAP", "L-1")


def test_lawsuit_named_twice_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"lawsuitId: give lawsuitId.*not both"):
        lawsuit_ref("abc", "SAP", "L-1")


def test_lawsuit_not_named_is_refused() -> None:
    with pytest.raises(ValidationError, match="lawsuitId: give lawsuitId, or"):
        lawsuit_ref(None, None, None)


def test_lawsuit_key_needs_both_halves() -> None:
    with pytest.raises(ValidationError, match="lawsuitExternalId: is required"):
        lawsuit_ref(None, "SAP", None)


def test_bad_classification_is_refused_by_the_mapping() -> None:
    with pytest.raises(ValidationError, match="classification: must be one of"):
        provision_data(item("abc", "PV-1", MAY, "likely", "1.00"))


def test_filter_date_range_must_not_be_reversed() -> None:
    where = tp.ProvisionFilter(reportedFrom=JUNE, reportedTo=MAY)
    with pytest.raises(
        ValidationError, match=r"filter\.reportedTo: must not be before"
    ):
        provision_filter(where)


# Upsert: recording reporting dates


def test_first_probable_provision_is_constituted(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    view, outcome, moves = service.upsert(
        CALL, provision(lawsuit, "PV-1", MAY, "probable", "1000.00")
    )
    assert outcome == "created" and view.lawsuit_id == lawsuit
    assert kinds(moves) == [("constitution", Decimal("1000.00"))]
    assert (moves[0].debit, moves[0].credit) == ("provision_expense", "provision")


def test_same_provision_again_is_unchanged_and_moves_nothing(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    data = provision(lawsuit, "PV-1", MAY, "probable", "1000.00")
    first, _, _ = service.upsert(CALL, data)
    again, outcome, moves = service.upsert(CALL, data)
    assert (outcome, moves, again.id) == ("unchanged", (), first.id)
    assert len(stored_movements(runtime)) == 1


def test_lawsuit_may_be_named_by_its_erp_key(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime, "L-KEY")
    data = provision_data(
        item(
            None,
            "PV-1",
            MAY,
            "remote",
            "0",
            lawsuitSourceSystem="SAP",
            lawsuitExternalId="L-KEY",
        )
    )
    view, outcome, _ = service.upsert(CALL, data)
    assert (outcome, view.lawsuit_id) == ("created", lawsuit)


def test_unknown_lawsuit_is_not_found(service: ProvisionService) -> None:
    with pytest.raises(NotFoundError, match="lawsuitId: no lawsuit with id nope"):
        service.upsert(CALL, provision("nope", "PV-1", MAY, "remote", "0"))
    ref = ProvisionData(
        "SAP",
        "PV-2",
        LawsuitRef(key=("SAP", "L-404")),
        provision("x", "PV-2", MAY, "remote", "0").figure,
    )
    with pytest.raises(NotFoundError, match="lawsuitExternalId: no lawsuit with"):
        service.upsert(CALL, ref)


def test_deleted_lawsuit_takes_no_provision(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    runtime.lawsuits.delete(CALL, lawsuit_id=lawsuit)
    with pytest.raises(ConflictError, match="is deleted; no provision can be"):
        service.upsert(CALL, provision(lawsuit, "PV-1", MAY, "probable", "1.00"))


def test_provision_dated_before_the_latest_is_refused(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    service.upsert(CALL, provision(lawsuit, "PV-6", JUNE, "probable", "1.00"))
    with pytest.raises(ConflictError, match="2026-05-31 is before the latest"):
        service.upsert(CALL, provision(lawsuit, "PV-5", MAY, "probable", "1.00"))
    assert count(runtime, Provision) == 1


def test_second_key_for_the_latest_date_is_refused(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    service.upsert(CALL, provision(lawsuit, "PV-1", MAY, "probable", "1.00"))
    with pytest.raises(ConflictError, match="already has provision SAP/PV-1 for"):
        service.upsert(CALL, provision(lawsuit, "PV-X", MAY, "probable", "2.00"))


def test_revision_of_the_latest_date_moves_only_the_difference(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    service.upsert(CALL, provision(lawsuit, "PV-1", MAY, "probable", "1000.00"))
    view, outcome, moves = service.upsert(
        CALL, provision(lawsuit, "PV-1", MAY, "probable", "1250.00")
    )
    assert (outcome, view.amount) == ("updated", Decimal("1250.00"))
    assert kinds(moves) == [("increase", Decimal("250.00"))]
    assert moves[0].cause == "revision"
    _, history = service.history(CALL, LawsuitRef(id=lawsuit))
    assert [kinds(e.movements) for e in history] == [
        [("constitution", Decimal("1000.00")), ("increase", Decimal("250.00"))]
    ]


def test_revision_of_an_earlier_date_is_refused(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    service.upsert(CALL, provision(lawsuit, "PV-5", MAY, "probable", "1000.00"))
    service.upsert(CALL, provision(lawsuit, "PV-6", JUNE, "probable", "900.00"))
    with pytest.raises(ConflictError, match=r"is not the latest.*not rewritten"):
        service.upsert(CALL, provision(lawsuit, "PV-5", MAY, "probable", "1.00"))
    # Sending the stored figure again is still harmless.
    _, outcome, _ = service.upsert(
        CALL, provision(lawsuit, "PV-5", MAY, "probable", "1000.00")
    )
    assert outcome == "unchanged"


def test_reporting_date_of_a_provision_cannot_change(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    service.upsert(CALL, provision(lawsuit, "PV-1", MAY, "probable", "1.00"))
    with pytest.raises(ConflictError, match="its reportingDate cannot change"):
        service.upsert(CALL, provision(lawsuit, "PV-1", JUNE, "probable", "1.00"))


def test_provision_cannot_move_to_another_lawsuit(
    runtime: Runtime, service: ProvisionService
) -> None:
    first, second = add_lawsuit(runtime, "L-1"), add_lawsuit(runtime, "L-2")
    service.upsert(CALL, provision(first, "PV-1", MAY, "probable", "1.00"))
    with pytest.raises(ConflictError, match=f"belongs to lawsuit {first}"):
        service.upsert(CALL, provision(second, "PV-1", MAY, "probable", "1.00"))


# History and the stored movements


def test_history_lists_dates_in_order_with_their_movements(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    service.upsert(CALL, provision(lawsuit, "PV-5", MAY, "probable", "1000.00"))
    service.upsert(CALL, provision(lawsuit, "PV-6", JUNE, "possible", "700.00"))
    service.upsert(CALL, provision(lawsuit, "PV-7", JULY, "remote", "700.00"))
    found, history = service.history(CALL, LawsuitRef(key=("SAP", "L-1")))
    assert found == lawsuit
    assert [
        (e.provision.reporting_date, e.provision.classification) for e in history
    ] == [
        (MAY, "probable"),
        (JUNE, "possible"),
        (JULY, "remote"),
    ]
    assert [kinds(e.movements) for e in history] == [
        [("constitution", Decimal("1000.00"))],
        [("reversal", Decimal("1000.00")), ("disclosure", Decimal("700.00"))],
        [],
    ]
    reversal = history[1].movements[0]
    assert (reversal.debit, reversal.credit) == ("provision", "provision_reversal")
    assert history[1].movements[1].debit is None


def test_history_of_an_unknown_lawsuit_is_not_found(service: ProvisionService) -> None:
    with pytest.raises(NotFoundError, match="no lawsuit with id nope"):
        service.history(CALL, LawsuitRef(id="nope"))


def test_movements_are_stored_unsent_with_the_call_that_caused_them(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    call = CallContext(actor="erp", channel="soap", operation="UpsertProvision")
    view, _, _ = service.upsert(
        call, provision(lawsuit, "PV-1", MAY, "probable", "10.00")
    )
    (stored,) = stored_movements(runtime)
    assert (stored.provision_id, stored.lawsuit_id) == (view.id, lawsuit)
    assert (stored.kind, stored.amount, stored.currency) == (
        "constitution",
        Decimal("10.00"),
        "BRL",
    )
    assert stored.correlation_id == call.correlation_id
    assert stored.sent_at is None


def test_every_change_is_audited_with_its_movements(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    view, _, _ = service.upsert(
        CALL, provision(lawsuit, "PV-1", MAY, "probable", "10.00")
    )
    with runtime.db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.record_type == "provision")
        ).one()
    assert entry.record_id == view.id
    detail = json.loads(entry.detail or "{}")
    assert detail["result"] == "created"
    assert detail["movements"] == ["constitution 10.00"]


# Delete


def test_delete_of_an_earlier_provision_is_refused(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    may, _, _ = service.upsert(
        CALL, provision(lawsuit, "PV-5", MAY, "probable", "1.00")
    )
    service.upsert(CALL, provision(lawsuit, "PV-6", JUNE, "probable", "2.00"))
    with pytest.raises(ConflictError, match="is not the latest of lawsuit"):
        service.delete(CALL, provision_id=may.id)
    assert count(runtime, DeletedProvision) == 0


def test_delete_of_the_latest_undoes_its_movements_and_stays_readable(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    service.upsert(CALL, provision(lawsuit, "PV-5", MAY, "possible", "800.00"))
    june, _, _ = service.upsert(
        CALL, provision(lawsuit, "PV-6", JUNE, "probable", "1000.00")
    )
    gone, outcome, moves = service.delete(CALL, key=("SAP", "PV-6"))
    assert outcome == "deleted" and gone.deleted_at is not None
    assert kinds(moves) == [
        ("reversal", Decimal("1000.00")),
        ("disclosure", Decimal("800.00")),
    ]
    assert {m.cause for m in moves} == {"withdrawal"}
    assert service.get(CALL, provision_id=june.id).deleted_at is not None
    again, outcome, moves = service.delete(CALL, provision_id=june.id)
    assert (outcome, moves, again.id) == ("unchanged", (), june.id)


def test_unknown_provision_is_not_found(service: ProvisionService) -> None:
    with pytest.raises(NotFoundError, match="id: no provision with id nope"):
        service.delete(CALL, provision_id="nope")
    with pytest.raises(NotFoundError, match="externalId PV-404"):
        service.get(CALL, key=("SAP", "PV-404"))


def test_deleted_provision_leaves_the_history_unless_asked(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    service.upsert(CALL, provision(lawsuit, "PV-5", MAY, "probable", "100.00"))
    service.upsert(CALL, provision(lawsuit, "PV-6", JUNE, "probable", "150.00"))
    service.delete(CALL, key=("SAP", "PV-6"))
    _, live = service.history(CALL, LawsuitRef(id=lawsuit))
    assert [e.provision.external_id for e in live] == ["PV-5"]
    _, everything = service.history(CALL, LawsuitRef(id=lawsuit), include_deleted=True)
    assert [e.provision.external_id for e in everything] == ["PV-5", "PV-6"]
    assert kinds(everything[1].movements) == [
        ("increase", Decimal("50.00")),
        ("reversal", Decimal("50.00")),
    ]


def test_after_a_delete_the_date_may_be_reported_again(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    service.upsert(CALL, provision(lawsuit, "PV-5", MAY, "probable", "100.00"))
    june, _, _ = service.upsert(
        CALL, provision(lawsuit, "PV-6", JUNE, "probable", "150.00")
    )
    service.delete(CALL, provision_id=june.id)
    back, outcome, moves = service.upsert(
        CALL, provision(lawsuit, "PV-6", JUNE, "probable", "120.00")
    )
    assert (outcome, back.id, back.deleted_at) == ("updated", june.id, None)
    assert kinds(moves) == [("increase", Decimal("20.00"))]
    assert count(runtime, DeletedProvision) == 0


# Consistency with DeleteLawsuit's open-provision rule


def test_lawsuit_whose_open_latest_provision_was_deleted_may_be_deleted(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    service.upsert(CALL, provision(lawsuit, "PV-5", MAY, "remote", "0"))
    service.upsert(CALL, provision(lawsuit, "PV-6", JUNE, "probable", "1000.00"))
    with pytest.raises(ConflictError, match=r"has an open provision of 1000\.00"):
        runtime.lawsuits.delete(CALL, lawsuit_id=lawsuit)
    service.delete(CALL, key=("SAP", "PV-6"))
    assert runtime.lawsuits.delete(CALL, lawsuit_id=lawsuit).deleted_at is not None


def test_deleting_a_reversal_reopens_the_provision_for_delete_lawsuit(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    service.upsert(CALL, provision(lawsuit, "PV-5", MAY, "probable", "1000.00"))
    service.upsert(CALL, provision(lawsuit, "PV-6", JUNE, "remote", "0"))
    service.delete(CALL, key=("SAP", "PV-6"))
    with pytest.raises(ConflictError, match=r"has an open provision of 1000\.00"):
        runtime.lawsuits.delete(CALL, lawsuit_id=lawsuit)


# Bulk


def test_bulk_reports_each_item_and_keeps_the_good_ones(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    items = [
        item(lawsuit, "B-1", MAY, "probable", "100.00"),
        item(lawsuit, "B-2", JUNE, "likely", "100.00"),  # bad classification
        item("nope", "B-3", JUNE, "probable", "100.00"),  # unknown lawsuit
        item(lawsuit, "B-4", JUNE, "probable", "120.00"),
        item(lawsuit, "B-1", MAY, "probable", "100.00"),  # repeats item 0
        item(lawsuit, "B-5", JUNE, "remote", "0"),  # second key for June
    ]
    results = service.upsert_many(CALL, items, provision_data)
    assert [r.outcome for r in results] == [
        "created",
        "refused",
        "refused",
        "created",
        "refused",
        "refused",
    ]
    assert [r.fault_code for r in results if r.outcome == "refused"] == [
        "Client.Validation",
        "Client.NotFound",
        "Client.Validation",
        "Client.Conflict",
    ]
    assert "repeats item 0" in (results[4].message or "")
    assert count(runtime, Provision) == 2
    assert [m.kind for m in stored_movements(runtime)] == ["constitution", "increase"]


def test_bulk_applies_a_lawsuit_history_in_reporting_date_order(
    runtime: Runtime, service: ProvisionService
) -> None:
    lawsuit = add_lawsuit(runtime)
    items = [
        item(lawsuit, "PV-7", JULY, "remote", "0"),
        item(lawsuit, "PV-5", MAY, "probable", "100.00"),
        item(lawsuit, "PV-6", JUNE, "probable", "150.00"),
    ]
    results = service.upsert_many(CALL, items, provision_data)
    assert [(r.external_id, r.outcome) for r in results] == [
        ("PV-7", "created"),
        ("PV-5", "created"),
        ("PV-6", "created"),
    ]
    _, history = service.history(CALL, LawsuitRef(id=lawsuit))
    assert [kinds(e.movements) for e in history] == [
        [("constitution", Decimal("100.00"))],
        [("increase", Decimal("50.00"))],
        [("reversal", Decimal("150.00"))],
    ]


def test_bulk_over_the_limit_is_refused(service: ProvisionService) -> None:
    too_many = [item("x", f"B-{i}", MAY, "remote", "0") for i in range(10_001)]
    with pytest.raises(ValidationError, match="provisions: holds 10001 items"):
        service.upsert_many(CALL, too_many, provision_data)


# Query


def test_query_pages_in_a_stable_order_until_the_end(
    runtime: Runtime, service: ProvisionService, clock: Clock
) -> None:
    lawsuits = [add_lawsuit(runtime, f"L-{i}") for i in range(5)]
    for number, lawsuit in enumerate(lawsuits):
        # Equal timestamps for pairs: the id breaks the tie.
        service.upsert(CALL, provision(lawsuit, f"Q-{number}", MAY, "remote", "0"))
        if number % 2:
            clock.advance()
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page, following = service.query(CALL, ProvisionFilter(), cursor, 2)
        seen += [v.external_id for v in page]
        if following is None:
            break
        cursor = decode_cursor(following)
    assert sorted(seen) == [f"Q-{i}" for i in range(5)] and len(seen) == 5


def test_query_filters_by_lawsuit_classification_dates_and_modification(
    runtime: Runtime, service: ProvisionService, clock: Clock
) -> None:
    first, second = add_lawsuit(runtime, "L-1"), add_lawsuit(runtime, "L-2")
    service.upsert(CALL, provision(first, "A-5", MAY, "probable", "1.00"))
    since = clock.advance()
    service.upsert(CALL, provision(first, "A-6", JUNE, "possible", "1.00"))
    service.upsert(CALL, provision(second, "B-6", JUNE, "probable", "1.00"))

    def ids(**where: Any) -> list[str]:
        views, _ = service.query(CALL, ProvisionFilter(**where), None, 100)
        return sorted(v.external_id for v in views)

    assert ids(lawsuit_id=first) == ["A-5", "A-6"]
    assert ids(classification=Classification.PROBABLE) == ["A-5", "B-6"]
    assert ids(reported_from=JUNE) == ["A-6", "B-6"]
    assert ids(reported_to=MAY) == ["A-5"]
    assert ids(modified_since=since) == ["A-6", "B-6"]


def test_deleted_provision_is_queried_only_when_asked(
    runtime: Runtime, service: ProvisionService, clock: Clock
) -> None:
    lawsuit = add_lawsuit(runtime)
    service.upsert(CALL, provision(lawsuit, "PV-5", MAY, "remote", "0"))
    since = clock.advance()
    service.delete(CALL, key=("SAP", "PV-5"))
    live, _ = service.query(CALL, ProvisionFilter(), None, 10)
    assert live == []
    changed, _ = service.query(
        CALL, ProvisionFilter(modified_since=since, include_deleted=True), None, 10
    )
    assert [(v.external_id, v.deleted_at) for v in changed] == [("PV-5", since)]
