"""Sign outbound SOAP 1.1 envelopes in the WS-Security header.

The signature is detached (signxml ``methods.detached``) and covers three
elements by ``#Id``: the soap:Body, the wsu:Timestamp and the wsa:MessageID.
It is then placed in ``wsse:Security``. Both SignedInfo and the references use
exclusive c14n: with inclusive C14N the namespaces of ``wsse:Security`` and its
ancestors would enter SignedInfo once the signature is inserted, and no
receiver could verify it (stack-notes §4B).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import uuid

from lxml import etree
from signxml import SignatureConstructionMethod, SignatureMethod, XMLSigner
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm
from signxml.exceptions import SignXMLException

from adapter.errors import SignatureError
from adapter.signing.keys import SigningKey
from adapter.xmlutil import SOAP11_ENV, WSA, WSSE, WSU

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_NSMAP_WSA: dict[str | None, str] = {"wsa": WSA}
_NSMAP_MESSAGE_ID: dict[str | None, str] = {"wsa": WSA, "wsu": WSU}
_NSMAP_WSSE: dict[str | None, str] = {"wsse": WSSE, "wsu": WSU}
_WSU_ID = f"{{{WSU}}}Id"


def sign_envelope(
    envelope: etree._Element,
    key: SigningKey,
    *,
    message_id: str,
    action: str | None = None,
    to: str | None = None,
    created: dt.datetime | None = None,
    ttl_seconds: int = 300,
) -> etree._Element:
    """Add WS-Addressing and a signed WS-Security header to ``envelope``, in place.

    ``created`` must be timezone-aware; it defaults to now (UTC). The envelope is
    returned for convenience. Raises ``ValueError`` for an envelope that is not
    SOAP 1.1, has no Body or already has a wsa:MessageID, and ``SignatureError``
    if signxml refuses to sign.
    """
    body = _body_of(envelope)
    header = _ensure_header(envelope)
    ids = _new_ids()

    _add_addressing(header, ids["MessageID"], message_id, action=action, to=to)
    security = _ensure_security(header)
    _add_timestamp(security, ids["Timestamp"], created, ttl_seconds)
    body.set(_WSU_ID, ids["Body"])

    security.append(_detached_signature(envelope, key, list(ids.values())))
    return envelope


def format_timestamp(moment: dt.datetime) -> str:
    """Render an aware datetime as ``YYYY-MM-DDThh:mm:ssZ`` in UTC."""
    return moment.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def _body_of(envelope: etree._Element) -> etree._Element:
    """Return the soap:Body, refusing anything but a SOAP 1.1 envelope."""
    if envelope.tag != f"{{{SOAP11_ENV}}}Envelope":
        raise ValueError(f"not a SOAP 1.1 envelope: {envelope.tag}")
    body = envelope.find(f"{{{SOAP11_ENV}}}Body")
    if body is None:
        raise ValueError("the SOAP envelope has no Body")
    return body


def _ensure_header(envelope: etree._Element) -> etree._Element:
    """Return the soap:Header, creating it as the first child if needed."""
    header = envelope.find(f"{{{SOAP11_ENV}}}Header")
    if header is None:
        header = etree.Element(f"{{{SOAP11_ENV}}}Header")
        envelope.insert(0, header)
    return header


def _new_ids() -> dict[str, str]:
    """Fresh wsu:Id values for the three signed elements, in reference order."""
    token = uuid.uuid4().hex
    return {
        "Body": f"id-body-{token}",
        "Timestamp": f"id-ts-{token}",
        "MessageID": f"id-msgid-{token}",
    }


def _add_addressing(
    header: etree._Element,
    element_id: str,
    message_id: str,
    *,
    action: str | None,
    to: str | None,
) -> None:
    """Append wsa:MessageID (with a wsu:Id) and, when given, wsa:Action and wsa:To."""
    if not message_id:
        raise ValueError("message_id must not be empty")
    if header.find(f"{{{WSA}}}MessageID") is not None:
        raise ValueError("the envelope already has a wsa:MessageID")

    msg = _text_child(header, f"{{{WSA}}}MessageID", message_id, _NSMAP_MESSAGE_ID)
    msg.set(_WSU_ID, element_id)
    for local_name, value in (("Action", action), ("To", to)):
        if value is not None:
            _text_child(header, f"{{{WSA}}}{local_name}", value, _NSMAP_WSA)


def _ensure_security(header: etree._Element) -> etree._Element:
    """Return the wsse:Security header (mustUnderstand="1"), creating it if needed."""
    security = header.find(f"{{{WSSE}}}Security")
    if security is None:
        security = etree.SubElement(header, f"{{{WSSE}}}Security", nsmap=_NSMAP_WSSE)
    security.set(f"{{{SOAP11_ENV}}}mustUnderstand", "1")
    return security


def _add_timestamp(
    security: etree._Element,
    element_id: str,
    created: dt.datetime | None,
    ttl_seconds: int,
) -> None:
    """Insert wsu:Timestamp as the first child of wsse:Security."""
    if created is None:
        created = dt.datetime.now(dt.UTC)
    elif created.tzinfo is None:
        raise ValueError("created must be timezone-aware")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    # Whole seconds: Expires is computed from the Created that is written.
    created = created.replace(microsecond=0)

    timestamp = etree.Element(f"{{{WSU}}}Timestamp", nsmap={"wsu": WSU})
    timestamp.set(_WSU_ID, element_id)
    _text_child(timestamp, f"{{{WSU}}}Created", format_timestamp(created))
    expires = created + dt.timedelta(seconds=ttl_seconds)
    _text_child(timestamp, f"{{{WSU}}}Expires", format_timestamp(expires))
    security.insert(0, timestamp)


def _detached_signature(
    envelope: etree._Element, key: SigningKey, ids: list[str]
) -> etree._Element:
    """Sign the elements carrying ``ids`` and return the lone ds:Signature."""
    signer = XMLSigner(
        method=SignatureConstructionMethod.detached,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod(EXC_C14N),
    )
    try:
        return signer.sign(
            envelope,
            key=key.private_key,
            cert=[key.certificate],
            reference_uri=[f"#{element_id}" for element_id in ids],
            key_name=key.key_id,
        )
    except SignXMLException as exc:
        raise SignatureError("the envelope cannot be signed") from exc


def _text_child(
    parent: etree._Element,
    tag: str,
    text: str,
    nsmap: dict[str | None, str] | None = None,
) -> etree._Element:
    """Append a child element holding ``text``."""
    child = etree.SubElement(parent, tag, nsmap=nsmap)
    child.text = text
    return child


def add_username_token(
    envelope: etree._Element,
    user: str,
    password: str,
    *,
    digest: bool = True,
    now: dt.datetime | None = None,
) -> None:
    """Put a WS-Security UsernameToken into the envelope's wsse:Security.

    With ``digest`` the password travels as Base64(SHA-1(nonce + created +
    password)) with a fresh Nonce and Created (UsernameToken Profile 1.1);
    otherwise as PasswordText, for partners that only take that over TLS.
    A signature already in the header is not affected: it covers Body,
    Timestamp and MessageID by reference.
    """
    security = _ensure_security(_ensure_header(envelope))
    token = etree.SubElement(security, f"{{{WSSE}}}UsernameToken")
    _text_child(token, f"{{{WSSE}}}Username", user, None)
    profile = (
        "http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-username-token-profile-1.0"
    )
    if digest:
        nonce = os.urandom(16)
        created = format_timestamp(now or dt.datetime.now(dt.UTC))
        value = hashlib.sha1(nonce + created.encode() + password.encode()).digest()  # noqa: S324 (the profile's algorithm)
        secret = _text_child(
            token, f"{{{WSSE}}}Password", base64.b64encode(value).decode(), None
        )
        secret.set("Type", f"{profile}#PasswordDigest")
        encoded = _text_child(
            token, f"{{{WSSE}}}Nonce", base64.b64encode(nonce).decode(), None
        )
        encoded.set(
            "EncodingType",
            "http://docs.oasis-open.org/wss/2004/01/"
            "oasis-200401-wss-soap-message-security-1.0#Base64Binary",
        )
        _text_child(token, f"{{{WSU}}}Created", created, None)
    else:
        secret = _text_child(token, f"{{{WSSE}}}Password", password, None)
        secret.set("Type", f"{profile}#PasswordText")
