"""Payment orders: create one or many, approval, the ERP's callbacks, read, delete."""

from __future__ import annotations

from spyne import Array, Date, Unicode, rpc

from adapter.app.context import CallContext
from adapter.errors import ValidationError
from adapter.inbound import mapping as m
from adapter.inbound import mapping_payment_orders as mp
from adapter.inbound import types as t
from adapter.inbound import types_payment_orders as tp
from adapter.inbound.operations.base import (
    KEY_ARGS,
    KEY_NAMES,
    PAGE_ARGS,
    PAGE_SIZE,
    page,
    run_operation,
    runtime_of,
)


# A fresh type per operation: spyne names a shared one after its first user.
def _id_arg() -> type[Unicode]:
    return Unicode(max_len=36, min_occurs=1)


def _reason_arg() -> type[Unicode]:
    return Unicode(max_len=250, min_occurs=1)


def _order_id(order_id: str | None) -> str:
    if not order_id or not order_id.strip():
        raise ValidationError("id", "is required")
    return order_id.strip()


@rpc(
    t.PaymentOrderInput.customize(min_occurs=1),
    _returns=t.CreatePaymentOrderResult,
    _in_arg_names={"order": "paymentOrder"},
)
def CreatePaymentOrder(ctx, order):
    def work(call: CallContext) -> t.CreatePaymentOrderResult:
        data = mp.order_data(m.required(order, "paymentOrder"))
        view, outcome = runtime_of(ctx).legal.create_payment_order(call, data)
        return t.CreatePaymentOrderResult(
            paymentOrder=mp.order_out(view), outcome=outcome
        )

    return run_operation(ctx, "CreatePaymentOrder", work)


@rpc(
    Array(
        t.PaymentOrderInput.customize(nillable=False), member_name="paymentOrder"
    ).customize(min_occurs=1),
    _returns=t.BulkResult,
    _in_arg_names={"orders": "paymentOrders"},
)
def CreatePaymentOrders(ctx, orders):
    def work(call: CallContext) -> t.BulkResult:
        items = runtime_of(ctx).legal.create_payment_orders(
            call, orders or [], mp.order_data
        )
        return m.bulk_out(items)

    return run_operation(ctx, "CreatePaymentOrders", work)


@rpc(_id_arg(), _returns=t.PaymentOrder, _in_arg_names={"order_id": "id"})
def SubmitPaymentOrder(ctx, order_id):
    def work(call: CallContext) -> t.PaymentOrder:
        legal = runtime_of(ctx).legal
        return mp.order_out(legal.submit_payment_order(call, _order_id(order_id)))

    return run_operation(ctx, "SubmitPaymentOrder", work)


@rpc(_id_arg(), _returns=t.PaymentOrder, _in_arg_names={"order_id": "id"})
def ApprovePaymentOrder(ctx, order_id):
    def work(call: CallContext) -> t.PaymentOrder:
        legal = runtime_of(ctx).legal
        return mp.order_out(legal.approve_payment_order(call, _order_id(order_id)))

    return run_operation(ctx, "ApprovePaymentOrder", work)


@rpc(
    _id_arg(),
    _reason_arg(),
    _returns=t.PaymentOrder,
    _in_arg_names={"order_id": "id", "reason": "reason"},
)
def RejectPaymentOrder(ctx, order_id, reason):
    def work(call: CallContext) -> t.PaymentOrder:
        legal = runtime_of(ctx).legal
        view = legal.reject_payment_order(call, _order_id(order_id), reason)
        return mp.order_out(view)

    return run_operation(ctx, "RejectPaymentOrder", work)


@rpc(
    _id_arg(),
    _reason_arg(),
    _returns=t.PaymentOrder,
    _in_arg_names={"order_id": "id", "reason": "reason"},
)
def CancelPaymentOrder(ctx, order_id, reason):
    def work(call: CallContext) -> t.PaymentOrder:
        legal = runtime_of(ctx).legal
        view = legal.cancel_payment_order(call, _order_id(order_id), reason)
        return mp.order_out(view)

    return run_operation(ctx, "CancelPaymentOrder", work)


