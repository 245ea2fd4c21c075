"""Payment orders: create, approve, read."""

from __future__ import annotations

from spyne import Unicode, rpc

from adapter.app.context import CallContext
from adapter.domain.payments import validate_payment_order
from adapter.errors import ValidationError
from adapter.inbound import mapping as m
from adapter.inbound import types as t
from adapter.inbound.operations.base import (
    run_operation,
    runtime_of,
)


@rpc(
    t.PaymentOrderInput.customize(min_occurs=1),
    _returns=t.CreatePaymentOrderResult,
    _in_arg_names={"order": "paymentOrder"},
)
def CreatePaymentOrder(ctx, order):
    def work(call: CallContext) -> t.CreatePaymentOrderResult:
        o = m.required(order, "paymentOrder")
        data = validate_payment_order(
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
        view, outcome = runtime_of(ctx).legal.create_payment_order(call, data)
        return t.CreatePaymentOrderResult(
            paymentOrder=m.order_out(view), outcome=outcome
        )

    return run_operation(ctx, "CreatePaymentOrder", work)


@rpc(
    Unicode(max_len=36, min_occurs=1),
    _returns=t.PaymentOrder,
    _in_arg_names={"order_id": "id"},
)
def ApprovePaymentOrder(ctx, order_id):
    def work(call: CallContext) -> t.PaymentOrder:
        if not order_id:
            raise ValidationError("id", "is required")
        return m.order_out(runtime_of(ctx).legal.approve_payment_order(call, order_id))

    return run_operation(ctx, "ApprovePaymentOrder", work)


@rpc(
    Unicode(max_len=36, min_occurs=1),
    _returns=t.PaymentOrder,
    _in_arg_names={"order_id": "id"},
)
def GetPaymentOrder(ctx, order_id):
    def work(call: CallContext) -> t.PaymentOrder:
        if not order_id:
            raise ValidationError("id", "is required")
        return m.order_out(runtime_of(ctx).legal.get_payment_order(call, order_id))

    return run_operation(ctx, "GetPaymentOrder", work)


OPERATIONS = {
    "CreatePaymentOrder": CreatePaymentOrder,
    "ApprovePaymentOrder": ApprovePaymentOrder,
    "GetPaymentOrder": GetPaymentOrder,
}
