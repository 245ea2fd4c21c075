"""The stored statuses of a payment order against the lifecycle table."""

from __future__ import annotations

import datetime as dt

import pytest

from adapter.domain.payment_lifecycle import (
    FROM_PAYMENT_STATUS,
    LIFECYCLE_TRANSITIONS,
    LifecycleStatus,
)
from adapter.domain.payment_order_rules import (
    LIFECYCLE_OF,
    ORDER_TRANSITIONS,
    OrderStatus,
    check_order_transition,
    check_payment_date,
)
from adapter.domain.payments import TRANSITIONS, PaymentStatus
from adapter.errors import ConflictError, ValidationError

S = OrderStatus
FACTS = {
    "document_number": "5100000123",
    "payment_date": dt.date(2026, 3, 30),
    "reason": "valor em duplicidade",
}


def test_stored_values_of_the_first_version_are_kept() -> None:
    assert {s.value for s in PaymentStatus} <= {s.value for s in OrderStatus}


def test_first_version_statuses_map_as_the_lifecycle_says() -> None:
    for status, lifecycle in FROM_PAYMENT_STATUS.items():
        assert LIFECYCLE_OF[OrderStatus(status.value)] is lifecycle


def test_every_first_version_move_is_still_allowed() -> None:
    for current, following in TRANSITIONS.items():
        for new in following:
            assert OrderStatus(new.value) in ORDER_TRANSITIONS[OrderStatus(current)]


@pytest.mark.parametrize(
    ("current", "new"),
    [(a, b) for a, following in ORDER_TRANSITIONS.items() for b in sorted(following)],
)
def test_every_stored_move_is_a_lifecycle_move_or_the_submit_step(
    current: OrderStatus, new: OrderStatus
) -> None:
    before, after = LIFECYCLE_OF[current], LIFECYCLE_OF[new]
    if before is after:
        assert (current, new) == (S.CREATED, S.PENDING_APPROVAL)
    else:
        assert after in LIFECYCLE_TRANSITIONS[before]


def test_every_lifecycle_move_past_draft_has_a_stored_move() -> None:
    stored = {
        (LIFECYCLE_OF[a], LIFECYCLE_OF[b])
        for a, following in ORDER_TRANSITIONS.items()
        for b in following
    }
    for before, following in LIFECYCLE_TRANSITIONS.items():
        for after in following:
            if LifecycleStatus.DRAFT not in (before, after):
                assert (before, after) in stored


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.CREATED, S.PENDING_APPROVAL),
        (S.CREATED, S.APPROVED),
        (S.PENDING_APPROVAL, S.APPROVED),
        (S.CREATED, S.REJECTED),
        (S.PENDING_APPROVAL, S.CANCELLED),
        (S.APPROVED, S.CANCELLED),
        (S.APPROVED, S.SENT),
        (S.SENT, S.REGISTERED),
        (S.SENT, S.ERP_REJECTED),
        (S.REGISTERED, S.PAID),
        (S.REGISTERED, S.CANCELLED),
        (S.PAID, S.REVERSED),
    ],
)
def test_allowed_moves_pass_with_their_facts(
    current: OrderStatus, new: OrderStatus
) -> None:
    check_order_transition(current, new, **FACTS)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.PENDING_APPROVAL, S.CREATED),
        (S.PENDING_APPROVAL, S.PENDING_APPROVAL),
        (S.APPROVED, S.REJECTED),  # an approver's refusal comes before approval
        (S.PENDING_APPROVAL, S.ERP_REJECTED),  # the ERP has not seen it
        (S.SENT, S.CANCELLED),
        (S.CREATED, S.PAID),
        (S.APPROVED, S.PAID),
        (S.PAID, S.CANCELLED),
        (S.ERP_REJECTED, S.APPROVED),
        (S.REJECTED, S.PENDING_APPROVAL),
        (S.CANCELLED, S.APPROVED),
        (S.REVERSED, S.PAID),
    ],
)
def test_moves_outside_the_table_conflict(
    current: OrderStatus, new: OrderStatus
) -> None:
    with pytest.raises(
        ConflictError, match=f"a payment order in status {current} cannot become {new}"
    ):
        check_order_transition(current, new, **FACTS)


@pytest.mark.parametrize(
    ("current", "new", "field"),
    [
        (S.APPROVED, S.REGISTERED, "documentNumber"),
        (S.REGISTERED, S.PAID, "paymentDate"),
        (S.CREATED, S.REJECTED, "reason"),
        (S.SENT, S.ERP_REJECTED, "reason"),
        (S.REGISTERED, S.CANCELLED, "reason"),
    ],
)
def test_move_without_its_fact_is_refused(
    current: OrderStatus, new: OrderStatus, field: str
) -> None:
    with pytest.raises(ValidationError, match=f"{field}: is required to become"):
        check_order_transition(current, new)


def test_payment_date_is_today_at_the_latest_in_brasilia() -> None:
    # 01:00 UTC on 1 April is still 31 March in Brasília.
    now = dt.datetime(2026, 4, 1, 1, 0, tzinfo=dt.UTC)
    check_payment_date(dt.date(2026, 3, 31), now)
    with pytest.raises(ValidationError, match="paymentDate: must not be after today"):
        check_payment_date(dt.date(2026, 4, 1), now)
