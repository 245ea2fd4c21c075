"""Between the published payment-order types and the use cases."""

from __future__ import annotations

from typing import Any

from adapter.app.legal import PaymentOrderFilter, PaymentOrderView
from adapter.domain.identifiers import normalize_cnj
from adapter.domain.lawsuits import parse_choice
from adapter.domain.parties import normalize_any_tax_id
from adapter.domain.payment_methods import (
    BankAccount,
    DepositGuide,
    validate_bank_account,
    validate_deposit_guide,
)
from adapter.domain.payment_order_rules import (
    MethodFields,
    OrderStatus,
    PaymentInstruction,
    complete_payment_order,
    within,
)
from adapter.domain.payments import PaymentOrderInput, validate_payment_order
from adapter.domain.withholdings import Withholding, validate_withholding
from adapter.inbound import types as t
from adapter.inbound import types_payment_orders as tp
from adapter.inbound.mapping import utc

# In


def _withholdings(items: Any) -> list[Withholding]:
    return [
        validate_withholding(w.kind, w.amount, w.description, position=position)
        for position, w in enumerate(items or [])
    ]


def _bank_account(a: t.BankAccount | None) -> BankAccount | None:
    if a is None:
        return None
    with within("bankAccount"):
        return validate_bank_account(
            a.bankCode, a.agency, a.account, a.accountType, a.holderTaxId
        )


def _deposit_guide(
    g: t.DepositGuide | None, lawsuit: str | None
) -> DepositGuide | None:
    if g is None:
        return None
    with within("depositGuide"):
        return validate_deposit_guide(
            g.bank,
            g.guideNumber,
            g.judicialAccount,
            g.cnjNumber or lawsuit,
            g.courtUnit,
        )


def order_data(o: t.PaymentOrderInput) -> PaymentOrderInput:
    """Validate a CreatePaymentOrder request; raise at the first rule broken."""
    order = validate_payment_order(
        source_system=o.sourceSystem,
        external_id=o.externalId,
        lawsuit_number=o.lawsuitNumber,
        type=o.type,
        beneficiary_tax_id=o.beneficiaryTaxId,
        amount=o.amount,
        due_date=o.dueDate,
        cost_center=o.costCenter,
        description=o.description,
    )
    method = MethodFields(
        method=o.paymentMethod,
        barcode=o.barcode,
        digitable_line=o.digitableLine,
        pix_key_type=o.pixKeyType,
        pix_key=o.pixKey,
        bank_account=_bank_account(o.bankAccount),
        deposit_guide=_deposit_guide(o.depositGuide, o.lawsuitNumber),
    )
    return complete_payment_order(
        order,
        gross_amount=o.grossAmount,
        withholdings=_withholdings(o.withholdings),
        method=method,
    )


def order_filter(f: tp.PaymentOrderFilter | None) -> PaymentOrderFilter:
    if f is None:
        return PaymentOrderFilter()
    status = parse_choice(OrderStatus, f.status, "filter.status") if f.status else None
    lawsuit = (
        normalize_cnj(f.lawsuitNumber, "filter.lawsuitNumber")
        if f.lawsuitNumber
        else None
    )
    tax_id = (
        normalize_any_tax_id(f.beneficiaryTaxId, "filter.beneficiaryTaxId")
        if f.beneficiaryTaxId
        else None
    )
    return PaymentOrderFilter(
        status=status,
        lawsuit_number=lawsuit,
        beneficiary_tax_id=tax_id,
        modified_since=utc(f.modifiedSince),
        include_deleted=bool(f.includeDeleted),
    )


# Out


def _with_digit(number: str, digit: str | None) -> str:
    return f"{number}-{digit}" if digit else number


def _account_out(a: BankAccount) -> t.BankAccount:
    return t.BankAccount(
        bankCode=a.bank_code,
        agency=_with_digit(a.agency, a.agency_digit),
        account=_with_digit(a.account, a.account_digit),
        accountType=a.account_type.value,
        holderTaxId=a.holder_tax_id,
    )


def _guide_out(g: DepositGuide) -> t.DepositGuide:
    return t.DepositGuide(
        bank=g.bank.value,
        guideNumber=g.guide_number,
        judicialAccount=g.judicial_account,
        cnjNumber=g.cnj_number,
        courtUnit=g.court_unit,
    )


def _method_out(i: PaymentInstruction | None) -> dict[str, Any]:
    if i is None:
        return {}
    return {
        "paymentMethod": i.method.value,
        "barcode": i.barcode,
        "digitableLine": i.digitable_line,
        "pixKeyType": i.pix.type.value if i.pix else None,
        "pixKey": i.pix.key if i.pix else None,
        "bankAccount": _account_out(i.bank_account) if i.bank_account else None,
        "depositGuide": _guide_out(i.deposit_guide) if i.deposit_guide else None,
    }


def order_out(view: PaymentOrderView) -> t.PaymentOrder:
    withholdings = [
        t.Withholding(kind=w.kind.value, amount=w.amount, description=w.description)
        for w in view.withholdings
    ]
    return t.PaymentOrder(
        id=view.id,
        sourceSystem=view.source_system,
        externalId=view.external_id,
        lawsuitNumber=view.lawsuit_number,
        type=view.type,
        beneficiaryId=view.beneficiary_id,
        beneficiaryTaxId=view.beneficiary_tax_id,
        amount=view.amount,
        currency=view.currency,
        dueDate=view.due_date,
        costCenter=view.cost_center,
        description=view.description,
        status=view.status,
        erpDocument=view.erp_document,
        approvedBy=view.approved_by,
        approvedAt=view.approved_at,
        createdAt=view.created_at,
        updatedAt=view.updated_at,
        grossAmount=view.gross_amount,
        withholdings=withholdings or None,
        paymentDate=view.payment_date,
        receipt=view.receipt,
        statusReason=view.status_reason,
        deletedAt=view.deleted_at,
        **_method_out(view.instruction),
    )


def page_out(
    views: list[PaymentOrderView], following: str | None
) -> tp.PaymentOrderPage:
    return tp.PaymentOrderPage(
        items=[order_out(v) for v in views], nextCursor=following
    )
