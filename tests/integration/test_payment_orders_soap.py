"""Payment orders through a live server with zeep: the lifecycle and its rules."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import zeep
from zeep.wsse.username import UsernameToken

from tests.conftest import PASSWORD, Installation, free_port

CPF = "123.456.789-09"
OTHER_CPF = "529.982.247-25"
LAWSUIT = "0058967-77.2016.8.19.0000"
DUE = dt.date(2026, 3, 31)
BARCODE = "00199140200001234560000001234567800000000117"  # R$ 1.234,56 due DUE


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    inst = Installation(tmp_path_factory.mktemp("orders"), free_port())
    inst.write_config("")
    try:
        for user, role in (("erp", "finance_erp"), ("audit", "auditor")):
            inst.ponte("users", "add", user, "--role", role, "--password", PASSWORD)
        inst.serve()
        yield inst
    finally:
        inst.stop_all()


def client(server: Installation, user: str) -> zeep.Client:
    return zeep.Client(f"{server.url}?wsdl", wsse=UsernameToken(user, PASSWORD))


@pytest.fixture(scope="module")
def erp(server: Installation) -> zeep.Client:
    soap = client(server, "erp")
    soap.service.UpsertParty(
        party={
            "sourceSystem": "SAP",
            "externalId": "V-1",
            "kind": "individual",
            "taxId": CPF,
            "name": "Maria da Silva",
        }
    )
    return soap


def order(**changes: Any) -> dict[str, Any]:
    return {
        "sourceSystem": "SAP",
        "externalId": f"PO-{uuid.uuid4().hex[:10]}",
        "lawsuitNumber": LAWSUIT,
        "type": "condemnation",
        "beneficiaryTaxId": CPF,
        "amount": "1234.56",
        "dueDate": DUE,
        "costCenter": "JUR-01",
        "description": "Condenação trabalhista",
        **changes,
    }


def created(erp: zeep.Client, **changes: Any) -> Any:
    result = erp.service.CreatePaymentOrder(paymentOrder=order(**changes))
    assert result.outcome == "created"
    return result.paymentOrder


def refused(call: Any, match: str, **kwargs: Any) -> zeep.exceptions.Fault:
    with pytest.raises(zeep.exceptions.Fault, match=match) as fault:
        call(**kwargs)
    return fault.value


# The whole lifecycle


def test_order_goes_from_created_to_paid(erp: zeep.Client) -> None:
    made = created(
        erp,
        amount="1234.56",
        grossAmount="1500.00",
        withholdings={
            "withholding": [
                {"kind": "irrf", "amount": "200.00"},
                {"kind": "inss", "amount": "65.44"},
            ]
        },
        paymentMethod="boleto",
        barcode=BARCODE,
    )
    assert made.status == "created" and Decimal(made.grossAmount) == Decimal("1500")
    kinds = [w.kind for w in made.withholdings.withholding]
    assert kinds == ["irrf", "inss"]
    steps = [
        erp.service.SubmitPaymentOrder(id=made.id),
        erp.service.ApprovePaymentOrder(id=made.id),
        erp.service.ConfirmPaymentOrderRegistered(
            id=made.id, documentNumber="5100000123"
        ),
        erp.service.ConfirmPaymentOrderPaid(
            id=made.id, paymentDate=dt.date(2026, 3, 30), receipt="AUT-1"
        ),
    ]
    statuses = [s.status for s in steps]
    assert statuses == ["pending_approval", "approved", "registered", "paid"]
    got = erp.service.GetPaymentOrder(id=made.id)
    assert (got.erpDocument, got.paymentDate, got.receipt) == (
        "5100000123",
        dt.date(2026, 3, 30),
        "AUT-1",
    )
    assert (got.paymentMethod, got.barcode) == ("boleto", BARCODE)


def test_order_without_the_new_fields_behaves_as_before(erp: zeep.Client) -> None:
    made = created(erp)
    assert made.grossAmount is None and made.withholdings is None
    assert made.paymentMethod is None
    assert erp.service.ApprovePaymentOrder(id=made.id).status == "approved"


def test_rejected_order_carries_its_reason(erp: zeep.Client) -> None:
    made = created(erp)
    rejected = erp.service.RejectPaymentOrder(id=made.id, reason="sem alçada")
    assert (rejected.status, rejected.statusReason) == ("rejected", "sem alçada")
    fault = refused(
        erp.service.ApprovePaymentOrder, "rejected cannot become approved", id=made.id
    )
    assert fault.code.endswith("Client.Conflict")


def test_cancelled_order_cannot_be_cancelled_again(erp: zeep.Client) -> None:
    made = created(erp)
    cancelled = erp.service.CancelPaymentOrder(id=made.id, reason="acordo desfeito")
    assert cancelled.status == "cancelled"
    fault = refused(
        erp.service.CancelPaymentOrder,
        "cancelled cannot become cancelled",
        id=made.id,
        reason="de novo",
    )
    assert fault.code.endswith("Client.Conflict")


def test_registration_of_an_unapproved_order_is_a_conflict(erp: zeep.Client) -> None:
    made = created(erp)
    refused(
        erp.service.ConfirmPaymentOrderRegistered,
        "created cannot become registered",
        id=made.id,
        documentNumber="1",
    )


def test_payment_of_an_unregistered_order_is_a_conflict(erp: zeep.Client) -> None:
    made = created(erp)
    erp.service.ApprovePaymentOrder(id=made.id)
    refused(
        erp.service.ConfirmPaymentOrderPaid,
        "approved cannot become paid",
        id=made.id,
        paymentDate=dt.date(2026, 3, 30),
    )


def test_blank_reason_is_refused_by_the_schema(erp: zeep.Client) -> None:
    made = created(erp)
    fault = refused(
        erp.service.RejectPaymentOrder,
        r"Missing child element.*reason",
        id=made.id,
        reason=" ",
    )
    assert "Client" in fault.code
    assert erp.service.GetPaymentOrder(id=made.id).status == "created"


# Payment-method rules


def test_boleto_whose_amount_differs_is_refused_naming_barcode(
    erp: zeep.Client,
) -> None:
    fault = refused(
        erp.service.CreatePaymentOrder,
        r"barcode: value 1234\.56 inside differs from the order amount 1000",
        paymentOrder=order(amount="1000.00", paymentMethod="boleto", barcode=BARCODE),
    )
    assert fault.code.endswith("Client.Validation")


def test_boleto_whose_due_date_differs_is_refused_naming_barcode(
    erp: zeep.Client,
) -> None:
    fault = refused(
        erp.service.CreatePaymentOrder,
        "barcode: due-date factor 1402 inside differs",
        paymentOrder=order(
            dueDate=dt.date(2026, 4, 30), paymentMethod="boleto", barcode=BARCODE
        ),
    )
    assert fault.code.endswith("Client.Validation")


def test_pix_key_of_the_wrong_type_is_refused(erp: zeep.Client) -> None:
    fault = refused(
        erp.service.CreatePaymentOrder,
        "pixKey: a phone key is",
        paymentOrder=order(
            paymentMethod="pix", pixKeyType="phone", pixKey="maria@example.com"
        ),
    )
    assert fault.code.endswith("Client.Validation")


def test_transfer_to_someone_else_is_refused(erp: zeep.Client) -> None:
    account = {
        "bankCode": "341",
        "agency": "1234",
        "account": "56789-0",
        "accountType": "checking",
        "holderTaxId": OTHER_CPF,
    }
    fault = refused(
        erp.service.CreatePaymentOrder,
        "bankAccount.holderTaxId: must be the beneficiary",
        paymentOrder=order(paymentMethod="transfer", bankAccount=account),
    )
    assert fault.code.endswith("Client.Validation")


def test_judicial_deposit_guide_round_trips(erp: zeep.Client) -> None:
    made = created(
        erp,
        type="judicial_deposit",
        paymentMethod="judicial_deposit",
        depositGuide={
            "bank": "104",
            "guideNumber": "2026/000123",
            "judicialAccount": "0650.005.123456-7",
        },
    )
    guide = made.depositGuide
    assert (guide.bank, guide.guideNumber, guide.cnjNumber) == (
        "cef",
        "2026000123",
        "00589677720168190000",
    )


def test_amount_that_is_not_the_net_is_refused(erp: zeep.Client) -> None:
    refused(
        erp.service.CreatePaymentOrder,
        r"amount: must be the net amount 1300\.00",
        paymentOrder=order(
            grossAmount="1500.00",
            withholdings={"withholding": [{"kind": "irrf", "amount": "200.00"}]},
        ),
    )


# Reading


def test_query_pages_the_orders_of_a_status(erp: zeep.Client) -> None:
    since = dt.datetime.now(dt.UTC)
    made = [created(erp, externalId=f"QP-{i}") for i in range(5)]
    erp.service.SubmitPaymentOrder(id=made[0].id)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = erp.service.QueryPaymentOrders(
            filter={"status": "created", "modifiedSince": since},
            pageSize=2,
            cursor=cursor,
        )
        items = page["items"]
        seen += [o.externalId for o in (items["paymentOrder"] if items else [])]
        cursor = page.nextCursor
        if cursor is None:
            break
    assert sorted(seen) == ["QP-1", "QP-2", "QP-3", "QP-4"]


def test_order_is_read_by_its_erp_key(erp: zeep.Client) -> None:
    made = created(erp)
    got = erp.service.GetPaymentOrder(sourceSystem="SAP", externalId=made.externalId)
    assert got.id == made.id


def test_auditor_reads_but_may_not_cancel(
    server: Installation, erp: zeep.Client
) -> None:
    made = created(erp)
    auditor = client(server, "audit")
    assert auditor.service.GetPaymentOrder(id=made.id).id == made.id
    page = auditor.service.QueryPaymentOrders(
        filter={"beneficiaryTaxId": CPF}, pageSize=1
    )
    assert page.nextCursor is not None
    fault = refused(
        auditor.service.CancelPaymentOrder,
        "may not call CancelPaymentOrder",
        id=made.id,
        reason="x",
    )
    assert fault.code.endswith("Client.Authorization")


# Delete


def test_created_order_is_deleted_and_left_out_of_queries(erp: zeep.Client) -> None:
    made = created(erp, lawsuitNumber="1234567-13.2024.8.26.0100")
    deleted = erp.service.DeletePaymentOrder(
        sourceSystem="SAP", externalId=made.externalId
    )
    assert deleted.id == made.id and deleted.deletedAt is not None
    assert erp.service.GetPaymentOrder(id=made.id).deletedAt == deleted.deletedAt
    where = {"lawsuitNumber": "1234567-13.2024.8.26.0100"}
    assert erp.service.QueryPaymentOrders(filter=where)["items"] is None
    page = erp.service.QueryPaymentOrders(filter={**where, "includeDeleted": True})
    assert [o.id for o in page["items"]["paymentOrder"]] == [made.id]


def test_approved_order_is_not_deleted(erp: zeep.Client) -> None:
    made = created(erp)
    erp.service.ApprovePaymentOrder(id=made.id)
    fault = refused(
        erp.service.DeletePaymentOrder,
        "an approved payment order is cancelled, not deleted",
        id=made.id,
    )
    assert fault.code.endswith("Client.Conflict")


def test_key_of_a_deleted_order_cannot_create_another(erp: zeep.Client) -> None:
    made = created(erp)
    erp.service.DeletePaymentOrder(id=made.id)
    fault = refused(
        erp.service.CreatePaymentOrder,
        "its key is spent",
        paymentOrder=order(externalId=made.externalId),
    )
    assert fault.code.endswith("Client.Conflict")


# Create many


def test_bulk_answers_each_item(erp: zeep.Client) -> None:
    existing = created(erp)
    fresh = order()
    result = erp.service.CreatePaymentOrders(
        paymentOrders={
            "paymentOrder": [
                fresh,
                order(amount="-5.00"),
                order(externalId=existing.externalId),
                order(externalId=existing.externalId, costCenter="JUR-09"),
                fresh,
            ]
        }
    )
    items = result["items"]["item"]
    assert [(i.outcome, i.faultCode) for i in items] == [
        ("created", None),
        ("refused", "Client.Validation"),
        ("unchanged", None),
        ("refused", "Client.Validation"),
        ("refused", "Client.Validation"),
    ]
    assert (result.accepted, result.refused) == (2, 3)
    got = erp.service.GetPaymentOrder(
        sourceSystem="SAP", externalId=fresh["externalId"]
    )
    assert got.id == items[0].id
    assert items[2].id == existing.id


def test_bulk_item_with_other_content_is_a_conflict(erp: zeep.Client) -> None:
    existing = created(erp)
    result = erp.service.CreatePaymentOrders(
        paymentOrders={
            "paymentOrder": [
                order(externalId=existing.externalId, costCenter="JUR-09"),
                order(),
            ]
        }
    )
    items = result["items"]["item"]
    assert [(i.outcome, i.faultCode) for i in items] == [
        ("refused", "Client.Conflict"),
        ("created", None),
    ]
    assert "already names a different payment order" in items[0].message


def test_auditor_may_not_delete_or_create_many(
    server: Installation, erp: zeep.Client
) -> None:
    made = created(erp)
    auditor = client(server, "audit")
    fault = refused(
        auditor.service.DeletePaymentOrder,
        "may not call DeletePaymentOrder",
        id=made.id,
    )
    assert fault.code.endswith("Client.Authorization")
    fault = refused(
        auditor.service.CreatePaymentOrders,
        "may not call CreatePaymentOrders",
        paymentOrders={"paymentOrder": [order()]},
    )
    assert fault.code.endswith("Client.Authorization")
