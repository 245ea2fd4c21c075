"""Payment-order rules beyond the fields: stored status, net amount, payment method.

Stored status
-------------
The ``status`` column keeps today's values (existing rows, the delivery worker
and their tests use them) and adds five. Each stored status stands for one
status of ``payment_lifecycle``:

================  ================  ==========================================
stored            lifecycle         meaning
================  ================  ==========================================
created           pending_approval  arrived complete from an ERP; it may be
                                    approved at once (``FROM_PAYMENT_STATUS``)
pending_approval  pending_approval  submitted for approval (SubmitPaymentOrder)
approved          approved          the event is in the outbox
sent              sent_to_erp       a delivery attempt has started
registered        erp_registered    the ERP has it, with its document number
paid              paid              with the payment date
rejected          rejected          by an approver, with a reason
erp_rejected      rejected          by the ERP: its delivery was parked
cancelled         cancelled         with a reason
reversed          reversed          estorno of a paid order
================  ================  ==========================================

``ORDER_TRANSITIONS`` is the lifecycle table in stored names. Where two stored
statuses share a lifecycle status they split its exits by who acts: an
approver rejects an order that awaits approval, the ERP one that was sent to
it. ``created → pending_approval`` is the one step that stays inside a
lifecycle status. ``draft`` has no stored counterpart: orders arrive complete.

Net amount
----------
``amount`` stays required and is what is paid (and what the approval event
carries). When ``grossAmount`` is given, ``amount`` must equal ``grossAmount``
minus the withholdings; withholdings without ``grossAmount`` are refused.

Payment method
--------------
``boleto`` (``barcode`` and/or ``digitableLine``, whose value and due date
must be the order's), ``pix`` (``pixKeyType`` + ``pixKey``), ``transfer``
(``bankAccount``, held by the beneficiary) or ``judicial_deposit``
(``depositGuide`` of the order's lawsuit). Fields of another method are refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from adapter.domain.lawsuits import parse_choice
from adapter.domain.payment_lifecycle import LifecycleStatus, check_lifecycle
from adapter.domain.payment_methods import (
    BankAccount,
    DepositGuide,
    PixKey,
    barcode_to_digitable_line,
    check_boleto_matches,
    check_holder_matches,
    digitable_line_to_barcode,
    validate_barcode,
    validate_pix_key,
)
from adapter.domain.payments import PaymentOrderInput, validate_amount
from adapter.domain.withholdings import Withholding, compute_net
from adapter.errors import ConflictError, ValidationError

MAX_WITHHOLDINGS = 20

# Stored status


class OrderStatus(enum.StrEnum):
    """Every value of the ``status`` column of a payment order."""

    CREATED = "created"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SENT = "sent"
    REGISTERED = "registered"
    PAID = "paid"
    REJECTED = "rejected"
    ERP_REJECTED = "erp_rejected"
    CANCELLED = "cancelled"
    REVERSED = "reversed"


_O = OrderStatus
_L = LifecycleStatus

LIFECYCLE_OF: dict[OrderStatus, LifecycleStatus] = {
    _O.CREATED: _L.PENDING_APPROVAL,
    _O.PENDING_APPROVAL: _L.PENDING_APPROVAL,
    _O.APPROVED: _L.APPROVED,
    _O.SENT: _L.SENT_TO_ERP,
    _O.REGISTERED: _L.ERP_REGISTERED,
    _O.PAID: _L.PAID,
    _O.REJECTED: _L.REJECTED,
    _O.ERP_REJECTED: _L.REJECTED,
    _O.CANCELLED: _L.CANCELLED,
    _O.REVERSED: _L.REVERSED,
}

ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    _O.CREATED: frozenset(
        {_O.PENDING_APPROVAL, _O.APPROVED, _O.REJECTED, _O.CANCELLED}
    ),
    _O.PENDING_APPROVAL: frozenset({_O.APPROVED, _O.REJECTED, _O.CANCELLED}),
    _O.APPROVED: frozenset({_O.SENT, _O.REGISTERED, _O.ERP_REJECTED, _O.CANCELLED}),
    # Once sent, only the ERP's answer moves the order: cancelling would race it.
    _O.SENT: frozenset({_O.REGISTERED, _O.ERP_REJECTED}),
    _O.REGISTERED: frozenset({_O.PAID, _O.CANCELLED}),
    _O.PAID: frozenset({_O.REVERSED}),
    _O.REJECTED: frozenset(),
    # An operator may resend what the ERP refused (ponte deliveries release,
    # approved by a second operator), or the order is cancelled.
    _O.ERP_REJECTED: frozenset({_O.SENT, _O.REGISTERED, _O.CANCELLED}),
    _O.CANCELLED: frozenset(),
    _O.REVERSED: frozenset(),
}


def may_become(current: OrderStatus, new: OrderStatus) -> bool:
    """True when the table lets an order in ``current`` become ``new``."""
    return new in ORDER_TRANSITIONS[current]


def check_order_transition(
    current: OrderStatus,
    new: OrderStatus,
    *,
    document_number: str | None = None,
    payment_date: dt.date | None = None,
    reason: str | None = None,
) -> None:
    """Raise unless an order in ``current`` may become ``new`` with these facts.

    ``ConflictError`` when the move is not in ``ORDER_TRANSITIONS``;
    ``ValidationError`` naming ``documentNumber``, ``paymentDate`` or
    ``reason`` when the fact the lifecycle asks for is missing.
    """
    if not may_become(current, new):
        raise ConflictError(
            f"a payment order in status {current.value} cannot become {new.value}"
        )
    before, after = LIFECYCLE_OF[current], LIFECYCLE_OF[new]
    if before is not after:
        check_lifecycle(
            before,
            after,
            document_number=document_number,
            payment_date=payment_date,
            reason=reason,
        )


# Soft delete

# Never sent to the ERP and never committed: deleting loses nothing.
DELETABLE = frozenset({_O.CREATED, _O.PENDING_APPROVAL, _O.REJECTED, _O.CANCELLED})
# Statuses an order only reaches once its delivery to the ERP has started.
REACHED_ERP = frozenset({_O.SENT, _O.REGISTERED, _O.PAID, _O.ERP_REJECTED})

_NOT_DELETED = {
    _O.APPROVED: "an approved payment order is cancelled, not deleted",
    _O.SENT: "a sent payment order awaits the ERP and cannot be deleted",
    _O.REGISTERED: "a registered payment order is cancelled, not deleted",
    _O.PAID: "a paid payment order is reversed, not deleted",
    _O.ERP_REJECTED: "an erp_rejected payment order reached the ERP; "
    "it cannot be deleted",
    _O.REVERSED: "a reversed payment order reached the ERP; it cannot be deleted",
}


def check_deletable(status: OrderStatus, *, reached_erp: bool = False) -> None:
    """Raise ``ConflictError`` naming ``status`` unless the order may be deleted.

    Only orders in ``DELETABLE`` that never reached the ERP (a cancelled order
    may have been registered there first) may be deleted.
    """
    if status not in DELETABLE:
        raise ConflictError(_NOT_DELETED[status])
    if reached_erp:
        raise ConflictError(
            f"a {status.value} payment order that reached the ERP cannot be deleted"
        )


# Field paths


@contextmanager
def within(prefix: str) -> Iterator[None]:
    """Name the fields of a nested element ``prefix.field`` in the faults raised."""
    try:
        yield
    except ValidationError as exc:
        raise ValidationError(f"{prefix}.{exc.field}", exc.rule) from exc


# Net amount


def check_net(
    amount: Decimal, gross_amount: Decimal | None, withholdings: Sequence[Withholding]
) -> None:
    """Raise ``ValidationError`` unless ``amount`` is gross minus withholdings."""
    if len(withholdings) > MAX_WITHHOLDINGS:
        raise ValidationError("withholdings", f"holds more than {MAX_WITHHOLDINGS}")
    if gross_amount is None:
        if withholdings:
            raise ValidationError(
                "grossAmount", "is required when withholdings are given"
            )
        return
    net = compute_net(gross_amount, withholdings)
    if amount != net:
        raise ValidationError(
            "amount",
            f"must be the net amount {net} (grossAmount {gross_amount} minus "
            f"withholdings {gross_amount - net}), not {amount}",
        )


# Payment method


class PaymentMethod(enum.StrEnum):
    BOLETO = "boleto"
    PIX = "pix"
    TRANSFER = "transfer"  # TED, or PIX by account data
    JUDICIAL_DEPOSIT = "judicial_deposit"  # guia de depósito judicial


@dataclass(frozen=True)
class PaymentInstruction:
    """How an order is paid: the method and the data that method needs."""

    method: PaymentMethod
    barcode: str | None = None  # boleto: 44 digits
    digitable_line: str | None = None  # boleto: 47 digits, the same boleto
    pix: PixKey | None = None
    bank_account: BankAccount | None = None
    deposit_guide: DepositGuide | None = None


@dataclass(frozen=True)
class MethodFields:
    """What the caller sent for the payment method; nested parts already checked."""

    method: str | None = None
    barcode: str | None = None
    digitable_line: str | None = None
    pix_key_type: str | None = None
    pix_key: str | None = None
    bank_account: BankAccount | None = None
    deposit_guide: DepositGuide | None = None


# Which method each field belongs to, and its published name.
_OWNERS: tuple[tuple[str, str, PaymentMethod], ...] = (
    ("barcode", "barcode", PaymentMethod.BOLETO),
    ("digitable_line", "digitableLine", PaymentMethod.BOLETO),
    ("pix_key_type", "pixKeyType", PaymentMethod.PIX),
    ("pix_key", "pixKey", PaymentMethod.PIX),
    ("bank_account", "bankAccount", PaymentMethod.TRANSFER),
    ("deposit_guide", "depositGuide", PaymentMethod.JUDICIAL_DEPOSIT),
)


def _given(fields: MethodFields, name: str) -> bool:
    value = getattr(fields, name)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _check_owners(fields: MethodFields, method: PaymentMethod | None) -> None:
    for name, published, owner in _OWNERS:
        if not _given(fields, name):
            continue
        if method is None:
            raise ValidationError(
                "paymentMethod", f"is required when {published} is given"
            )
        if owner is not method:
            raise ValidationError(published, f"is only for paymentMethod {owner}")


def _boleto(fields: MethodFields, order: PaymentOrderInput) -> PaymentInstruction:
    has_barcode = _given(fields, "barcode")
    if not has_barcode and not _given(fields, "digitable_line"):
        raise ValidationError(
            "barcode", "or digitableLine is required when paymentMethod is boleto"
        )
    if has_barcode:
        field = "barcode"
        barcode = validate_barcode(fields.barcode, field)
    else:
        field = "digitableLine"
        barcode = digitable_line_to_barcode(fields.digitable_line or "", field)
    if has_barcode and _given(fields, "digitable_line"):
        line_barcode = digitable_line_to_barcode(fields.digitable_line or "")
        if line_barcode != barcode:
            raise ValidationError("digitableLine", "is not the boleto of barcode")
    check_boleto_matches(barcode, order.amount, order.due_date, field)
    return PaymentInstruction(
        PaymentMethod.BOLETO,
        barcode=barcode,
        digitable_line=barcode_to_digitable_line(barcode),
    )


def _transfer(fields: MethodFields, order: PaymentOrderInput) -> PaymentInstruction:
    account = fields.bank_account
    if account is None:
        raise ValidationError(
            "bankAccount", "is required when paymentMethod is transfer"
        )
    # TODO: lawyers with powers to receive (CPC art. 105) once parties record
    # powers of attorney; until then only the beneficiary may hold the account.
    with within("bankAccount"):
        check_holder_matches(account.holder_tax_id, order.beneficiary_tax_id)
    return PaymentInstruction(PaymentMethod.TRANSFER, bank_account=account)


def _deposit(fields: MethodFields, order: PaymentOrderInput) -> PaymentInstruction:
    guide = fields.deposit_guide
    if guide is None:
        raise ValidationError(
            "depositGuide", "is required when paymentMethod is judicial_deposit"
        )
    if guide.cnj_number != order.lawsuit_number:
        raise ValidationError(
            "depositGuide.cnjNumber", "must be the lawsuitNumber of the order"
        )
    return PaymentInstruction(PaymentMethod.JUDICIAL_DEPOSIT, deposit_guide=guide)


def validate_instruction(
    fields: MethodFields, order: PaymentOrderInput
) -> PaymentInstruction | None:
    """The payment method of ``order``, checked against it; None when not given.

    Raises ``ValidationError`` naming the field: a field of another method, a
    missing one, bad check digits, a boleto whose value or due date is not the
    order's, a transfer account not held by the beneficiary, a deposit guide
    of another lawsuit.
    """
    method = None
    if _given(fields, "method"):
        method = parse_choice(PaymentMethod, fields.method, "paymentMethod")
    _check_owners(fields, method)
    if method is None:
        return None
    if method is PaymentMethod.BOLETO:
        return _boleto(fields, order)
    if method is PaymentMethod.PIX:
        pix = validate_pix_key(fields.pix_key_type, fields.pix_key)
        return PaymentInstruction(PaymentMethod.PIX, pix=pix)
    if method is PaymentMethod.TRANSFER:
        return _transfer(fields, order)
    return _deposit(fields, order)


# The whole order


def complete_payment_order(
    order: PaymentOrderInput,
    *,
    gross_amount: Decimal | str | None = None,
    withholdings: Sequence[Withholding] = (),
    method: MethodFields | None = None,
) -> PaymentOrderInput:
    """``order`` with its gross amount, withholdings and payment method, checked.

    Without any of them the order is returned as it came.
    """
    gross = None
    if gross_amount is not None and gross_amount != "":
        if isinstance(gross_amount, float):
            raise ValidationError("grossAmount", "must be a decimal, never a float")
        gross = validate_amount(gross_amount, "grossAmount")
    check_net(order.amount, gross, withholdings)
    instruction = validate_instruction(method or MethodFields(), order)
    return dataclasses.replace(
        order,
        gross_amount=gross,
        withholdings=tuple(withholdings),
        instruction=instruction,
    )


# Facts of the ERP callbacks

BRASILIA = dt.timezone(dt.timedelta(hours=-3), "BRT")  # no daylight saving since 2019


def check_payment_date(payment_date: dt.date | None, now: dt.datetime) -> None:
    """Refuse a payment date after today in Brasília; absence is the lifecycle's."""
    if payment_date is not None and payment_date > now.astimezone(BRASILIA).date():
        raise ValidationError("paymentDate", "must not be after today")
