"""Between a payment order's domain parts and its child rows."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from adapter.domain.payment_methods import (
    AccountType,
    BankAccount,
    DepositBank,
    DepositGuide,
    PixKey,
    PixKeyType,
)
from adapter.domain.payment_order_rules import PaymentInstruction, PaymentMethod
from adapter.domain.withholdings import Withholding, WithholdingKind
from adapter.storage.models_payment_orders import (
    PaymentOrderDetail,
    PaymentOrderWithholding,
)


def _account_columns(account: BankAccount) -> dict[str, Any]:
    return {
        "bank_code": account.bank_code,
        "agency": account.agency,
        "agency_digit": account.agency_digit,
        "account": account.account,
        "account_digit": account.account_digit,
        "account_type": account.account_type.value,
        "holder_tax_id": account.holder_tax_id,
    }


def _guide_columns(guide: DepositGuide) -> dict[str, Any]:
    return {
        "deposit_bank": guide.bank.value,
        "guide_number": guide.guide_number,
        "judicial_account": guide.judicial_account,
        "deposit_cnj_number": guide.cnj_number,
        "court_unit": guide.court_unit,
    }


def _method_columns(instruction: PaymentInstruction) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "method": instruction.method.value,
        "barcode": instruction.barcode,
        "digitable_line": instruction.digitable_line,
    }
    if instruction.pix is not None:
        columns["pix_key_type"] = instruction.pix.type.value
        columns["pix_key"] = instruction.pix.key
    if instruction.bank_account is not None:
        columns.update(_account_columns(instruction.bank_account))
    if instruction.deposit_guide is not None:
        columns.update(_guide_columns(instruction.deposit_guide))
    return columns


def detail_row(
    order_id: str, gross_amount: Decimal | None, instruction: PaymentInstruction | None
) -> PaymentOrderDetail | None:
    """The detail row of a new order; None when it has neither part."""
    if gross_amount is None and instruction is None:
        return None
    columns = _method_columns(instruction) if instruction is not None else {}
    return PaymentOrderDetail(order_id=order_id, gross_amount=gross_amount, **columns)


def withholding_rows(
    order_id: str, withholdings: Sequence[Withholding]
) -> list[PaymentOrderWithholding]:
    return [
        PaymentOrderWithholding(
            order_id=order_id,
            position=position,
            kind=w.kind.value,
            amount=w.amount,
            description=w.description,
        )
        for position, w in enumerate(withholdings)
    ]


def withholding_of(row: PaymentOrderWithholding) -> Withholding:
    return Withholding(WithholdingKind(row.kind), row.amount, row.description)


def _text(value: str | None) -> str:
    if value is None:
        raise ValueError("a payment_order_details column of the method is NULL")
    return value


def _pix_of(d: PaymentOrderDetail) -> PixKey:
    return PixKey(PixKeyType(_text(d.pix_key_type)), _text(d.pix_key))


def _account_of(d: PaymentOrderDetail) -> BankAccount:
    return BankAccount(
        bank_code=_text(d.bank_code),
        agency=_text(d.agency),
        agency_digit=d.agency_digit,
        account=_text(d.account),
        account_digit=_text(d.account_digit),
        account_type=AccountType(_text(d.account_type)),
        holder_tax_id=_text(d.holder_tax_id),
    )


def _guide_of(d: PaymentOrderDetail) -> DepositGuide:
    return DepositGuide(
        bank=DepositBank(_text(d.deposit_bank)),
        guide_number=_text(d.guide_number),
        judicial_account=_text(d.judicial_account),
        cnj_number=_text(d.deposit_cnj_number),
        court_unit=d.court_unit,
    )


def instruction_of(d: PaymentOrderDetail | None) -> PaymentInstruction | None:
    """The payment method a detail row keeps; None when the order has none."""
    if d is None or d.method is None:
        return None
    method = PaymentMethod(d.method)
    return PaymentInstruction(
        method,
        barcode=d.barcode,
        digitable_line=d.digitable_line,
        pix=_pix_of(d) if method is PaymentMethod.PIX else None,
        bank_account=_account_of(d) if method is PaymentMethod.TRANSFER else None,
        deposit_guide=_guide_of(d)
        if method is PaymentMethod.JUDICIAL_DEPOSIT
        else None,
    )
