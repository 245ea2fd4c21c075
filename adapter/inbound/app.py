"""The WSGI application factory: the one seam of the inbound side.

In front of spyne sits a small WSGI layer that spyne does not provide:
routing, a body-size limit, refusal of DTDs before spyne sees them (a DOCTYPE
makes spyne's validator fail with a plain-text 500), and an audit entry for
requests that never reach an operation.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import spyne.const
from lxml import etree
from spyne import Application
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from adapter.app.context import audit_failure
from adapter.inbound.fastxml import CompiledSoap11
from adapter.inbound.operations.base import RAW_BODY, InboundCall, request_sha256
from adapter.inbound.service import AUDITED, LegalSoapService
from adapter.inbound.types import TNS
from adapter.runtime import Runtime
from adapter.storage.models import DELIVERY_LEASE, SchedulerLease
from adapter.xmlutil import SOAP11_ENV, WSA, WSSE, safe_parser

log = logging.getLogger("ponte.inbound")

SOAP_PATH = "/soap/v1"
StartResponse = Callable[..., Any]
Environ = dict[str, Any]


def quiet_spyne() -> None:
    """spyne logs rejected requests whole (passwords included): silence it.

    spyne also forces a full garbage collection at most once a second per
    process, which measured 80-100 ms with Ponte loaded and showed in the p99;
    Python's own collector is left to do that work.
    """
    logging.getLogger("spyne").setLevel(logging.CRITICAL)
    spyne.const.MIN_GC_INTERVAL = float("inf")


def build_spyne_app(url: str, max_body: int = 20 * 1024 * 1024) -> WsgiApplication:
    """spyne's application with its WSDL built for ``url`` (not the first caller's).

    spyne's own limits are lifted to ours: its default body limit is 2 MiB,
    and libxml2 refuses text nodes over 10 MB (an AFD file in base64) unless
    ``huge_tree`` is on. DTDs never reach it (``check_envelope``).
    """
    in_protocol = Soap11(
        validator="lxml",
        huge_tree=True,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
    )
    application = Application(
        [LegalSoapService],
        tns=TNS,
        name="Ponte",
        in_protocol=in_protocol,
        out_protocol=CompiledSoap11(),
    )
    wsgi = WsgiApplication(application, max_content_length=max_body)
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
        self.spyne = build_spyne_app(runtime.settings.server.soap_url, self.max_body)
        self.spyne.app.ponte_runtime = runtime  # read by the service's operations

    def __call__(
        self, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "").rstrip("/") or "/"
        if path == "/health":
            return self._health(start_response)
        if path != SOAP_PATH:
            return _plain(
                start_response, "404 Not Found", b"not found; SOAP is at /soap/v1\n"
            )
        if environ.get("REQUEST_METHOD") != "POST":
            return self.spyne(environ, start_response)
        return self._post(environ, start_response)

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        """200 while the database answers; says whether a delivery worker runs."""
        try:
            worker = delivery_worker_state(self.runtime)
        except Exception:
            log.exception("health check: the database does not answer")
            body = b'{"database": "unavailable"}\n'
            return _json(start_response, "503 Service Unavailable", body)
        text = json.dumps({"database": "ok", "delivery_worker": worker})
        return _json(start_response, "200 OK", text.encode() + b"\n")

    def _post(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        correlation_id = uuid.uuid4().hex
        body, problem = self._read_body(environ)
        if problem is None:
            prepared, problem = check_envelope(body)
            if prepared is not body:
                body = prepared
                environ["CONTENT_TYPE"] = "text/xml; charset=utf-8"
        if problem is not None:
            return self._refuse(
                environ, start_response, problem, correlation_id, started
            )
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        _default_soap_action(environ)
        captured: list[tuple[str, list[tuple[str, str]]]] = []

        def capture(code: str, headers: list[tuple[str, str]], *_: Any) -> Any:
            captured.append((code, headers))
            return lambda data: None  # spyne returns its body; nothing is written early

        result = b"".join(self.spyne(environ, capture))
        status, headers = captured[0]
        if environ.get(AUDITED) or status.startswith("200"):
            start_response(status, headers)
            return [result]
        # spyne refused the request before any operation ran (schema, routing).
        return self._refuse(
            environ, start_response, spyne_fault(result), correlation_id, started
        )

    def _refuse(
        self,
        environ: Environ,
        start_response: StartResponse,
        problem: tuple[str, str],
        correlation_id: str,
        started: float,
    ) -> Iterable[bytes]:
        code, message = problem
        self._audit_rejected(environ, code, message, correlation_id, started)
        log.info("soap op=- outcome=fault code=%s cid=%s", code, correlation_id)
        payload = fault_envelope(code, message, correlation_id)
        return _xml(start_response, "500 Internal Server Error", payload)

    def _read_body(self, environ: Environ) -> tuple[bytes, tuple[str, str] | None]:
        """The whole body, Content-Length or chunked, refused past the limit."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return b"", ("Client.Request", "Content-Length is not a number")
        too_large = (
            "Client.TooLarge",
            f"the request body exceeds {self.max_body} bytes",
        )
        if length > self.max_body:
            return b"", too_large
        stream = environ["wsgi.input"]
        body = (
            stream.read(length) if length >= 0 else _read_all(stream, self.max_body + 1)
        )
        if len(body) > self.max_body:
            return b"", too_large
        environ[RAW_BODY] = body  # as received, whole: its digest is audited
        if not body:
            return b"", ("Client.Request", "the request body is empty")
        return body, None

    def _audit_rejected(
        self,
        environ: Environ,
        code: str,
        message: str,
        correlation_id: str,
        started: float,
    ) -> None:
        call = InboundCall(
            actor="anonymous",
            channel="soap",
            operation="-",
            client_address=environ.get("REMOTE_ADDR"),
            correlation_id=correlation_id,
            started=started,
            request_sha256=request_sha256(environ),
        )
        audit_failure(self.runtime.db, self.runtime.audit, call, code, message)


_SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_LXML_PREFIX = re.compile(r"^(<string>)?:\d+:\d+:ERROR:[A-Z]+:[A-Z0-9_]+: ")
# libxml2 quotes the offending value: it may be a whole document or personal
# data, and never goes back to the client or into the audit trail.
_QUOTED_VALUE = re.compile(r"(?<=': )'[^']*'?|(?<=The value )'[^']*'?")
_MAX_MESSAGE = 300


Problem = tuple[str, str]
_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_MUST_UNDERSTAND = f"{{{SOAP11_ENV}}}mustUnderstand"
# Header blocks Ponte processes (WS-Security) or accepts as information.
_UNDERSTOOD = frozenset({WSSE, WSA, "http://schemas.xmlsoap.org/ws/2004/08/addressing"})


def check_envelope(body: bytes) -> tuple[bytes, Problem | None]:
    """Refuse, before spyne, what spyne would answer badly or not at all.

    Returns the body to hand to spyne: the same bytes, or, when the request
    has empty elements (which sloppy clients send for "no value"), the
    envelope re-serialised as UTF-8 without them.
    """
    try:
        root = etree.fromstring(body, safe_parser(huge_tree=True))
    except etree.XMLSyntaxError as exc:
        if _DOCTYPE.search(body[:65536]):
            return body, (
                "Client.DTDForbidden",
                "a DOCTYPE is not allowed in a SOAP request",
            )
        return body, (
            "Client.XMLSyntax",
            f"the request is not well-formed XML (line {exc.lineno}): {exc.msg}",
        )
    problem = _envelope_problem(root)
    if problem is not None:
        return body, problem
    operation = next(
        c for c in root.find(f"{{{SOAP11_ENV}}}Body") if isinstance(c.tag, str)
    )
    if _drop_empty_elements(operation):
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), None
    return body, None


def _envelope_problem(root: etree._Element) -> Problem | None:
    if root.getroottree().docinfo.doctype:
        return "Client.DTDForbidden", "a DOCTYPE is not allowed in a SOAP request"
    if root.tag == f"{{{_SOAP12_ENV}}}Envelope":
        return "VersionMismatch", "only SOAP 1.1 envelopes are accepted at /soap/v1"
    if root.tag != f"{{{SOAP11_ENV}}}Envelope":
        return "Client.Request", "the request is not a SOAP 1.1 Envelope"
    header = root.find(f"{{{SOAP11_ENV}}}Header")
    for block in header if header is not None else ():
        if not isinstance(block.tag, str):
            continue
        must = block.get(_MUST_UNDERSTAND) in ("1", "true")
        if must and etree.QName(block).namespace not in _UNDERSTOOD:
            return "MustUnderstand", f"header {block.tag} is not understood"
    body_el = root.find(f"{{{SOAP11_ENV}}}Body")
    if body_el is None or len([c for c in body_el if isinstance(c.tag, str)]) != 1:
        return "Client.Request", "the SOAP Body must hold exactly one operation element"
    return None


def _drop_empty_elements(operation: etree._Element) -> bool:
    """Remove empty and nil elements below ``operation``; True if any went."""
    dropped = False
    for element in reversed(list(operation.iterdescendants())):
        if not isinstance(element.tag, str) or len(element):
            continue
        nil = element.get(_XSI_NIL) in ("true", "1")
        empty = not (element.text or "").strip() and not _attributes_besides_nil(
            element
        )
        if nil or empty:
            parent = element.getparent()
            if parent is not None:
                _remove_keeping_tail(parent, element)
                dropped = True
    return dropped


def _attributes_besides_nil(element: etree._Element) -> bool:
    return any(name != _XSI_NIL for name in element.attrib)


def _remove_keeping_tail(parent: etree._Element, element: etree._Element) -> None:
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def spyne_fault(response: bytes) -> tuple[str, str]:
    """The code and message of a fault spyne wrote, without spyne's prefixes."""
    try:
        root = etree.fromstring(response, safe_parser())
    except etree.XMLSyntaxError:
        return "Server.Internal", "the request could not be processed"
    code = root.findtext(f".//{{{SOAP11_ENV}}}Fault/faultcode") or "Server.Internal"
    message = root.findtext(f".//{{{SOAP11_ENV}}}Fault/faultstring") or ""
    code = code.split(":", 1)[-1]
    message = _QUOTED_VALUE.sub("'…'", _LXML_PREFIX.sub("", message.strip()))
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return code, message or "the request was refused"


def _read_all(stream: Any, limit: int) -> bytes:
    """Read a body without Content-Length (chunked), at most ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = stream.read(min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _default_soap_action(environ: Environ) -> None:
    """A missing SOAPAction is fine: spyne routes on the body element."""
    environ.setdefault("HTTP_SOAPACTION", '""')


def delivery_worker_state(runtime: Runtime) -> str:
    """``running`` while a worker holds a fresh lease, else ``stopped``."""
    if not runtime.settings.targets:
        return "no targets configured"
    now = datetime.datetime.now(datetime.UTC)
    with runtime.db.transaction() as session:
        lease = session.get(SchedulerLease, DELIVERY_LEASE)
        return "running" if lease is not None and lease.expires_at > now else "stopped"


def _json(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


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
