"""What every SOAP operation shares.

Each operation authenticates the caller, checks its role, runs one use case
and maps the result; every failure becomes a SOAP Fault with a stable code,
one sentence, and the correlation id that the log line and audit entry carry.
Every audit entry of a call also carries the SHA-256 of the request as
received (``request_sha256``) and its duration; a refused login names the
user it claimed to be (``claimedUser`` in the detail).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from lxml import etree
from spyne import Fault, Integer, Unicode

from adapter.app.context import CallContext, audit_failure
from adapter.audit.writer import AuditRecord
from adapter.credentials.roles import authorize
from adapter.errors import AuthenticationError, PonteError
from adapter.inbound import types as t
from adapter.storage.paging import MAX_PAGE, Cursor, decode_cursor, page_size
from adapter.xmlutil import SOAP11_ENV, WSSE

log = logging.getLogger("ponte.inbound")

R = TypeVar("R")
AUDITED = "ponte.audited"
RAW_BODY = "ponte.raw_body"  # the request as received, before any tidying


def runtime_of(ctx: Any) -> Any:
    return ctx.app.ponte_runtime


def _client_address(ctx: Any) -> str | None:
    environ = getattr(ctx.transport, "req_env", None) or {}
    return environ.get("REMOTE_ADDR")


def _peer_certificate(environ: dict[str, Any]) -> bytes | None:
    """The TLS client certificate (DER) when gunicorn terminates TLS."""
    sock = environ.get("gunicorn.socket")
    getpeercert = getattr(sock, "getpeercert", None)
    if getpeercert is None:
        return None
    try:
        der = getpeercert(binary_form=True)
    except ValueError:  # the handshake is not done
        return None
    return der if isinstance(der, bytes) and der else None


@dataclass(frozen=True)
class InboundCall(CallContext):
    """A SOAP call: its audit entries carry the request's digest, and a refused
    login the user name it claimed."""

    request_sha256: str | None = None
    claimed_user: str | None = None

    def audit_record(
        self,
        outcome: str,
        *,
        fault_code: str | None = None,
        record_type: str | None = None,
        record_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditRecord:
        if self.claimed_user is not None:
            detail = {**(detail or {}), "claimedUser": self.claimed_user}
        entry = super().audit_record(
            outcome,
            fault_code=fault_code,
            record_type=record_type,
            record_id=record_id,
            detail=detail,
        )
        return dataclasses.replace(entry, request_sha256=self.request_sha256)


def request_sha256(environ: dict[str, Any]) -> str | None:
    """SHA-256 of the request as received, for its audit entry."""
    raw = environ.get(RAW_BODY)
    return hashlib.sha256(raw).hexdigest() if raw is not None else None


def _claimed_user(header: Any, authorization: str | None) -> str | None:
    """The user name a refused request gave (UsernameToken, else HTTP Basic)."""
    name = None
    if header is not None:
        name = header.findtext(
            f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken/{{{WSSE}}}Username"
        )
    if not name and authorization and authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        name = decoded.partition(":")[0]
    name = (name or "").strip()[:80]
    return name or None


def run_operation(ctx: Any, name: str, work: Callable[[CallContext], R]) -> R:
    """Authenticate, authorize, run ``work`` and turn errors into faults.

    The nonce that authentication accepts is stored in the call's own
    transaction (``Database.defer``), or with the audit entry of its failure.
    """
    runtime = runtime_of(ctx)
    with runtime.db.call():
        return _run(ctx, runtime, name, work)


def _run(ctx: Any, runtime: Any, name: str, work: Callable[[CallContext], R]) -> R:
    environ = getattr(ctx.transport, "req_env", None)
    if environ is not None:
        environ[AUDITED] = True
    environ = environ or {}
    call = InboundCall(
        actor="anonymous",
        channel="soap",
        operation=name,
        client_address=_client_address(ctx),
        request_sha256=request_sha256(environ),
    )
    header = None
    try:
        header = ctx.in_document.find(f"{{{SOAP11_ENV}}}Header")
        user = runtime.authenticator.authenticate(
            header,
            authorization=environ.get("HTTP_AUTHORIZATION"),
            raw_body=environ.get(RAW_BODY),
            client_certificate=_peer_certificate(environ),
        )
        call = dataclasses.replace(call, actor=user.name)
        authorize(user.name, user.role, name)
        result = work(call)
        runtime.db.store_deferred()
    except PonteError as exc:
        error = _store_nonce_of_failed_call(runtime) or exc
        _refuse(runtime, call, error, _claimed_user_of(header, environ, error), exc)
    except Exception as exc:
        log.exception(
            "soap op=%s user=%s outcome=error cid=%s",
            name,
            call.actor,
            call.correlation_id,
        )
        replay = _store_nonce_of_failed_call(runtime)
        if replay is not None:  # a replayed request: that is the answer
            _refuse(
                runtime, call, replay, _claimed_user_of(header, environ, replay), exc
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


def _claimed_user_of(
    header: Any, environ: dict[str, Any], error: PonteError
) -> str | None:
    if not isinstance(error, AuthenticationError):
        return None
    return _claimed_user(header, environ.get("HTTP_AUTHORIZATION"))


def _refuse(
    runtime: Any,
    call: InboundCall,
    error: PonteError,
    claimed_user: str | None,
    cause: BaseException,
) -> NoReturn:
    """Audit and log a refused call, and raise its fault."""
    if claimed_user is not None:
        call = dataclasses.replace(call, claimed_user=claimed_user)
    _record_failure(runtime, call, error.code, str(error))
    log.info(
        "soap op=%s user=%s outcome=fault code=%s ms=%d cid=%s",
        call.operation,
        call.actor,
        error.code,
        call.elapsed_ms(),
        call.correlation_id,
    )
    raise _fault(error.code, str(error), call.correlation_id) from cause


def _store_nonce_of_failed_call(runtime: Any) -> AuthenticationError | None:
    """Store the nonce that the failed call's rolled-back work did not.

    A request that failed once is refused as a replay the next time, as it
    was before it failed. Returns the replay error when the nonce was
    already used: that, not what the work said, is the answer to give. A
    nonce that cannot be stored is dropped, so that the failure's audit
    entry can still be written.
    """
    try:
        runtime.db.store_deferred()
    except AuthenticationError as replay:
        runtime.db.drop_deferred()
        return replay
    except Exception:
        runtime.db.drop_deferred()
        log.exception("the nonce of a failed call could not be stored")
    return None


def _fault(code: str, message: str, correlation_id: str) -> Fault:
    detail = etree.Element(f"{{{t.TNS}}}faultDetail", nsmap={"p": t.TNS})
    etree.SubElement(detail, f"{{{t.TNS}}}code").text = code
    etree.SubElement(detail, f"{{{t.TNS}}}correlationId").text = correlation_id
    return Fault(faultcode=code, faultstring=message, detail=detail)


def _record_failure(runtime: Any, call: CallContext, code: str, message: str) -> None:
    audit_failure(runtime.db, runtime.audit, call, code, message)


# How a record is named in Get and Delete: by Ponte's id or by the ERP's key.
KEY_ARGS = (Unicode(max_len=36), Unicode(max_len=40), Unicode(max_len=80))
KEY_NAMES = {
    "record_id": "id",
    "source_system": "sourceSystem",
    "external_id": "externalId",
}
PAGE_ARGS = {"where": "filter", "size": "pageSize", "cursor": "cursor"}
PAGE_SIZE = Integer(ge=1, le=MAX_PAGE)


def page(size: int | None, cursor: str | None) -> tuple[Cursor | None, int]:
    return decode_cursor(cursor), page_size(size)