@rpc(
    _id_arg(),
    Unicode(max_len=100, min_occurs=1),
    _returns=t.PaymentOrder,
    _in_arg_names={"order_id": "id", "document_number": "documentNumber"},
)
def ConfirmPaymentOrderRegistered(ctx, order_id, document_number):
    def work(call: CallContext) -> t.PaymentOrder:
        legal = runtime_of(ctx).legal
        view = legal.confirm_payment_order_registered(
            call, _order_id(order_id), document_number
        )
        return mp.order_out(view)

    return run_operation(ctx, "ConfirmPaymentOrderRegistered", work)


@rpc(
    _id_arg(),
    Date.customize(min_occurs=1),
    Unicode(max_len=200),
    _returns=t.PaymentOrder,
    _in_arg_names={
        "order_id": "id",
        "payment_date": "paymentDate",
        "receipt": "receipt",
    },
)
def ConfirmPaymentOrderPaid(ctx, order_id, payment_date, receipt):
    def work(call: CallContext) -> t.PaymentOrder:
        legal = runtime_of(ctx).legal
        view = legal.confirm_payment_order_paid(
            call, _order_id(order_id), payment_date, receipt
        )
        return mp.order_out(view)

    return run_operation(ctx, "ConfirmPaymentOrderPaid", work)


@rpc(*KEY_ARGS, _returns=t.PaymentOrder, _in_arg_names=KEY_NAMES)
def GetPaymentOrder(ctx, record_id, source_system, external_id):
    def work(call: CallContext) -> t.PaymentOrder:
        order_id, key = m.record_key(record_id, source_system, external_id)
        view = runtime_of(ctx).legal.get_payment_order(call, order_id, key=key)
        return mp.order_out(view)

    return run_operation(ctx, "GetPaymentOrder", work)


@rpc(*KEY_ARGS, _returns=t.PaymentOrder, _in_arg_names=KEY_NAMES)
def DeletePaymentOrder(ctx, record_id, source_system, external_id):
    def work(call: CallContext) -> t.PaymentOrder:
        order_id, key = m.record_key(record_id, source_system, external_id)
        view = runtime_of(ctx).legal.delete_payment_order(call, order_id, key=key)
        return mp.order_out(view)

    return run_operation(ctx, "DeletePaymentOrder", work)


@rpc(
    tp.PaymentOrderFilter,
    PAGE_SIZE,
    Unicode(max_len=200),
    _returns=tp.PaymentOrderPage,
    _in_arg_names=PAGE_ARGS,
)
def QueryPaymentOrders(ctx, where, size, cursor):
    def work(call: CallContext) -> tp.PaymentOrderPage:
        after, limit = page(size, cursor)
        views, following = runtime_of(ctx).legal.query_payment_orders(
            call, mp.order_filter(where), after, limit
        )
        return mp.page_out(views, following)

    return run_operation(ctx, "QueryPaymentOrders", work)


OPERATIONS = {
    "CreatePaymentOrder": CreatePaymentOrder,
    "CreatePaymentOrders": CreatePaymentOrders,
    "SubmitPaymentOrder": SubmitPaymentOrder,
    "ApprovePaymentOrder": ApprovePaymentOrder,
    "RejectPaymentOrder": RejectPaymentOrder,
    "CancelPaymentOrder": CancelPaymentOrder,
    "ConfirmPaymentOrderRegistered": ConfirmPaymentOrderRegistered,
    "ConfirmPaymentOrderPaid": ConfirmPaymentOrderPaid,
    "GetPaymentOrder": GetPaymentOrder,
    "DeletePaymentOrder": DeletePaymentOrder,
    "QueryPaymentOrders": QueryPaymentOrders,
}
