"""The WSGI application factory: the one seam of the inbound side.

In front of spyne sits a small WSGI layer that spyne does not provide:
routing, a body-size limit, refusal of DTDs before spyne sees them (a DOCTYPE
makes spyne's validator fail with a plain-text 500), and an audit entry for
requests that never reach an operation.
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree
from spyne import Application
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from adapter.audit.writer import AuditRecord
from adapter.inbound.service import AUDITED, LegalSoapService
from adapter.inbound.types import TNS
from adapter.runtime import Runtime
from adapter.xmlutil import SOAP11_ENV, safe_parser

log = logging.getLogger("ponte.inbound")

SOAP_PATH = "/soap/v1"
StartResponse = Callable[..., Any]
Environ = dict[str, Any]


def quiet_spyne() -> None:
    """spyne logs rejected requests whole (passwords included): silence it."""
    logging.getLogger("spyne").setLevel(logging.CRITICAL)


def build_spyne_app(url: str) -> WsgiApplication:
    """spyne's application with its WSDL built for ``url`` (not the first caller's)."""
    application = Application(
        [LegalSoapService],
        tns=TNS,
        name="Ponte",
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )
    wsgi = WsgiApplication(application)
    wsgi.doc.wsdl11.build_interface_document(url)
    # spyne serves this cached copy for every ?wsdl request from now on.
    wsgi._wsdl = canonical_wsdl(wsgi.doc.wsdl11.get_interface_document())
    return wsgi


_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_XS = "http://www.w3.org/2001/XMLSchema"
_WSDL_ORDER = ("documentation", "types", "message", "portType", "binding", "service")
_SCHEMA_ORDER = ("import", "simpleType", "complexType", "element")


def canonical_wsdl(document: bytes) -> bytes:
    """Put spyne's WSDL in one stable order.

    spyne emits schema types in set order, which changes from process to
    process (spyne #530), and some SAP proxy generators want portType, binding
    and service in that order (spyne PR #247). Children are sorted by kind,
    then by name.
    """
    root = etree.fromstring(document, safe_parser())
    _sort_children(root, _WSDL, _WSDL_ORDER)
    for schema in root.iter(f"{{{_XS}}}schema"):
        _sort_children(schema, _XS, _SCHEMA_ORDER)
    return etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )


def _sort_children(parent: etree._Element, ns: str, order: tuple[str, ...]) -> None:
    def key(child: etree._Element) -> tuple[int, str]:
        local = etree.QName(child).localname if isinstance(child.tag, str) else ""
        rank = (
            order.index(local)
            if local in order and etree.QName(child).namespace == ns
            else len(order)
        )
        return rank, child.get("name") or child.get("namespace") or ""

    children = sorted(parent, key=key)
    for child in children:
        child.tail = None
        parent.append(child)


def wsdl_document(url: str) -> bytes:
    """The published WSDL for ``url``, as ``ponte wsdl`` writes it."""
    document: bytes = build_spyne_app(url)._wsdl
    return document


def fault_envelope(code: str, message: str, correlation_id: str) -> bytes:
    """A SOAP 1.1 Fault for errors caught before spyne."""
    env = etree.Element(f"{{{SOAP11_ENV}}}Envelope", nsmap={"soap": SOAP11_ENV})
    body = etree.SubElement(env, f"{{{SOAP11_ENV}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP11_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"soap:{code}"
    etree.SubElement(fault, "faultstring").text = message
    detail = etree.SubElement(
        etree.SubElement(fault, "detail"), f"{{{TNS}}}faultDetail"
    )
    etree.SubElement(detail, f"{{{TNS}}}code").text = code
    etree.SubElement(detail, f"{{{TNS}}}correlationId").text = correlation_id
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


class PonteWsgi:
    """Routes, guards and audits requests in front of spyne."""

    def __init__(self, runtime: Runtime) -> None:
        quiet_spyne()
        self.runtime = runtime
        self.max_body = runtime.settings.server.max_body_bytes
        self.spyne = build_spyne_app(runtime.settings.server.soap_url)
        self.spyne.app.ponte_runtime = runtime  # read by the service's operations

    def __call__(
        self, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "").rstrip("/") or "/"
        if path == "/health":
            return _plain(start_response, "200 OK", b"ok\n")
        if path != SOAP_PATH:
            return _plain(
                start_response, "404 Not Found", b"not found; SOAP is at /soap/v1\n"
            )
        if environ.get("REQUEST_METHOD") != "POST":
            return self.spyne(environ, start_response)
        return self._post(environ, start_response)

    def _post(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        correlation_id = uuid.uuid4().hex
        body, problem = self._read_body(environ)
        if problem is not None:
            code, message = problem
            self._audit_rejected(environ, code, message, correlation_id, started)
            payload = fault_envelope(code, message, correlation_id)
            log.info("soap op=- outcome=fault code=%s cid=%s", code, correlation_id)
            return _xml(start_response, "500 Internal Server Error", payload)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        _default_soap_action(environ)
        status: list[str] = []

        def capture(code: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            status.append(code)
            return start_response(code, headers, *rest)

        result = list(self.spyne(environ, capture))
        if not environ.get(AUDITED):
            ok = bool(status) and status[0].startswith("200")
            self._audit_rejected(
                environ,
                "Client.Request" if not ok else "-",
                "rejected by the SOAP layer",
                correlation_id,
                started,
                outcome="ok" if ok else "fault",
            )
        return result

    def _read_body(self, environ: Environ) -> tuple[bytes, tuple[str, str] | None]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return b"", ("Client.Request", "Content-Length is not a number")
        if length > self.max_body:
            return b"", (
                "Client.TooLarge",
                f"the request body exceeds {self.max_body} bytes",
            )
        body = environ["wsgi.input"].read(length) if length else b""
        if not body:
            return b"", ("Client.Request", "the request body is empty")
        try:
            root = etree.fromstring(body, safe_parser())
        except etree.XMLSyntaxError as exc:
            return body, (
                "Client.XMLSyntax",
                f"the request is not well-formed XML: {exc}",
            )
        if root.getroottree().docinfo.doctype:
            return body, (
                "Client.DTDForbidden",
                "a DOCTYPE is not allowed in a SOAP request",
            )
        return body, None

    def _audit_rejected(
        self,
        environ: Environ,
        code: str,
        message: str,
        correlation_id: str,
        started: float,
        outcome: str = "fault",
    ) -> None:
        try:
            with self.runtime.db.transaction() as session:
                self.runtime.audit.record(
                    session,
                    AuditRecord(
                        actor="anonymous",
                        channel="soap",
                        action="-",
                        outcome=outcome,
                        fault_code=code if outcome == "fault" else None,
                        correlation_id=correlation_id,
                        client_address=environ.get("REMOTE_ADDR"),
                        duration_ms=int((time.perf_counter() - started) * 1000),
                        detail={"message": message},
                    ),
                )
        except Exception:
            log.exception("audit write failed cid=%s", correlation_id)


def _default_soap_action(environ: Environ) -> None:
    """A missing SOAPAction is fine: spyne routes on the body element."""
    environ.setdefault("HTTP_SOAPACTION", '""')


def _plain(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(
        status,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def _xml(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(
        status,
        [
            ("Content-Type", "text/xml; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def create_app(runtime: Runtime) -> PonteWsgi:
    """The WSGI application for ``runtime``."""
    return PonteWsgi(runtime)
