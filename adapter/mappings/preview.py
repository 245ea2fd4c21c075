"""What a target would be sent for an event: the HTTP request, envelope and all.

The envelope is built the way the delivery builds it: the target's mapping,
its profile's parameters, zeep from the target's WSDL, WS-Addressing, and the
WS-Security signature when the target has a signing key. The signature is
made with a throwaway key and its values are then replaced by placeholders,
so its shape (references, algorithms, KeyName) is the real one while no key
of the target is read. Secrets (Basic credentials, password elements and
pairs) come out as ``***``.

Nothing is sent. A WSDL given by URL is fetched (one INFO log line).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import zeep
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from adapter import xmlutil
from adapter.config import TargetSettings
from adapter.delivery.redact import redact
from adapter.domain.events import EVENTS_NS
from adapter.errors import ConfigurationError, MappingError
from adapter.mappings.catalog import ProfileFolder
from adapter.mappings.xslt import Mapping
from adapter.outbound.profiles import PROFILES, Profile
from adapter.outbound.wsdl import load_wsdl
from adapter.signing.keys import SigningKey
from adapter.signing.wsse import sign_envelope
from adapter.xmlutil import DS, SOAP11_ENV, WSA, WSU

MESSAGE_ID = "urn:uuid:(one per delivery, the same on every attempt)"
_PLACEHOLDERS = {
    f"{{{DS}}}DigestValue": "(digest, computed when sent)",
    f"{{{DS}}}SignatureValue": "(signature value, computed when sent)",
    f"{{{DS}}}X509Certificate": "(certificate of the signing key)",
    f"{{{WSU}}}Created": "(time of sending)",
    f"{{{WSU}}}Expires": "(time of sending + 300 s)",
}


def profile_named(name: str) -> Profile:
    """The profile object for ``name``; ``ConfigurationError`` lists the known."""
    found = PROFILES.get(name)
    if found is None:
        known = ", ".join(sorted(PROFILES))
        raise ConfigurationError(f"unknown profile {name} (known: {known})")
    return found


@dataclass(frozen=True)
class Request:
    """An HTTP request as it would go out; ``text`` is redacted."""

    method_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""

    @property
    def text(self) -> str:
        lines = [self.method_line, *(f"{k}: {v}" for k, v in self.headers)]
        return redact("\n".join(lines) + "\n\n" + self.body)


def target_for_folder(folder: ProfileFolder) -> TargetSettings:
    """A target made from a profile folder's contract, to preview without one.

    Built without validation: a profile of this release may not be one the
    settings accept yet.
    """
    contract = folder.contract
    fields: dict[str, Any] = {
        "name": f"(profile {folder.name})",
        "kind": folder.kind,
        "profile": folder.profile,
        "wsdl": str(contract.wsdl) if contract.wsdl else None,
        "schema_bundle": contract.bundle,
        "endpoint": None,
        "port": contract.port,
        "operation": contract.operation or "",
        "mapping": folder.path,
        "url": "https://gate.example.com/ponte" if folder.kind == "http" else None,
        "body_format": "xml",
        "params": dict(contract.params),
        "signing_key": None,
        "timeout_seconds": 30.0,
    }
    return TargetSettings.model_construct(**fields)


def preview(
    target: TargetSettings, event_xml: bytes, *, mapping: Mapping | None = None
) -> Request:
    """The request ``target`` would be sent for ``event_xml`` (a canonical event).

    Raises ``MappingError`` when the mapping fails (or has nothing to send),
    ``ContractError`` when the WSDL cannot be loaded and
    ``ConfigurationError`` for a target that cannot be previewed.
    """
    if mapping is None and target.mapping is not None:
        mapping = Mapping.load(target.mapping)
    if target.kind == "http":
        return _http_request(target, event_xml, mapping)
    if mapping is None:
        raise ConfigurationError(f"target {target.name} has no mapping")
    mapped = mapping.apply(event_xml)
    params = profile_named(target.profile).parameters(target, mapped)
    return _soap_request(target, params)


def _http_request(
    target: TargetSettings, event_xml: bytes, mapping: Mapping | None
) -> Request:
    if mapping is not None:
        body = etree.tostring(
            mapping.apply(event_xml), encoding="unicode", pretty_print=True
        )
        content_type = "application/xml"
    elif target.body_format == "json":
        from adapter.outbound.event_json import EventJson

        body = EventJson().convert(event_xml).decode("utf-8")
        content_type = "application/json"
    else:
        body, content_type = event_xml.decode("utf-8"), "application/xml"
    headers = [
        ("Content-Type", content_type),
        ("webhook-id", MESSAGE_ID),
        ("webhook-timestamp", "(time of sending)"),
        ("webhook-signature", "(Standard Webhooks signature, computed when sent)"),
        ("X-Ponte-Event-Type", _event_type(event_xml)),
    ]
    if target.auth.basic_user:
        headers.append(("Authorization", "Basic ***"))
    return Request(f"POST {target.url}", headers, body)


def _soap_request(target: TargetSettings, params: dict[str, Any]) -> Request:
    if target.wsdl is None:
        raise ConfigurationError(
            f"target {target.name} has no WSDL to build the envelope from"
        )
    client = load_wsdl(
        target.wsdl, bundle=target.schema_bundle, timeout=target.timeout_seconds
    )
    binding, address = _binding(client, target)
    envelope = client.create_message(
        client.create_service(binding.name, address), target.operation, **params
    )
    action = binding.get(target.operation).soapaction
    _drop_zeep_addressing(envelope)
    if target.signing_key:
        sign_envelope(
            envelope,
            _throwaway_key(target.signing_key),
            message_id=MESSAGE_ID,
            action=action,
            to=address,
        )
        _placeholders(envelope)
    else:
        _add_addressing(envelope, action, address)
    headers = [
        ("SOAPAction", f'"{action or ""}"'),
        ("Content-Type", "text/xml; charset=utf-8"),
    ]
    if target.auth.basic_user:
        headers.append(("Authorization", "Basic ***"))
    body = etree.tostring(envelope, encoding="unicode", pretty_print=True)
    return Request(f"POST {address}", headers, body)


def _binding(client: zeep.Client, target: TargetSettings) -> tuple[Any, str]:
    """The binding and address the delivery would use (first port that has
    the operation, or the target's ``port``)."""
    for service in client.wsdl.services.values():
        for name, port in service.ports.items():
            wanted = target.port is None or name == target.port
            if wanted and target.operation in port.binding._operations:
                return port.binding, target.endpoint or port.binding_options["address"]
    raise ConfigurationError(
        f"target {target.name}: no port {target.port or '(any)'} with operation "
        f"{target.operation} in {target.wsdl}"
    )


def _drop_zeep_addressing(envelope: etree._Element) -> None:
    header = envelope.find(f"{{{SOAP11_ENV}}}Header")
    if header is None:
        return
    for child in list(header):
        if isinstance(child.tag, str) and etree.QName(child).namespace == WSA:
            header.remove(child)


def _add_addressing(envelope: etree._Element, action: str | None, to: str) -> None:
    header = envelope.find(f"{{{SOAP11_ENV}}}Header")
    if header is None:
        header = etree.Element(f"{{{SOAP11_ENV}}}Header")
        envelope.insert(0, header)
    for name, value in (("MessageID", MESSAGE_ID), ("Action", action), ("To", to)):
        if value:
            etree.SubElement(header, f"{{{WSA}}}{name}").text = value


def _placeholders(envelope: etree._Element) -> None:
    for tag, text in _PLACEHOLDERS.items():
        for element in envelope.iter(tag):
            element.text = text


def _throwaway_key(key_id: str) -> SigningKey:
    """A fresh RSA key and certificate named ``key_id``; never written anywhere."""
    key = rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ponte preview")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return SigningKey(key_id, key, certificate)


def _event_type(event_xml: bytes) -> str:
    try:
        root = xmlutil.parse(event_xml)
    except etree.XMLSyntaxError as exc:
        raise MappingError(f"the event is not well-formed XML: {exc}") from exc
    return (root.findtext(f"{{{EVENTS_NS}}}type") or "").strip()
