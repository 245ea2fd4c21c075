"""The one seam between Ponte and partner SOAP endpoints.

``SoapCaller.call`` builds the envelope with zeep from the partner's WSDL,
adds WS-Addressing and a WS-Security XML-DSig signature, posts it, and reads
the answer. Failures come out as ``TransportError``, ``HttpStatusError`` or
``RemoteFault``; nothing from requests or zeep escapes.
"""

from __future__ import annotations

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
    RemoteFault,
    TransportError,
)
from adapter.outbound.wsdl import load_wsdl
from adapter.signing import SigningKey, load_signing_key, sign_envelope
from adapter.xmlutil import SOAP11_ENV, WSA

log = logging.getLogger("ponte.outbound")


@dataclass(frozen=True)
class CallResult:
    result: Any
    http_status: int
    duration_ms: int
    # What was sent and received, secrets redacted, for the attempt's record.
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
        """Load the target's signing key now."""
        if target.signing_key:
            self._key(target.signing_key)

    def call(
        self, target: TargetSettings, params: dict[str, str], *, message_id: str
    ) -> CallResult:
        endpoint = self._endpoint(target)
        operation = _operation(endpoint, target)
        envelope = endpoint.client.create_message(
            endpoint.client.create_service(endpoint.binding.name, endpoint.address),
            target.operation,
            **params,
        )
        _drop_zeep_addressing(envelope)
        if not target.signing_key:
            _add_unsigned_addressing(
                envelope, message_id, operation.soapaction, endpoint.address
            )
        else:
            sign_envelope(
                envelope,
                self._key(target.signing_key),
                message_id=message_id,
                action=operation.soapaction,
                to=endpoint.address,
            )
        headers = {
            "SOAPAction": f'"{operation.soapaction or ""}"',
            "Content-Type": "text/xml; charset=utf-8",
        }
        started = time.perf_counter()
        response = self._post(endpoint, target, envelope, headers)
        duration_ms = int((time.perf_counter() - started) * 1000)
        result = self._read(endpoint, operation, target, response)
        return CallResult(result, response.status_code, duration_ms)

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
        operation: Any,
        target: TargetSettings,
        response: requests.Response,
    ) -> Any:
        try:
            return endpoint.binding.process_reply(endpoint.client, operation, response)
        except zeep.exceptions.Fault as exc:
            raise RemoteFault(
                str(exc.code or ""), str(exc.message or ""), target.operation
            ) from exc
        except zeep.exceptions.TransportError as exc:
            raise HttpStatusError(exc.status_code, target.operation) from exc
        except (zeep.exceptions.Error, etree.XMLSyntaxError) as exc:
            if response.status_code >= 400:
                raise HttpStatusError(response.status_code, target.operation) from exc
            raise RemoteFault(
                "Server.Unreadable", _short(exc), target.operation
            ) from exc

    def _endpoint(self, target: TargetSettings) -> _Endpoint:
        with self._lock:
            found = self._endpoints.get(target.name)
            if found is None:
                found = _load_endpoint(target)
                self._endpoints[target.name] = found
            return found

    def _key(self, key_id: str) -> SigningKey:
        with self._lock:
            key = self._keys.get(key_id)
            if key is None:
                spec = self._settings.signing_key(key_id)
                key = load_signing_key(spec.id, spec.key, spec.cert)
                self._keys[key_id] = key
            return key


def _load_endpoint(target: TargetSettings) -> _Endpoint:
    if target.wsdl is None:
        raise ConfigurationError(f"target {target.name} is not a soap target")
    client = load_wsdl(
        target.wsdl, bundle=target.schema_bundle, timeout=target.timeout_seconds
    )
    session = client.transport.session
    if target.auth.basic_user:
        session.auth = (target.auth.basic_user, target.auth.basic_password() or "")
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


def _operation(endpoint: _Endpoint, target: TargetSettings) -> Any:
    return endpoint.binding.get(target.operation)


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
