"""The SOAP operations of ``urn:ponte:legal:v1``.

Each operation authenticates the caller, checks its role, runs one use case
and maps the result; every failure becomes a SOAP Fault with a stable code,
one sentence, and the correlation id that the log line and audit entry carry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from lxml import etree
from spyne import Fault, ServiceBase, Unicode, rpc

from adapter.app.context import CallContext, audit_failure
from adapter.app.legal import PartyView, PaymentOrderView
from adapter.credentials.roles import authorize
from adapter.domain.parties import validate_party
from adapter.domain.payments import validate_payment_order
from adapter.errors import PonteError, ValidationError
from adapter.inbound import types as t
from adapter.xmlutil import SOAP11_ENV

log = logging.getLogger("ponte.inbound")

R = TypeVar("R")
AUDITED = "ponte.audited"


def _runtime(ctx: Any) -> Any:
    return ctx.app.ponte_runtime


def _client_address(ctx: Any) -> str | None:
    environ = getattr(ctx.transport, "req_env", None) or {}
    return environ.get("REMOTE_ADDR")


def run_operation(ctx: Any, name: str, work: Callable[[CallContext], R]) -> R:
    """Authenticate, authorize, run ``work`` and turn errors into faults."""
    runtime = _runtime(ctx)
    call = CallContext(
        actor="anonymous",
        channel="soap",
        operation=name,
        client_address=_client_address(ctx),
    )
    environ = getattr(ctx.transport, "req_env", None)
    if environ is not None:
        environ[AUDITED] = True
    try:
        header = ctx.in_document.find(f"{{{SOAP11_ENV}}}Header")
        environ = getattr(ctx.transport, "req_env", None) or {}
        user = runtime.authenticator.authenticate(
            header, authorization=environ.get("HTTP_AUTHORIZATION")
        )
        call = CallContext(
            actor=user.name,
            channel="soap",
            operation=name,
            client_address=call.client_address,
            correlation_id=call.correlation_id,
            started=call.started,
        )
        authorize(user.name, user.role, name)
        result = work(call)
    except PonteError as exc:
        _record_failure(runtime, call, exc.code, str(exc))
        log.info(
            "soap op=%s user=%s outcome=fault code=%s ms=%d cid=%s",
            name,
            call.actor,
            exc.code,
            call.elapsed_ms(),
            call.correlation_id,
        )
        raise _fault(exc.code, str(exc), call.correlation_id) from exc
    except Exception as exc:
        log.exception(
            "soap op=%s user=%s outcome=error cid=%s",
            name,
            call.actor,
            call.correlation_id,
        )
        _record_failure(runtime, call, "Server.Internal", type(exc).__name__)
        raise _fault(
            "Server.Internal",
            "an internal error occurred; nothing was changed",
            call.correlation_id,
        ) from exc
    log.info(
        "soap op=%s user=%s outcome=ok ms=%d cid=%s",
        name,
        call.actor,
        call.elapsed_ms(),
        call.correlation_id,
    )
    return result


def _fault(code: str, message: str, correlation_id: str) -> Fault:
    detail = etree.Element(f"{{{t.TNS}}}faultDetail", nsmap={"p": t.TNS})
    etree.SubElement(detail, f"{{{t.TNS}}}code").text = code
    etree.SubElement(detail, f"{{{t.TNS}}}correlationId").text = correlation_id
    return Fault(faultcode=code, faultstring=message, detail=detail)


def _record_failure(runtime: Any, call: CallContext, code: str, message: str) -> None:
    audit_failure(runtime.db, runtime.audit, call, code, message)


def _party(view: PartyView) -> t.Party:
    return t.Party(
        id=view.id,
        sourceSystem=view.source_system,
        externalId=view.external_id,
        kind=view.kind,
        taxId=view.tax_id,
        name=view.name,
        createdAt=view.created_at,
        updatedAt=view.updated_at,
    )


def _order(view: PaymentOrderView) -> t.PaymentOrder:
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
    )


def _required(value: t.ComplexModel | None, field: str) -> Any:
    if value is None:
        raise ValidationError(field, "is required")
    return value


class LegalSoapService(ServiceBase):
    """Parties and payment orders."""

    @rpc(t.PartyInput.customize(min_occurs=1), _returns=t.UpsertPartyResult)
    def UpsertParty(ctx, party):
        def work(call: CallContext) -> t.UpsertPartyResult:
            p = _required(party, "party")
            data = validate_party(p.sourceSystem, p.externalId, p.kind, p.name, p.taxId)
            view, outcome = _runtime(ctx).legal.upsert_party(call, data)
            return t.UpsertPartyResult(party=_party(view), outcome=outcome)

        return run_operation(ctx, "UpsertParty", work)

    @rpc(
        Unicode(max_len=36),
        Unicode(max_len=40),
        Unicode(max_len=80),
        _returns=t.Party,
        _in_arg_names={
            "party_id": "id",
            "source_system": "sourceSystem",
            "external_id": "externalId",
        },
    )
    def GetParty(ctx, party_id, source_system, external_id):
        def work(call: CallContext) -> t.Party:
            if not party_id and not (source_system and external_id):
                raise ValidationError("id", "give id, or sourceSystem and externalId")
            view = _runtime(ctx).legal.get_party(
                call,
                party_id=party_id,
                source_system=source_system,
                external_id=external_id,
            )
            return _party(view)

        return run_operation(ctx, "GetParty", work)

    @rpc(
        t.PaymentOrderInput.customize(min_occurs=1),
        _returns=t.CreatePaymentOrderResult,
        _in_arg_names={"order": "paymentOrder"},
    )
    def CreatePaymentOrder(ctx, order):
        def work(call: CallContext) -> t.CreatePaymentOrderResult:
            o = _required(order, "paymentOrder")
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
            view, outcome = _runtime(ctx).legal.create_payment_order(call, data)
            return t.CreatePaymentOrderResult(
                paymentOrder=_order(view), outcome=outcome
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
            return _order(_runtime(ctx).legal.approve_payment_order(call, order_id))

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
            return _order(_runtime(ctx).legal.get_payment_order(call, order_id))

        return run_operation(ctx, "GetPaymentOrder", work)
