"""The one seam between Ponte and partner SOAP endpoints.

``SoapCaller.call`` builds the envelope with zeep from the partner's WSDL,
adds WS-Addressing and a WS-Security XML-DSig signature, posts it, and reads
the answer. Failures come out as ``TransportError``, ``HttpStatusError`` or
``RemoteFault``; nothing from requests or zeep escapes.

What went out and what came back travel with the result (``CallResult``) or
with the error (``request_text`` and ``response_text`` on the ``RemoteError``)
so that the attempt can keep them; the delivery layer redacts and cuts them
before they are stored.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
import zeep
import zeep.exceptions
from lxml import etree

from adapter.config import Settings, TargetSettings
from adapter.errors import (
    ConfigurationError,
    HttpStatusError,
    RemoteError,
    RemoteFault,
    TransportError,
)
from adapter.outbound.retry_after import parse_retry_after
from adapter.outbound.wsdl import load_wsdl
from adapter.signing import SigningKey, shared_keyring, sign_envelope
from adapter.signing.wsse import add_username_token
from adapter.xmlutil import SOAP11_ENV, WSA

log = logging.getLogger("ponte.outbound")


@dataclass(frozen=True)
class CallResult:
    result: Any
    http_status: int
    duration_ms: int
    # What was sent and received, for the attempt's record (the delivery layer
    # redacts and cuts them before storing).
    request_text: str | None = None
    response_text: str | None = None


@dataclass
class _Endpoint:
    client: zeep.Client
    binding: Any
    address: str


class SoapCaller:
    """Calls targets; WSDLs and keys are loaded once and kept."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._endpoints: dict[str, _Endpoint] = {}
        self._keys: dict[str, SigningKey] = {}
        self._lock = threading.Lock()

    def prepare(self, target: TargetSettings) -> None:
        """Load the target's WSDL now, so errors show at start-up."""
        self._endpoint(target)

    def prepare_key(self, target: TargetSettings) -> None:
        """Load the active key of the target's signing name now."""
        if target.signing_key:
            self._key(target.signing_key)

    def call(
        self,
        target: TargetSettings,
        params: dict[str, str],
        *,
        message_id: str,
        operation: str | None = None,
    ) -> CallResult:
        """Call ``operation`` (default: the target's) with ``params``.

        ``message_id`` becomes the envelope's ``wsa:MessageID``. Raises
        ``TransportError`` (``sent`` says whether the request left whole),
        ``HttpStatusError`` or ``RemoteFault``, each carrying what was sent
        and what came back.
        """
        name = operation or target.operation
        endpoint = self._endpoint(target)
        soap_operation = endpoint.binding.get(name)
        envelope = endpoint.client.create_message(
            endpoint.client.create_service(endpoint.binding.name, endpoint.address),
            name,
            **params,
        )
        _drop_zeep_addressing(envelope)
        if not target.signing_key:
            _add_unsigned_addressing(
                envelope, message_id, soap_operation.soapaction, endpoint.address
            )
        else:
            sign_envelope(
                envelope,
                self._key(target.signing_key),
                message_id=message_id,
                action=soap_operation.soapaction,
                to=endpoint.address,
            )
        token_user = target.auth.username_token_user
        if token_user:
            add_username_token(
                envelope,
                token_user,
                target.auth.username_token_password() or "",
                digest=target.auth.username_token_digest,
            )
        headers = {
            "SOAPAction": f'"{soap_operation.soapaction or ""}"',
            "Content-Type": "text/xml; charset=utf-8",
        }
        sent = _request_text(endpoint, target, headers, envelope)
        started = time.perf_counter()
        try:
            response = self._post(endpoint, target, envelope, headers)
            duration_ms = int((time.perf_counter() - started) * 1000)
            answer = _response_text(response)
            result = self._read(endpoint, soap_operation, name, response)
        except RemoteError as exc:
            exc.request_text = sent
            raise
        return CallResult(result, response.status_code, duration_ms, sent, answer)

    def _post(
        self,
        endpoint: _Endpoint,
        target: TargetSettings,
        envelope: etree._Element,
        headers: dict[str, str],
    ) -> requests.Response:
        try:
            return endpoint.client.transport.post_xml(
                endpoint.address, envelope, headers
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise TransportError(
                f"{target.name}: connect timed out", sent=False
            ) from exc
        except requests.exceptions.ReadTimeout as exc:
            raise TransportError(
                f"{target.name}: timed out waiting for the answer", sent=True
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            sent = "refused" not in str(exc).lower()
            raise TransportError(
                f"{target.name}: connection failed: {_short(exc)}", sent=sent
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise TransportError(f"{target.name}: {_short(exc)}") from exc

    def _read(
        self,
        endpoint: _Endpoint,
        soap_operation: Any,
        name: str,
        response: requests.Response,
    ) -> Any:
        try:
            return endpoint.binding.process_reply(
                endpoint.client, soap_operation, response
            )
        except zeep.exceptions.Fault as exc:
            fault = RemoteFault(str(exc.code or ""), str(exc.message or ""), name)
            raise _answered(fault, response) from exc
        except zeep.exceptions.TransportError as exc:
            raise _answered(
                _status_error(exc.status_code, name, response), response
            ) from exc
        except (zeep.exceptions.Error, etree.XMLSyntaxError) as exc:
            if response.status_code >= 400:
                failure = _status_error(response.status_code, name, response)
                raise _answered(failure, response) from exc
            unreadable = RemoteFault("Server.Unreadable", _short(exc), name)
            raise _answered(unreadable, response) from exc

    def _endpoint(self, target: TargetSettings) -> _Endpoint:
        with self._lock:
            found = self._endpoints.get(target.name)
            if found is None:
                found = _load_endpoint(target)
                self._endpoints[target.name] = found
            return found

    def _key(self, name: str) -> SigningKey:
        # ponte.toml keys and the keyring's; a rotation reaches us within seconds.
        return shared_keyring(self._settings).signing_key_for(name)


def _load_endpoint(target: TargetSettings) -> _Endpoint:
    if target.wsdl is None:
        raise ConfigurationError(f"target {target.name} is not a soap target")
    client = load_wsdl(
        target.wsdl, bundle=target.schema_bundle, timeout=target.timeout_seconds
    )
    session = client.transport.session
    if target.auth.basic_user:
        session.auth = (target.auth.basic_user, target.auth.basic_password() or "")
    if target.auth.client_cert is not None:
        key = target.auth.client_key
        cert = str(target.auth.client_cert)
        session.cert = (cert, str(key)) if key is not None else cert
    client.transport.operation_timeout = target.timeout_seconds
    for service in client.wsdl.services.values():
        for name, port in service.ports.items():
            wanted = target.port is None or name == target.port
            if wanted and target.operation in port.binding._operations:
                address = target.endpoint or port.binding_options["address"]
                return _Endpoint(client, port.binding, address)
    raise ConfigurationError(
        f"target {target.name}: no port {target.port or '(any)'} with operation "
        f"{target.operation} in {target.wsdl}"
    )


def _drop_zeep_addressing(envelope: etree._Element) -> None:
    """zeep adds its own WS-Addressing headers (with a random MessageID) when the
    WSDL declares actions; Ponte sets them itself, with the delivery's id."""
    header = envelope.find(f"{{{SOAP11_ENV}}}Header")
    if header is None:
        return
    for child in list(header):
        if isinstance(child.tag, str) and etree.QName(child).namespace == WSA:
            header.remove(child)


def _add_unsigned_addressing(
    envelope: etree._Element, message_id: str, action: str | None, to: str
) -> None:
    header = envelope.find(f"{{{SOAP11_ENV}}}Header")
    if header is None:
        header = etree.Element(f"{{{SOAP11_ENV}}}Header")
        envelope.insert(0, header)
    for name, value in (("MessageID", message_id), ("Action", action), ("To", to)):
        if value:
            etree.SubElement(header, f"{{{WSA}}}{name}").text = value


def _request_text(
    endpoint: _Endpoint,
    target: TargetSettings,
    headers: dict[str, str],
    envelope: etree._Element,
) -> str:
    """The request as sent: line, headers, body (Basic credentials not shown)."""
    lines = [f"POST {endpoint.address}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if target.auth.basic_user:
        lines.append("Authorization: Basic ***")
    body = etree.tostring(envelope, encoding="unicode")
    return "\n".join(lines) + "\n\n" + body


def _response_text(response: requests.Response) -> str:
    lines = [f"HTTP {response.status_code} {response.reason or ''}".rstrip()]
    for name in ("Content-Type", "Retry-After"):
        if name in response.headers:
            lines.append(f"{name}: {response.headers[name]}")
    return "\n".join(lines) + "\n\n" + response.text


def _status_error(
    status: int, operation: str, response: requests.Response
) -> HttpStatusError:
    wait = parse_retry_after(
        response.headers.get("Retry-After"), dt.datetime.now(dt.UTC)
    )
    return HttpStatusError(status, operation, retry_after=wait)


def _answered(exc: RemoteError, response: requests.Response) -> RemoteError:
    exc.response_text = _response_text(response)
    return exc


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
