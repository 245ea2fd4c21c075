"""The full lifecycle of a payment order, as in the legal-domain notes §2.4.

Main path: draft → pending_approval → approved → sent_to_erp → erp_registered
→ paid. Side exits, from the table ``LIFECYCLE_TRANSITIONS``:

- cancelled, from draft, pending_approval, approved or erp_registered;
- rejected, by an approver (pending_approval) or by the ERP (approved,
  sent_to_erp);
- approved may go straight to erp_registered, as in ``payments.TRANSITIONS``;
- reversed (estorno), from paid only.

rejected, cancelled and reversed are final: a corrected order is a new order.

Facts each status needs: ``erp_registered`` the ERP's document number, ``paid``
the payment date, ``rejected`` and ``cancelled`` a reason.

How today's ``adapter.domain.payments.PaymentStatus`` lines up
(``FROM_PAYMENT_STATUS``); every transition allowed there is allowed here:

==============  ==================  ==========================================
payments.py     lifecycle           why
==============  ==================  ==========================================
created         pending_approval    an ERP-submitted order awaits approval;
                                    ``draft`` has no counterpart yet (orders
                                    arrive complete through SOAP)
approved        approved            same meaning: the event is in the outbox
sent            sent_to_erp         a delivery attempt has started
registered      erp_registered      the ERP returned its document key
erp_rejected    rejected            the ERP refused it (reason = its fault)
==============  ==================  ==========================================

``paid``, ``cancelled`` and ``reversed`` come from ERP callbacks that do not
exist yet.
"""

from __future__ import annotations

import datetime as dt
import enum

from adapter.domain.payments import PaymentStatus
from adapter.errors import ConflictError, ValidationError


class LifecycleStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SENT_TO_ERP = "sent_to_erp"
    ERP_REGISTERED = "erp_registered"  # with the ERP document number
    PAID = "paid"  # with the payment date
    REJECTED = "rejected"  # by an approver or by the ERP, with a reason
    CANCELLED = "cancelled"  # with a reason
    REVERSED = "reversed"  # estorno of a paid order


_S = LifecycleStatus

LIFECYCLE_TRANSITIONS: dict[LifecycleStatus, frozenset[LifecycleStatus]] = {
    _S.DRAFT: frozenset({_S.PENDING_APPROVAL, _S.CANCELLED}),
    _S.PENDING_APPROVAL: frozenset({_S.APPROVED, _S.REJECTED, _S.CANCELLED}),
    _S.APPROVED: frozenset(
        {_S.SENT_TO_ERP, _S.ERP_REGISTERED, _S.REJECTED, _S.CANCELLED}
    ),
    # Once sent, only the ERP's answer moves the order: cancelling would race it.
    _S.SENT_TO_ERP: frozenset({_S.ERP_REGISTERED, _S.REJECTED}),
    _S.ERP_REGISTERED: frozenset({_S.PAID, _S.CANCELLED}),
    _S.PAID: frozenset({_S.REVERSED}),
    # Only an ERP's refusal leaves it (see payment_order_rules): an operator
    # who fixed the cause resends it, or the order is given up.
    _S.REJECTED: frozenset({_S.SENT_TO_ERP, _S.ERP_REGISTERED, _S.CANCELLED}),
    _S.CANCELLED: frozenset(),
    _S.REVERSED: frozenset(),
}

FROM_PAYMENT_STATUS: dict[PaymentStatus, LifecycleStatus] = {
    PaymentStatus.CREATED: _S.PENDING_APPROVAL,
    PaymentStatus.APPROVED: _S.APPROVED,
    PaymentStatus.SENT: _S.SENT_TO_ERP,
    PaymentStatus.REGISTERED: _S.ERP_REGISTERED,
    PaymentStatus.ERP_REJECTED: _S.REJECTED,
}


def _require(value: object, field: str, status: LifecycleStatus) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(field, f"is required to become {status.value}")


def check_lifecycle(
    current: LifecycleStatus,
    new: LifecycleStatus,
    *,
    document_number: str | None = None,
    payment_date: dt.date | None = None,
    reason: str | None = None,
) -> None:
    """Raise unless a payment order in ``current`` may become ``new``.

    Raises ``ConflictError`` when the transition is not in the table, and
    ``ValidationError`` (``documentNumber``, ``paymentDate`` or ``reason``) when
    the fact the new status needs is missing.
    """
    if new not in LIFECYCLE_TRANSITIONS[current]:
        raise ConflictError(
            f"a payment order in status {current.value} cannot become {new.value}"
        )
    if new is _S.ERP_REGISTERED:
        _require(document_number, "documentNumber", new)
    elif new is _S.PAID:
        _require(payment_date, "paymentDate", new)
    elif new in (_S.REJECTED, _S.CANCELLED):
        _require(reason, "reason", new)
