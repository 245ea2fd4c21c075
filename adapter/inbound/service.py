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
from spyne import Array, Fault, Integer, ServiceBase, Unicode, rpc

from adapter.app.context import CallContext, audit_failure
from adapter.credentials.roles import authorize
from adapter.domain.payments import validate_payment_order
from adapter.errors import PonteError, ValidationError
from adapter.inbound import mapping as m
from adapter.inbound import types as t
from adapter.storage.paging import MAX_PAGE, Cursor, decode_cursor, page_size
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


# How a record is named in Get and Delete: by Ponte's id or by the ERP's key.
_KEY_ARGS = (Unicode(max_len=36), Unicode(max_len=40), Unicode(max_len=80))
_KEY_NAMES = {
    "record_id": "id",
    "source_system": "sourceSystem",
    "external_id": "externalId",
}
_PAGE_ARGS = {"where": "filter", "size": "pageSize", "cursor": "cursor"}
_PAGE_SIZE = Integer(ge=1, le=MAX_PAGE)


def _page(size: int | None, cursor: str | None) -> tuple[Cursor | None, int]:
    return decode_cursor(cursor), page_size(size)


class LegalSoapService(ServiceBase):
    """Parties, lawsuits and payment orders."""

    # Parties

    @rpc(t.PartyInput.customize(min_occurs=1), _returns=t.UpsertPartyResult)
    def UpsertParty(ctx, party):
        def work(call: CallContext) -> t.UpsertPartyResult:
            data = m.party_data(m.required(party, "party"))
            view, outcome = _runtime(ctx).parties.upsert(call, data)
            return t.UpsertPartyResult(party=m.party_out(view), outcome=outcome)

        return run_operation(ctx, "UpsertParty", work)

    @rpc(
        Array(t.PartyInput.customize(nillable=False), member_name="party").customize(
            min_occurs=1
        ),
        _returns=t.BulkResult,
    )
    def UpsertParties(ctx, parties):
        def work(call: CallContext) -> t.BulkResult:
            items = _runtime(ctx).parties.upsert_many(call, parties or [], m.party_data)
            return m.bulk_out(items)

        return run_operation(ctx, "UpsertParties", work)

    @rpc(*_KEY_ARGS, _returns=t.Party, _in_arg_names=_KEY_NAMES)
    def GetParty(ctx, record_id, source_system, external_id):
        def work(call: CallContext) -> t.Party:
            party_id, key = m.record_key(record_id, source_system, external_id)
            view = _runtime(ctx).parties.get(call, party_id=party_id, key=key)
            return m.party_out(view)

        return run_operation(ctx, "GetParty", work)

    @rpc(*_KEY_ARGS, _returns=t.Party, _in_arg_names=_KEY_NAMES)
    def DeleteParty(ctx, record_id, source_system, external_id):
        def work(call: CallContext) -> t.Party:
            party_id, key = m.record_key(record_id, source_system, external_id)
            view = _runtime(ctx).parties.delete(call, party_id=party_id, key=key)
            return m.party_out(view)

        return run_operation(ctx, "DeleteParty", work)

    @rpc(
        t.PartyFilter,
        _PAGE_SIZE,
        Unicode(max_len=200),
        _returns=t.PartyPage,
        _in_arg_names=_PAGE_ARGS,
    )
    def QueryParties(ctx, where, size, cursor):
        def work(call: CallContext) -> t.PartyPage:
            after, limit = _page(size, cursor)
            rows, following = _runtime(ctx).parties.query(
                call, m.party_filter(where), after, limit
            )
            return t.PartyPage(
                items=[m.party_out(r) for r in rows], nextCursor=following
            )

        return run_operation(ctx, "QueryParties", work)

    # Lawsuits

    @rpc(t.LawsuitInput.customize(min_occurs=1), _returns=t.UpsertLawsuitResult)
    def UpsertLawsuit(ctx, lawsuit):
        def work(call: CallContext) -> t.UpsertLawsuitResult:
            data = m.lawsuit_data(m.required(lawsuit, "lawsuit"))
            view, outcome = _runtime(ctx).lawsuits.upsert(call, data)
            return t.UpsertLawsuitResult(lawsuit=m.lawsuit_out(view), outcome=outcome)

        return run_operation(ctx, "UpsertLawsuit", work)

    @rpc(
        Array(
            t.LawsuitInput.customize(nillable=False), member_name="lawsuit"
        ).customize(min_occurs=1),
        _returns=t.BulkResult,
    )
    def UpsertLawsuits(ctx, lawsuits):
        def work(call: CallContext) -> t.BulkResult:
            items = _runtime(ctx).lawsuits.upsert_many(
                call, lawsuits or [], m.lawsuit_data
            )
            return m.bulk_out(items)

        return run_operation(ctx, "UpsertLawsuits", work)

    @rpc(*_KEY_ARGS, _returns=t.Lawsuit, _in_arg_names=_KEY_NAMES)
    def GetLawsuit(ctx, record_id, source_system, external_id):
        def work(call: CallContext) -> t.Lawsuit:
            lawsuit_id, key = m.record_key(record_id, source_system, external_id)
            view = _runtime(ctx).lawsuits.get(call, lawsuit_id=lawsuit_id, key=key)
            return m.lawsuit_out(view)

        return run_operation(ctx, "GetLawsuit", work)

    @rpc(*_KEY_ARGS, _returns=t.Lawsuit, _in_arg_names=_KEY_NAMES)
    def DeleteLawsuit(ctx, record_id, source_system, external_id):
        def work(call: CallContext) -> t.Lawsuit:
            lawsuit_id, key = m.record_key(record_id, source_system, external_id)
            view = _runtime(ctx).lawsuits.delete(call, lawsuit_id=lawsuit_id, key=key)
            return m.lawsuit_out(view)

        return run_operation(ctx, "DeleteLawsuit", work)

    @rpc(
        t.LawsuitFilter,
        _PAGE_SIZE,
        Unicode(max_len=200),
        _returns=t.LawsuitPage,
        _in_arg_names=_PAGE_ARGS,
    )
    def QueryLawsuits(ctx, where, size, cursor):
        def work(call: CallContext) -> t.LawsuitPage:
            after, limit = _page(size, cursor)
            rows, following = _runtime(ctx).lawsuits.query(
                call, m.lawsuit_filter(where), after, limit
            )
            items = [m.lawsuit_out(r) for r in rows]
            return t.LawsuitPage(items=items, nextCursor=following)

        return run_operation(ctx, "QueryLawsuits", work)

    # Payment orders

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
            view, outcome = _runtime(ctx).legal.create_payment_order(call, data)
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
            return m.order_out(
                _runtime(ctx).legal.approve_payment_order(call, order_id)
            )

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
            return m.order_out(_runtime(ctx).legal.get_payment_order(call, order_id))

        return run_operation(ctx, "GetPaymentOrder", work)
