"""Payment orders on a real database: the whole lifecycle, amounts and methods.

Orders are built from the published ``PaymentOrderInput`` and validated by the
same mapping ``CreatePaymentOrder`` uses, so every payment-method rule is
exercised the way a SOAP client meets it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from adapter.app import reactions
from adapter.app.context import CallContext
from adapter.app.legal import PaymentOrderFilter, PaymentOrderView
from adapter.config import TargetSettings
from adapter.credentials.roles import authorize
from adapter.delivery.worker import DeliveryWorker
from adapter.domain.parties import validate_party
from adapter.domain.payment_methods import mod11_digit
from adapter.domain.payment_order_rules import OrderStatus
from adapter.errors import (
    AuthorizationError,
    ConflictError,
    NotFoundError,
    RemoteFault,
    ValidationError,
)
from adapter.inbound import mapping_payment_orders as mp
from adapter.inbound import types as t
from adapter.inbound import types_payment_orders as tp
from adapter.outbound.caller import CallResult
from adapter.runtime import Runtime
from adapter.storage.models import AuditEntry, Delivery
from adapter.storage.models_payment_orders import (
    PaymentOrderChange,
    PaymentOrderWithholding,
)
from adapter.storage.paging import decode_cursor

CALL = CallContext(actor="erp", channel="soap", operation="test")
CPF = "123.456.789-09"
OTHER_CPF = "529.982.247-25"
CNPJ = "11.222.333/0001-81"
BRANCH_CNPJ = "11.222.333/0002-62"
LAWSUIT = "0058967-77.2016.8.19.0000"
OTHER_LAWSUIT = "1234567-13.2024.8.26.0100"
DUE = dt.date(2026, 3, 31)  # boleto factor 1402 (legal-domain notes §2.4)
FREE_FIELD = "0000001234567800000000117"
BARCODE = "00199140200001234560000001234567800000000117"
LINE = "00190.00009 01234.567806 00000.001172 9 14020000123456"


def barcode(amount: str, due: dt.date = DUE) -> str:
    """A valid bank-001 boleto barcode for ``amount`` due on ``due``."""
    factor = (due - dt.date(1997, 10, 7)).days
    factor = (factor - 1000) % 9000 + 1000
    cents = int(Decimal(amount) * 100)
    body = f"0019{factor:04d}{cents:010d}{FREE_FIELD}"
    return body[:4] + str(mod11_digit(body)) + body[4:]


def order_fields(external_id: str = "PO-1", **changes: Any) -> dict[str, Any]:
    return {
        "sourceSystem": "SAP",
        "externalId": external_id,
        "lawsuitNumber": LAWSUIT,
        "type": "condemnation",
        "beneficiaryTaxId": CPF,
        "amount": Decimal("1234.56"),
        "dueDate": DUE,
        "costCenter": "JUR-01",
        "description": "Condenação trabalhista",
        **changes,
    }


def account(holder: str = CPF, **changes: Any) -> t.BankAccount:
    values = {
        "bankCode": "341",
        "agency": "1234",
        "account": "56789-0",
        "accountType": "checking",
        "holderTaxId": holder,
        **changes,
    }
    return t.BankAccount(**values)


def guide(**changes: Any) -> t.DepositGuide:
    values = {
        "bank": "bb",
        "guideNumber": "2026.0001.234",
        "judicialAccount": "4700123456789",
        "courtUnit": "1ª Vara do Trabalho",
        **changes,
    }
    return t.DepositGuide(**values)


def held(*pairs: tuple[str, str]) -> list[t.Withholding]:
    return [t.Withholding(kind=k, amount=Decimal(a)) for k, a in pairs]


def data(external_id: str = "PO-1", **changes: Any):  # type: ignore[no-untyped-def]
    """What CreatePaymentOrder hands the service for these published fields."""
    return mp.order_data(t.PaymentOrderInput(**order_fields(external_id, **changes)))


@pytest.fixture
def legal(runtime: Runtime):  # type: ignore[no-untyped-def]
    for external_id, kind, tax_id in (
        ("V-1", "individual", CPF),
        ("V-2", "company", CNPJ),
    ):
        runtime.parties.upsert(
            CALL, validate_party("SAP", external_id, kind, "Beneficiário", tax_id)
        )
    return runtime.legal


def create(legal: Any, external_id: str = "PO-1", **changes: Any) -> PaymentOrderView:
    view, outcome = legal.create_payment_order(CALL, data(external_id, **changes))
    assert outcome == "created"
    return view  # type: ignore[no-any-return]


def changes_of(runtime: Runtime, order_id: str) -> list[tuple[str, str, str]]:
    with runtime.db.transaction() as session:
        rows = session.scalars(
            select(PaymentOrderChange)
            .where(PaymentOrderChange.order_id == order_id)
            .order_by(PaymentOrderChange.id)
        ).all()
        return [(r.from_status, r.to_status, r.actor) for r in rows]


def deliveries(runtime: Runtime) -> list[str]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(Delivery.status)).all())


# An order created without the new fields


def test_order_without_the_new_fields_has_none_of_them(legal: Any) -> None:
    order = create(legal)
    assert order.status == "created"
    assert order.gross_amount is None and order.withholdings == ()
    assert order.instruction is None and order.payment_date is None


# Submit and approve


def test_submitted_order_awaits_approval(runtime: Runtime, legal: Any) -> None:
    order = create(legal)
    submitted = legal.submit_payment_order(CALL, order.id)
    assert submitted.status == "pending_approval"
    assert changes_of(runtime, order.id) == [("created", "pending_approval", "erp")]


def test_submitting_twice_is_a_conflict(legal: Any) -> None:
    order = create(legal)
    legal.submit_payment_order(CALL, order.id)
    with pytest.raises(
        ConflictError, match="pending_approval cannot become pending_approval"
    ):
        legal.submit_payment_order(CALL, order.id)


def test_approved_order_cannot_be_submitted(legal: Any) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    with pytest.raises(ConflictError, match="approved cannot become pending_approval"):
        legal.submit_payment_order(CALL, order.id)


def test_submitted_order_is_approved_with_its_event(
    runtime: Runtime, legal: Any
) -> None:
    order = create(legal)
    legal.submit_payment_order(CALL, order.id)
    approved = legal.approve_payment_order(CALL, order.id)
    assert approved.status == "approved" and approved.approved_by == "erp"
    assert deliveries(runtime) == ["pending"]
    assert changes_of(runtime, order.id)[-1] == ("pending_approval", "approved", "erp")


@pytest.mark.parametrize("final", ["rejected", "cancelled"])
def test_rejected_or_cancelled_order_cannot_be_approved(legal: Any, final: str) -> None:
    order = create(legal)
    if final == "rejected":
        legal.reject_payment_order(CALL, order.id, "valor em duplicidade")
    else:
        legal.cancel_payment_order(CALL, order.id, "acordo desfeito")
    with pytest.raises(ConflictError, match=f"{final} cannot become approved"):
        legal.approve_payment_order(CALL, order.id)


def test_unknown_order_is_not_found(legal: Any) -> None:
    with pytest.raises(NotFoundError, match="id: no payment order with id nope"):
        legal.submit_payment_order(CALL, "nope")


# Reject


@pytest.mark.parametrize("submit", [False, True])
def test_order_awaiting_approval_is_rejected_with_its_reason(
    legal: Any, submit: bool
) -> None:
    order = create(legal)
    if submit:
        legal.submit_payment_order(CALL, order.id)
    rejected = legal.reject_payment_order(CALL, order.id, " sem alçada ")
    assert rejected.status == "rejected"
    assert rejected.status_reason == "sem alçada"


def test_rejection_without_a_reason_is_refused(legal: Any) -> None:
    order = create(legal)
    with pytest.raises(ValidationError, match="reason: is required to become rejected"):
        legal.reject_payment_order(CALL, order.id, "  ")
    assert legal.get_payment_order(CALL, order.id).status == "created"


def test_reason_over_250_characters_is_refused(legal: Any) -> None:
    order = create(legal)
    with pytest.raises(ValidationError, match="reason: is longer than 250"):
        legal.reject_payment_order(CALL, order.id, "x" * 251)


def test_approved_order_cannot_be_rejected_by_an_approver(legal: Any) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    with pytest.raises(ConflictError, match="approved cannot become rejected"):
        legal.reject_payment_order(CALL, order.id, "tarde demais")


# Cancel


def test_approved_order_is_cancelled_with_its_pending_delivery(
    runtime: Runtime, legal: Any
) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    cancelled = legal.cancel_payment_order(CALL, order.id, "acordo desfeito")
    assert cancelled.status == "cancelled"
    assert cancelled.status_reason == "acordo desfeito"
    assert deliveries(runtime) == ["cancelled"]


def test_cancelled_delivery_is_never_sent(runtime: Runtime, legal: Any) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    legal.cancel_payment_order(CALL, order.id, "acordo desfeito")
    worker, caller = make_worker(runtime)
    assert worker.run_due() == 0
    assert caller.calls == []


@pytest.mark.parametrize("step", ["created", "pending_approval", "registered"])
def test_order_not_yet_sent_or_registered_can_be_cancelled(
    legal: Any, step: str
) -> None:
    order = create(legal)
    if step == "pending_approval":
        legal.submit_payment_order(CALL, order.id)
    if step == "registered":
        legal.approve_payment_order(CALL, order.id)
        legal.confirm_payment_order_registered(CALL, order.id, "5100000123")
    assert legal.cancel_payment_order(CALL, order.id, "erro").status == "cancelled"


def test_order_sent_to_the_erp_cannot_be_cancelled(
    runtime: Runtime, legal: Any
) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    with runtime.db.transaction() as session:
        delivery = session.scalars(select(Delivery)).one()
        reactions.attempt_started(session, delivery, dt.datetime.now(dt.UTC))
    with pytest.raises(ConflictError, match="sent cannot become cancelled"):
        legal.cancel_payment_order(CALL, order.id, "erro")
    assert deliveries(runtime) == ["pending"]  # the refusal changed nothing


def test_paid_order_cannot_be_cancelled(legal: Any) -> None:
    order = paid_order(legal)
    with pytest.raises(ConflictError, match="paid cannot become cancelled"):
        legal.cancel_payment_order(CALL, order.id, "erro")


def test_cancellation_without_a_reason_is_refused(legal: Any) -> None:
    order = create(legal)
    with pytest.raises(ValidationError, match="reason: is required to become cancel"):
        legal.cancel_payment_order(CALL, order.id, None)


def test_cancelling_twice_is_a_conflict(legal: Any) -> None:
    order = create(legal)
    legal.cancel_payment_order(CALL, order.id, "erro")
    with pytest.raises(ConflictError, match="cancelled cannot become cancelled"):
        legal.cancel_payment_order(CALL, order.id, "erro")


# The ERP confirms registration


def test_erp_confirmation_registers_the_order_with_its_document(
    runtime: Runtime, legal: Any
) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    registered = legal.confirm_payment_order_registered(CALL, order.id, "5100000123")
    assert (registered.status, registered.erp_document) == ("registered", "5100000123")
    assert changes_of(runtime, order.id)[-1] == ("approved", "registered", "erp")


def test_repeated_registration_with_the_same_document_changes_nothing(
    runtime: Runtime, legal: Any
) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    first = legal.confirm_payment_order_registered(CALL, order.id, "5100000123")
    again = legal.confirm_payment_order_registered(CALL, order.id, "5100000123")
    assert again.updated_at == first.updated_at
    assert len(changes_of(runtime, order.id)) == 2


def test_registration_without_a_document_number_is_refused(legal: Any) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    with pytest.raises(ValidationError, match="documentNumber: is required"):
        legal.confirm_payment_order_registered(CALL, order.id, " ")


def test_order_not_approved_cannot_be_registered(legal: Any) -> None:
    order = create(legal)
    with pytest.raises(ConflictError, match="created cannot become registered"):
        legal.confirm_payment_order_registered(CALL, order.id, "5100000123")


def test_erp_document_replaces_the_key_of_the_delivery(
    runtime: Runtime, legal: Any
) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    worker, _ = make_worker(runtime, "1;4242")
    worker.run_due()
    assert legal.get_payment_order(CALL, order.id).erp_document == "1;4242"
    confirmed = legal.confirm_payment_order_registered(CALL, order.id, "4242")
    assert (confirmed.status, confirmed.erp_document) == ("registered", "4242")


def test_paid_order_cannot_be_registered_again_with_another_document(
    legal: Any,
) -> None:
    order = paid_order(legal)
    with pytest.raises(ConflictError, match="paid cannot become registered"):
        legal.confirm_payment_order_registered(CALL, order.id, "9999")


# The ERP confirms payment


def paid_order(legal: Any, external_id: str = "PO-PAID") -> PaymentOrderView:
    order = create(legal, external_id)
    legal.approve_payment_order(CALL, order.id)
    legal.confirm_payment_order_registered(CALL, order.id, "5100000123")
    return legal.confirm_payment_order_paid(  # type: ignore[no-any-return]
        CALL, order.id, dt.date(2026, 3, 30), "AUT-778899"
    )


def test_erp_confirmation_marks_a_registered_order_paid(legal: Any) -> None:
    paid = paid_order(legal)
    assert paid.status == "paid"
    assert (paid.payment_date, paid.receipt) == (dt.date(2026, 3, 30), "AUT-778899")
    assert legal.get_payment_order(CALL, paid.id).payment_date == dt.date(2026, 3, 30)


def test_repeated_payment_confirmation_changes_nothing(legal: Any) -> None:
    paid = paid_order(legal)
    again = legal.confirm_payment_order_paid(CALL, paid.id, dt.date(2026, 3, 30))
    assert again.updated_at == paid.updated_at and again.receipt == "AUT-778899"


def test_payment_on_another_date_of_a_paid_order_is_a_conflict(legal: Any) -> None:
    paid = paid_order(legal)
    with pytest.raises(ConflictError, match="paid cannot become paid"):
        legal.confirm_payment_order_paid(CALL, paid.id, dt.date(2026, 3, 29))


def test_order_not_registered_cannot_be_paid(legal: Any) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    with pytest.raises(ConflictError, match="approved cannot become paid"):
        legal.confirm_payment_order_paid(CALL, order.id, dt.date(2026, 3, 30))


def test_payment_without_a_date_is_refused(legal: Any) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    legal.confirm_payment_order_registered(CALL, order.id, "5100000123")
    with pytest.raises(ValidationError, match="paymentDate: is required to become"):
        legal.confirm_payment_order_paid(CALL, order.id, None)


def test_payment_dated_after_today_is_refused(legal: Any) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    legal.confirm_payment_order_registered(CALL, order.id, "5100000123")
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    with pytest.raises(ValidationError, match="paymentDate: must not be after today"):
        legal.confirm_payment_order_paid(CALL, order.id, tomorrow)


def test_every_status_change_is_audited(runtime: Runtime, legal: Any) -> None:
    paid = paid_order(legal)
    with runtime.db.transaction() as session:
        audited = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.record_id == paid.id)
        ).all()
    assert [d for d in audited if d and '"status": "paid"' in d]
    assert [d for d in audited if d and '"document": "5100000123"' in d]


# The delivery worker meets orders moved by callbacks


@dataclass
class HookedCaller:
    """Answers each call from a script; ``during`` runs inside the call."""

    answers: list[object]
    during: Callable[[], None] | None = None
    calls: list[str] = field(default_factory=list)

    def prepare(self, target: TargetSettings) -> None:
        pass

    def prepare_key(self, target: TargetSettings) -> None:
        pass

    def call(
        self, target: TargetSettings, params: dict[str, str], *, message_id: str
    ) -> CallResult:
        self.calls.append(message_id)
        if self.during is not None:
            self.during()
        answer = self.answers.pop(0) if self.answers else "1;1"
        if isinstance(answer, Exception):
            raise answer
        return CallResult(str(answer), 200, 3)


def make_worker(
    runtime: Runtime, *answers: object, during: Callable[[], None] | None = None
) -> tuple[DeliveryWorker, HookedCaller]:
    caller = HookedCaller(list(answers), during)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    worker = DeliveryWorker(
        runtime,
        caller,  # type: ignore[arg-type]
        clock=lambda: later,
        rng=random.Random(1),
    )
    worker.prepare()
    return worker, caller


def test_erp_refusal_after_a_registration_callback_leaves_the_order_registered(
    runtime: Runtime, legal: Any
) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)

    def erp_calls_back() -> None:
        legal.confirm_payment_order_registered(CALL, order.id, "5100000123")

    refusal = RemoteFault("soap:Client", "duplicado", "SaveRecord")
    worker, _ = make_worker(runtime, refusal, during=erp_calls_back)
    worker.run_due()
    got = legal.get_payment_order(CALL, order.id)
    assert (got.status, got.erp_document) == ("registered", "5100000123")
    assert deliveries(runtime) == ["parked"]


def test_delivery_key_does_not_replace_the_document_the_erp_confirmed(
    runtime: Runtime, legal: Any
) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)

    def erp_calls_back() -> None:
        legal.confirm_payment_order_registered(CALL, order.id, "5100000123")

    worker, _ = make_worker(runtime, "1;777", during=erp_calls_back)
    worker.run_due()
    got = legal.get_payment_order(CALL, order.id)
    assert (got.status, got.erp_document) == ("registered", "5100000123")
    assert deliveries(runtime) == ["delivered"]


def test_parked_delivery_gives_the_order_a_reason_without_partner_text(
    runtime: Runtime, legal: Any
) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    worker, _ = make_worker(runtime, "Erro: CPF inválido na linha 3")
    worker.run_due()
    got = legal.get_payment_order(CALL, order.id)
    assert got.status == "erp_rejected"
    assert got.status_reason == "target rm-finance refused the delivery"
    assert changes_of(runtime, order.id)[-2:] == [
        ("approved", "sent", "ponte-worker"),
        ("sent", "erp_rejected", "ponte-worker"),
    ]


# Gross, withholdings and net


def test_net_amount_with_its_withholdings_is_stored(
    runtime: Runtime, legal: Any
) -> None:
    order = create(
        legal,
        amount=Decimal("739.99"),
        grossAmount=Decimal("1000.00"),
        withholdings=held(("irrf", "150.00"), ("inss", "110.01")),
    )
    assert order.gross_amount == Decimal("1000.00")
    assert [(w.kind.value, w.amount) for w in order.withholdings] == [
        ("irrf", Decimal("150.00")),
        ("inss", Decimal("110.01")),
    ]
    with runtime.db.transaction() as session:
        positions = session.scalars(select(PaymentOrderWithholding.position)).all()
    assert sorted(positions) == [0, 1]


def test_amount_that_is_not_the_net_is_refused(legal: Any) -> None:
    with pytest.raises(
        ValidationError, match=r"amount: must be the net amount 739\.99"
    ):
        data(
            amount=Decimal("1000.00"),
            grossAmount=Decimal("1000.00"),
            withholdings=held(("irrf", "150.00"), ("inss", "110.01")),
        )


def test_gross_amount_alone_must_equal_the_amount(legal: Any) -> None:
    assert data(grossAmount=Decimal("1234.56")).gross_amount == Decimal("1234.56")
    with pytest.raises(ValidationError, match="amount: must be the net amount 1300"):
        data(grossAmount=Decimal("1300.00"))


def test_withholdings_without_a_gross_amount_are_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match="grossAmount: is required when withh"):
        data(withholdings=held(("iss", "10.00")))


def test_withholdings_that_swallow_the_gross_are_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match=r"withholdings: total 100\.00 must be"):
        data(
            amount=Decimal("1.00"),
            grossAmount=Decimal("100.00"),
            withholdings=held(("irrf", "100.00")),
        )


def test_bad_withholding_is_named_by_its_position(legal: Any) -> None:
    with pytest.raises(ValidationError, match=r"withholdings\[1\]\.kind: must be one"):
        data(
            amount=Decimal("80.00"),
            grossAmount=Decimal("100.00"),
            withholdings=held(("irrf", "10.00"), ("vat", "10.00")),
        )


def test_more_than_twenty_withholdings_are_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match="withholdings: holds more than 20"):
        data(
            amount=Decimal("79.00"),
            grossAmount=Decimal("100.00"),
            withholdings=held(*[("iss", "1.00")] * 21),
        )


def test_negative_gross_amount_is_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match="grossAmount: must be greater than zero"):
        data(grossAmount=Decimal("-1.00"))


# Boleto


def test_boleto_barcode_is_stored_with_its_digitable_line(legal: Any) -> None:
    order = create(legal, paymentMethod="boleto", barcode=BARCODE)
    assert order.instruction is not None
    assert order.instruction.barcode == BARCODE
    assert order.instruction.digitable_line == "".join(c for c in LINE if c.isdigit())


def test_boleto_given_by_its_digitable_line_gets_its_barcode(legal: Any) -> None:
    order = create(legal, paymentMethod="BOLETO", digitableLine=LINE)
    assert order.instruction is not None and order.instruction.barcode == BARCODE


def test_boleto_whose_value_differs_from_the_amount_is_refused(legal: Any) -> None:
    with pytest.raises(
        ValidationError, match=r"barcode: value 1234\.56 inside differs from the order"
    ) as refused:
        data(paymentMethod="boleto", barcode=BARCODE, amount=Decimal("1234.50"))
    assert refused.value.code == "Client.Validation"


def test_boleto_whose_due_date_differs_is_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match="barcode: due-date factor 1402 inside"):
        data(paymentMethod="boleto", barcode=BARCODE, dueDate=dt.date(2026, 4, 1))


def test_digitable_line_whose_value_differs_is_refused_naming_it(legal: Any) -> None:
    with pytest.raises(ValidationError, match=r"digitableLine: value 1234\.56 inside"):
        data(paymentMethod="boleto", digitableLine=LINE, amount=Decimal("99.00"))


def test_boleto_with_a_wrong_check_digit_is_refused(legal: Any) -> None:
    broken = BARCODE[:4] + "1" + BARCODE[5:]
    with pytest.raises(ValidationError, match="barcode: general check digit"):
        data(paymentMethod="boleto", barcode=broken)


def test_barcode_and_digitable_line_of_two_boletos_are_refused(legal: Any) -> None:
    other = barcode("1234.56", dt.date(2026, 4, 1))
    with pytest.raises(ValidationError, match="digitableLine: is not the boleto"):
        data(paymentMethod="boleto", barcode=other, digitableLine=LINE)


def test_boleto_without_its_code_is_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match="barcode: or digitableLine is required"):
        data(paymentMethod="boleto")


def test_boleto_for_the_net_amount_matches_an_order_with_withholdings(
    legal: Any,
) -> None:
    order = create(
        legal,
        amount=Decimal("900.00"),
        grossAmount=Decimal("1000.00"),
        withholdings=held(("irrf", "100.00")),
        paymentMethod="boleto",
        barcode=barcode("900.00"),
    )
    assert order.instruction is not None and order.amount == Decimal("900.00")


# PIX


def test_pix_key_is_stored_with_its_type(legal: Any) -> None:
    order = create(legal, paymentMethod="pix", pixKeyType="email", pixKey="m@x.com.br")
    assert order.instruction is not None and order.instruction.pix is not None
    assert (order.instruction.pix.type.value, order.instruction.pix.key) == (
        "email",
        "m@x.com.br",
    )


def test_pix_key_of_another_type_is_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match="pixKey: an e-mail key reads"):
        data(paymentMethod="pix", pixKeyType="email", pixKey="12345678909")


def test_pix_cpf_key_that_is_a_phone_number_is_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match="pixKey"):
        data(paymentMethod="pix", pixKeyType="cpf", pixKey="11987654321")


def test_pix_without_a_key_type_is_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match="pixKeyType: must be one of cpf"):
        data(paymentMethod="pix", pixKey="m@x.com.br")


# Transfer


def test_transfer_to_the_beneficiarys_account_is_stored(legal: Any) -> None:
    order = create(legal, paymentMethod="transfer", bankAccount=account())
    assert order.instruction is not None
    stored = order.instruction.bank_account
    assert stored is not None
    assert (stored.bank_code, stored.account, stored.account_digit) == (
        "341",
        "56789",
        "0",
    )


def test_transfer_to_an_account_of_someone_else_is_refused(legal: Any) -> None:
    with pytest.raises(
        ValidationError, match=r"bankAccount\.holderTaxId: must be the beneficiary"
    ):
        data(paymentMethod="transfer", bankAccount=account(OTHER_CPF))


def test_transfer_to_a_branch_of_the_beneficiary_company_is_accepted(
    legal: Any,
) -> None:
    order = create(
        legal,
        beneficiaryTaxId=CNPJ,
        paymentMethod="transfer",
        bankAccount=account(BRANCH_CNPJ),
    )
    assert order.instruction is not None


def test_transfer_without_an_account_is_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match="bankAccount: is required when"):
        data(paymentMethod="transfer")


def test_transfer_account_rules_name_the_nested_field(legal: Any) -> None:
    with pytest.raises(ValidationError, match=r"bankAccount\.bankCode: a COMPE"):
        data(paymentMethod="transfer", bankAccount=account(bankCode="34"))


# Judicial deposit


def test_deposit_guide_takes_the_lawsuit_of_the_order(legal: Any) -> None:
    order = create(legal, paymentMethod="judicial_deposit", depositGuide=guide())
    assert order.instruction is not None
    stored = order.instruction.deposit_guide
    assert stored is not None
    assert (stored.bank.value, stored.cnj_number) == ("bb", "00589677720168190000")


def test_deposit_guide_of_another_lawsuit_is_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match=r"depositGuide\.cnjNumber: must be the"):
        data(
            paymentMethod="judicial_deposit",
            depositGuide=guide(cnjNumber=OTHER_LAWSUIT),
        )


def test_deposit_guide_of_another_bank_is_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match=r"depositGuide\.bank: must be one of"):
        data(paymentMethod="judicial_deposit", depositGuide=guide(bank="itau"))


# Method fields


def test_field_of_another_method_is_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match="barcode: is only for paymentMethod bol"):
        data(
            paymentMethod="pix",
            pixKeyType="email",
            pixKey="m@x.com.br",
            barcode=BARCODE,
        )


def test_method_fields_without_a_method_are_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match="paymentMethod: is required when pixKey"):
        data(pixKey="m@x.com.br")


def test_unknown_method_is_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match="paymentMethod: must be one of boleto"):
        data(paymentMethod="cheque")


# Idempotent create


def test_repeated_create_with_a_method_returns_the_first_order(legal: Any) -> None:
    fields = {
        "amount": Decimal("900.00"),
        "grossAmount": Decimal("1000.00"),
        "withholdings": held(("irrf", "100.00")),
        "paymentMethod": "transfer",
        "bankAccount": account(),
    }
    first = create(legal, **fields)
    again, outcome = legal.create_payment_order(CALL, data(**fields))
    assert outcome == "unchanged" and again.id == first.id
    moved = {**fields, "bankAccount": account(account="11111-1")}
    with pytest.raises(ConflictError, match="already names a different payment"):
        legal.create_payment_order(CALL, data(**moved))


def test_same_key_with_other_withholdings_is_a_conflict(legal: Any) -> None:
    create(
        legal,
        amount=Decimal("900.00"),
        grossAmount=Decimal("1000.00"),
        withholdings=held(("irrf", "100.00")),
    )
    with pytest.raises(ConflictError, match="already names a different payment"):
        legal.create_payment_order(
            CALL,
            data(
                amount=Decimal("900.00"),
                grossAmount=Decimal("1000.00"),
                withholdings=held(("inss", "100.00")),
            ),
        )


# Get and query


def test_order_is_read_by_the_erp_key(legal: Any) -> None:
    order = create(legal)
    assert legal.get_payment_order(CALL, key=("SAP", "PO-1")).id == order.id
    with pytest.raises(NotFoundError, match="externalId PO-9"):
        legal.get_payment_order(CALL, key=("SAP", "PO-9"))


def query_all(legal: Any, where: PaymentOrderFilter, size: int = 2) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        views, following = legal.query_payment_orders(
            CALL, where, decode_cursor(cursor), size
        )
        seen += [v.external_id for v in views]
        cursor = following
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


def test_query_filters_by_status_lawsuit_and_beneficiary(legal: Any) -> None:
    for i in range(3):
        create(legal, f"Q-{i}")
    create(legal, "Q-other", lawsuitNumber=OTHER_LAWSUIT, beneficiaryTaxId=CNPJ)
    approved = create(legal, "Q-approved")
    legal.approve_payment_order(CALL, approved.id)
    by_status = PaymentOrderFilter(status=OrderStatus.CREATED)
    assert sorted(query_all(legal, by_status)) == ["Q-0", "Q-1", "Q-2", "Q-other"]
    by_lawsuit = mp.order_filter(tp.PaymentOrderFilter(lawsuitNumber=OTHER_LAWSUIT))
    assert query_all(legal, by_lawsuit) == ["Q-other"]
    by_party = mp.order_filter(tp.PaymentOrderFilter(beneficiaryTaxId=CNPJ))
    assert query_all(legal, by_party) == ["Q-other"]


def test_query_since_a_moment_returns_the_orders_changed_after_it(
    legal: Any,
) -> None:
    old = create(legal, "S-old")
    create(legal, "S-untouched")
    since = dt.datetime.now(dt.UTC)
    legal.submit_payment_order(CALL, old.id)
    create(legal, "S-new")
    where = PaymentOrderFilter(modified_since=since)
    assert query_all(legal, where, size=1) == ["S-old", "S-new"]


def test_query_pages_every_order_once_in_a_stable_order(legal: Any) -> None:
    for i in range(7):
        create(legal, f"P-{i}")
    first = query_all(legal, PaymentOrderFilter(), size=3)
    assert len(first) == len(set(first)) == 7
    assert query_all(legal, PaymentOrderFilter(), size=3) == first


def test_query_by_an_unknown_status_is_refused(legal: Any) -> None:
    with pytest.raises(
        ValidationError, match=r"filter\.status: must be one of created"
    ):
        mp.order_filter(tp.PaymentOrderFilter(status="open"))


def test_query_views_carry_the_children(legal: Any) -> None:
    create(legal, "C-1", paymentMethod="boleto", barcode=BARCODE)
    paid_order(legal, "C-2")
    views, _ = legal.query_payment_orders(CALL, PaymentOrderFilter(), None, 10)
    by_id = {v.external_id: v for v in views}
    assert by_id["C-1"].instruction is not None
    assert by_id["C-2"].payment_date == dt.date(2026, 3, 30)


# Roles


@pytest.mark.parametrize(
    "operation",
    [
        "CreatePaymentOrder",
        "SubmitPaymentOrder",
        "ApprovePaymentOrder",
        "RejectPaymentOrder",
        "CancelPaymentOrder",
        "ConfirmPaymentOrderRegistered",
        "ConfirmPaymentOrderPaid",
        "GetPaymentOrder",
        "QueryPaymentOrders",
    ],
)
def test_finance_erp_and_admin_may_call_every_order_operation(operation: str) -> None:
    authorize("erp", "finance_erp", operation)
    authorize("root", "admin", operation)


@pytest.mark.parametrize("operation", ["GetPaymentOrder", "QueryPaymentOrders"])
def test_auditor_may_read_orders(operation: str) -> None:
    authorize("audit", "auditor", operation)


@pytest.mark.parametrize(
    "operation",
    ["SubmitPaymentOrder", "RejectPaymentOrder", "ConfirmPaymentOrderPaid"],
)
def test_auditor_may_not_change_orders(operation: str) -> None:
    with pytest.raises(AuthorizationError, match=f"may not call {operation}"):
        authorize("audit", "auditor", operation)


def test_hr_system_may_not_read_orders() -> None:
    with pytest.raises(AuthorizationError, match="may not call QueryPaymentOrders"):
        authorize("hr", "hr_system", "QueryPaymentOrders")


# Delete


def order_in(legal: Any, status: str) -> PaymentOrderView:
    """A new order moved to ``status`` the way callers move it."""
    order = create(legal, f"D-{status}")
    if status == "pending_approval":
        legal.submit_payment_order(CALL, order.id)
    if status == "rejected":
        legal.reject_payment_order(CALL, order.id, "sem alçada")
    if status == "cancelled":
        legal.cancel_payment_order(CALL, order.id, "erro")
    if status in ("approved", "registered", "paid", "cancelled_after_registry"):
        legal.approve_payment_order(CALL, order.id)
    if status in ("registered", "paid", "cancelled_after_registry"):
        legal.confirm_payment_order_registered(CALL, order.id, "5100000123")
    if status == "paid":
        legal.confirm_payment_order_paid(CALL, order.id, dt.date(2026, 3, 30))
    if status == "cancelled_after_registry":
        legal.cancel_payment_order(CALL, order.id, "erro")
    return order


@pytest.mark.parametrize(
    "status", ["created", "pending_approval", "rejected", "cancelled"]
)
def test_order_that_never_reached_the_erp_is_deleted(legal: Any, status: str) -> None:
    order = order_in(legal, status)
    deleted = legal.delete_payment_order(CALL, order.id)
    assert deleted.status == status and deleted.deleted_at is not None
    got = legal.get_payment_order(CALL, order.id)
    assert got.deleted_at == deleted.deleted_at


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("approved", "an approved payment order is cancelled, not deleted"),
        ("registered", "a registered payment order is cancelled, not deleted"),
        ("paid", "a paid payment order is reversed, not deleted"),
        (
            "cancelled_after_registry",
            "a cancelled payment order that reached the ERP cannot be deleted",
        ),
    ],
)
def test_order_that_reached_the_erp_or_is_committed_is_not_deleted(
    legal: Any, status: str, message: str
) -> None:
    order = order_in(legal, status)
    with pytest.raises(ConflictError, match=message):
        legal.delete_payment_order(CALL, order.id)
    assert legal.get_payment_order(CALL, order.id).deleted_at is None


def test_order_sent_to_the_erp_is_not_deleted(runtime: Runtime, legal: Any) -> None:
    order = create(legal)
    legal.approve_payment_order(CALL, order.id)
    with runtime.db.transaction() as session:
        delivery = session.scalars(select(Delivery)).one()
        reactions.attempt_started(session, delivery, dt.datetime.now(dt.UTC))
    with pytest.raises(ConflictError, match="a sent payment order awaits the ERP"):
        legal.delete_payment_order(CALL, order.id)


def test_order_is_deleted_by_the_erp_key(legal: Any) -> None:
    order = create(legal, "D-key")
    assert legal.delete_payment_order(CALL, key=("SAP", "D-key")).id == order.id
    with pytest.raises(NotFoundError, match="externalId D-none"):
        legal.delete_payment_order(CALL, key=("SAP", "D-none"))


def test_deleting_twice_changes_nothing(legal: Any) -> None:
    order = create(legal)
    first = legal.delete_payment_order(CALL, order.id)
    assert legal.delete_payment_order(CALL, order.id).deleted_at == first.deleted_at


def test_deleted_order_is_left_out_of_queries_unless_asked_for(legal: Any) -> None:
    create(legal, "Q-kept")
    gone = create(legal, "Q-gone")
    legal.delete_payment_order(CALL, gone.id)
    assert query_all(legal, PaymentOrderFilter()) == ["Q-kept"]
    with_deleted = mp.order_filter(tp.PaymentOrderFilter(includeDeleted=True))
    assert sorted(query_all(legal, with_deleted)) == ["Q-gone", "Q-kept"]


def test_deletion_counts_as_a_change_for_incremental_sync(legal: Any) -> None:
    order = create(legal)
    since = dt.datetime.now(dt.UTC)
    legal.delete_payment_order(CALL, order.id)
    where = PaymentOrderFilter(modified_since=since, include_deleted=True)
    assert query_all(legal, where) == ["PO-1"]


def test_key_of_a_deleted_order_is_spent(legal: Any) -> None:
    order = create(legal)
    legal.delete_payment_order(CALL, order.id)
    with pytest.raises(ConflictError, match=r"externalId PO-1 of SAP .* is spent"):
        legal.create_payment_order(CALL, data())


def test_deleted_order_can_no_longer_be_approved(legal: Any) -> None:
    order = create(legal)
    legal.delete_payment_order(CALL, order.id)
    with pytest.raises(ConflictError, match=f"payment order {order.id} was deleted"):
        legal.approve_payment_order(CALL, order.id)


def test_deletion_is_audited_with_the_status(runtime: Runtime, legal: Any) -> None:
    order = create(legal)
    legal.delete_payment_order(CALL, order.id)
    with runtime.db.transaction() as session:
        audited = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.record_id == order.id)
        ).all()
    assert [d for d in audited if d and '"result": "deleted"' in d and "created" in d]


# Create many


def test_bulk_creates_good_items_and_refuses_bad_ones_alone(legal: Any) -> None:
    items = [
        t.PaymentOrderInput(**order_fields("B-1")),
        t.PaymentOrderInput(**order_fields("B-2", amount=Decimal("-1"))),
        t.PaymentOrderInput(**order_fields("B-3", beneficiaryTaxId=OTHER_CPF)),
        t.PaymentOrderInput(**order_fields("B-4", paymentMethod="boleto")),
        t.PaymentOrderInput(**order_fields("B-1")),
        t.PaymentOrderInput(**order_fields("B-5")),
    ]
    results = legal.create_payment_orders(CALL, items, mp.order_data)
    outcomes = [(r.outcome, r.fault_code) for r in results]
    assert outcomes == [
        ("created", None),
        ("refused", "Client.Validation"),
        ("refused", "Client.NotFound"),
        ("refused", "Client.Validation"),
        ("refused", "Client.Validation"),
        ("created", None),
    ]
    assert "amount" in (results[1].message or "")
    assert "repeats item 0" in (results[4].message or "")
    assert legal.get_payment_order(CALL, key=("SAP", "B-5")).id == results[5].id


def test_bulk_repeat_is_unchanged_and_other_content_a_conflict(legal: Any) -> None:
    first = create(legal, "R-1")
    create(legal, "R-2")
    gone = create(legal, "R-3")
    legal.delete_payment_order(CALL, gone.id)
    items = [
        t.PaymentOrderInput(**order_fields("R-1")),
        t.PaymentOrderInput(**order_fields("R-2", costCenter="JUR-02")),
        t.PaymentOrderInput(**order_fields("R-3")),
        t.PaymentOrderInput(**order_fields("R-4")),
    ]
    results = legal.create_payment_orders(CALL, items, mp.order_data)
    assert [r.outcome for r in results] == [
        "unchanged",
        "refused",
        "refused",
        "created",
    ]
    assert results[0].id == first.id
    assert results[1].fault_code == results[2].fault_code == "Client.Conflict"
    assert "already names a different payment order" in (results[1].message or "")
    assert "is spent" in (results[2].message or "")
    assert legal.get_payment_order(CALL, key=("SAP", "R-2")).cost_center == "JUR-01"


def test_bulk_items_keep_their_withholdings_and_method(legal: Any) -> None:
    item = t.PaymentOrderInput(
        **order_fields(
            "W-1",
            amount=Decimal("1000.00"),
            grossAmount=Decimal("1100.00"),
            withholdings=held(("irrf", "100.00")),
            paymentMethod="pix",
            pixKeyType="cpf",
            pixKey=CPF,
        )
    )
    (result,) = legal.create_payment_orders(CALL, [item], mp.order_data)
    view = legal.get_payment_order(CALL, result.id)
    assert view.gross_amount == Decimal("1100.00") and len(view.withholdings) == 1
    assert view.instruction is not None and view.instruction.method == "pix"
    (again,) = legal.create_payment_orders(CALL, [item], mp.order_data)
    assert (again.outcome, again.id) == ("unchanged", result.id)


def test_bulk_is_audited_per_created_item(runtime: Runtime, legal: Any) -> None:
    items = [t.PaymentOrderInput(**order_fields(f"A-{i}")) for i in range(3)]
    results = legal.create_payment_orders(CALL, items, mp.order_data)
    with runtime.db.transaction() as session:
        audited = set(
            session.scalars(
                select(AuditEntry.record_id).where(
                    AuditEntry.record_id.in_([r.id for r in results])
                )
            )
        )
    assert audited == {r.id for r in results}


def test_bulk_without_items_or_over_the_limit_is_refused(legal: Any) -> None:
    with pytest.raises(ValidationError, match="paymentOrders: needs at least one"):
        legal.create_payment_orders(CALL, [], mp.order_data)
    too_many = [t.PaymentOrderInput(**order_fields())] * 10_001
    with pytest.raises(ValidationError, match="the limit is 10000"):
        legal.create_payment_orders(CALL, too_many, mp.order_data)
