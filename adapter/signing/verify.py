"""Verify WS-Security signatures on inbound SOAP 1.1 envelopes.

The checks, in order: the ds:Signature sits in ``soap:Header/wsse:Security``;
the certificate it carries is one of ours (the embedded certificate is only used
to pick which trusted certificate to pin, never trusted by itself); signxml
verifies it with exclusive c14n; every required element is signed *and* is the
element at its proper place in the envelope (no signature wrapping); the signed
wsu:Timestamp has not expired.

Everything returned comes from what signxml reports as signed, never from the
original document.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography import x509
from lxml import etree
from signxml import (
    InvalidCertificate,
    InvalidDigest,
    SignatureConfiguration,
    SignatureMethod,
    VerifyResult,
    XMLVerifier,
)
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm
from signxml.exceptions import InvalidSignature, SignXMLException

from adapter.errors import SignatureError
from adapter.signing.wsse import EXC_C14N
from adapter.xmlutil import DS, SOAP11_ENV, WSA, WSSE, WSU, parse

CLOCK_SKEW = dt.timedelta(seconds=300)

# Local names a caller may require, and the element each one stands for.
SIGNABLE = {
    "Body": f"{{{SOAP11_ENV}}}Body",
    "Timestamp": f"{{{WSU}}}Timestamp",
    "MessageID": f"{{{WSA}}}MessageID",
}

# signxml re-parses the whole document once per reference; cap the work a
# hostile message can ask for.
_MAX_REFERENCES = 16

_NS = {"soap": SOAP11_ENV, "wsse": WSSE, "wsu": WSU, "wsa": WSA, "ds": DS}
_SIGNATURE_LOCATION = f"./{{{SOAP11_ENV}}}Header/{{{WSSE}}}Security/"
_ID_NAMES = frozenset({"Id"})

# What Ponte's own signatures may use (SHA-1 is never accepted here).
SHA2_SIGNATURES = frozenset(
    {SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA384, SignatureMethod.RSA_SHA512}
)
SHA2_DIGESTS = frozenset(
    {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
)

_CONFIG = SignatureConfiguration(
    location=_SIGNATURE_LOCATION,
    signature_methods=SHA2_SIGNATURES,
    digest_algorithms=SHA2_DIGESTS,
    default_reference_c14n_method=CanonicalizationMethod(EXC_C14N),
)


@dataclass(frozen=True)
class VerifiedEnvelope:
    """What a verified envelope says, taken only from the signed elements.

    ``body`` is a detached copy of the signed soap:Body. ``key_name`` is the
    ``ds:KeyName`` hint; KeyInfo is not covered by the signature, so identify
    the signer by the trusted certificate, not by this label.
    """

    body: etree._Element
    message_id: str | None
    key_name: str | None
    signed_ids: frozenset[str]
    signature_value: bytes = b""  # the raw ds:SignatureValue, e.g. to spot replays


def verify_envelope(
    data: bytes,
    certificates: Sequence[x509.Certificate],
    *,
    require: tuple[str, ...] = ("Body", "Timestamp", "MessageID"),
    now: dt.datetime | None = None,
) -> VerifiedEnvelope:
    """Verify the WS-Security signature of ``data`` against trusted ``certificates``.

    ``require`` names the elements (by local name, from ``SIGNABLE``) that must
    be signed; it must include ``Body``. ``now`` (aware) replaces the clock.
    Raises ``SignatureError`` for every way the message can fail, and
    ``ValueError`` for a ``require`` naming an unknown element.
    """
    _check_require(require)
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now or dt.datetime.now(dt.UTC)
    root = _parse(data)
    signature = _find_signature(root)

    results = _verify(
        root, signature, _trusted_candidates(signature, certificates), now
    )
    signed = _signed_elements(results)
    _check_placement(root, signature, signed)
    _check_required(signed, require)

    if SIGNABLE["Timestamp"] in signed:
        _check_fresh(signed[SIGNABLE["Timestamp"]][1], now)
    return _verified_envelope(signed, results)


def signer_certificates(data: bytes) -> list[x509.Certificate]:
    """The certificates a message's WS-Security signature carries, unverified.

    Only for finding whose message it claims to be; ``verify_envelope`` with
    the certificate bound to that caller decides whether it is. Raises
    ``SignatureError`` when there is no signature.
    """
    return _embedded_certificates(_find_signature(_parse(data)))


def xmlsec1_command(path: Path, cert_path: Path) -> list[str]:
    """The ``xmlsec1`` argv that checks a saved message against our certificate.

    The key is pinned with ``--pubkey-cert-pem`` and KeyInfo may only name a
    loaded key: with ``--trusted-pem`` (or without ``--enabled-key-data``)
    xmlsec1 also accepts a forged ``ds:KeyValue`` or a certificate from any CA
    in the system store. ``--id-attr:Id`` makes the wsu:Id attributes IDs.
    xmlsec1 only checks the signature; it does not say *what* was signed.
    """
    argv = [
        "xmlsec1",
        "--verify",
        "--pubkey-cert-pem",
        str(cert_path),
        "--enabled-key-data",
        "key-name",
        "--enabled-reference-uris",
        "same-doc",
    ]
    for tag in SIGNABLE.values():
        namespace, local_name = tag[1:].split("}")
        argv += ["--id-attr:Id", f"{namespace}:{local_name}"]
    return [*argv, str(path)]


def _check_require(require: tuple[str, ...]) -> None:
    """Refuse a ``require`` that names unknown elements or leaves out Body."""
    unknown = sorted(set(require) - SIGNABLE.keys())
    if unknown:
        raise ValueError(f"cannot require unknown elements: {', '.join(unknown)}")
    if "Body" not in require:
        raise ValueError("require must include Body: only a signed Body is returned")


def _parse(data: bytes) -> etree._Element:
    """Parse with the hardened parser; the root must be a SOAP 1.1 envelope."""
    try:
        root = parse(data)
    except etree.XMLSyntaxError as exc:
        raise SignatureError("the message is not well-formed XML") from exc
    if root.tag != f"{{{SOAP11_ENV}}}Envelope":
        raise SignatureError("the message is not a SOAP 1.1 envelope")
    return root


def _find_signature(root: etree._Element) -> etree._Element:
    """Return the only ds:Signature in soap:Header/wsse:Security."""
    found = root.findall("soap:Header/wsse:Security/ds:Signature", _NS)
    if not found:
        raise SignatureError("no wsse:Security signature in the message")
    if len(found) > 1:
        raise SignatureError("the message has more than one wsse:Security signature")
    return found[0]


def _trusted_candidates(
    signature: etree._Element, certificates: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """The trusted certificates that also appear in the message, in given order."""
    embedded = _embedded_certificates(signature)
    if not embedded:
        raise SignatureError("the signature carries no X.509 certificate")

    candidates = [cert for cert in certificates if cert in embedded]
    if not candidates:
        raise SignatureError("the signing certificate is not trusted")
    return candidates


def _embedded_certificates(signature: etree._Element) -> list[x509.Certificate]:
    """Certificates in KeyInfo: ds:X509Certificate (also inside a wsse token
    reference, as zeep writes it) or a referenced wsse:BinarySecurityToken."""
    key_info = signature.find("ds:KeyInfo", _NS)
    if key_info is None:
        return []
    texts = [el.text for el in key_info.iterfind(".//ds:X509Certificate", _NS)]
    texts += _binary_tokens(signature, key_info)
    return list(_load_der_certificates(texts))


def _binary_tokens(signature: etree._Element, key_info: etree._Element) -> list[str]:
    """Texts of the BinarySecurityTokens that KeyInfo points at by ``#Id``."""
    security = signature.getparent()
    texts = []
    for reference in key_info.iterfind(
        "wsse:SecurityTokenReference/wsse:Reference", _NS
    ):
        token_id = (reference.get("URI") or "").removeprefix("#")
        for token in security.iterfind("wsse:BinarySecurityToken", _NS):
            if token_id and token.get(f"{{{WSU}}}Id") == token_id:
                texts.append(token.text)
    return texts


def _load_der_certificates(texts: Iterable[str | None]) -> Iterable[x509.Certificate]:
    """Decode base64 DER certificates; an undecodable one is a bad message."""
    for text in texts:
        try:
            yield x509.load_der_x509_certificate(base64.b64decode(text or ""))
        except (ValueError, binascii.Error) as exc:
            raise SignatureError("the embedded certificate cannot be read") from exc


def _verify(
    root: etree._Element,
    signature: etree._Element,
    candidates: list[x509.Certificate],
    now: dt.datetime,
) -> list[VerifyResult]:
    """Run signxml pinned to each candidate in turn; the first success wins."""
    config = replace(
        _CONFIG,
        expect_references=_reference_count(signature),
        verification_time=now,
    )
    failure: SignXMLException | etree.DocumentInvalid | ValueError | None = None
    for certificate in candidates:
        try:
            result = XMLVerifier().verify(
                root, x509_cert=certificate, expect_config=config
            )
        except (SignXMLException, etree.DocumentInvalid, ValueError) as exc:
            failure = exc
            continue
        return result if isinstance(result, list) else [result]
    raise SignatureError(
        f"signature does not verify: {failure_reason(failure)}"
    ) from failure


def _reference_count(signature: etree._Element) -> int:
    """Count the references, and insist on exclusive c14n everywhere."""
    signed_info = signature.find("ds:SignedInfo", _NS)
    if signed_info is None:
        raise SignatureError("the signature has no SignedInfo")
    methods = signed_info.findall("ds:CanonicalizationMethod", _NS)
    methods += signed_info.findall("ds:Reference/ds:Transforms/ds:Transform", _NS)
    if any(method.get("Algorithm") != EXC_C14N for method in methods):
        raise SignatureError("the signature must use exclusive c14n only")

    count = len(signed_info.findall("ds:Reference", _NS))
    if not 0 < count <= _MAX_REFERENCES:
        raise SignatureError(f"the signature has {count} references")
    return count


def failure_reason(exc: BaseException | None) -> str:
    """A short, stable phrase for a signxml failure; detail stays in the cause."""
    if isinstance(exc, InvalidDigest):
        return "digest mismatch"
    if isinstance(exc, InvalidCertificate):
        return "the certificate is not valid at this time"
    if isinstance(exc, InvalidSignature):
        return "signature value mismatch"
    return "malformed signature"


def _reference_ids(results: list[VerifyResult]) -> list[str]:
    """The ``#Id`` of each verified reference, in the order signxml returned them."""
    references = results[0].signature_xml.iterfind("ds:SignedInfo/ds:Reference", _NS)
    return [(ref.get("URI") or "").removeprefix("#") for ref in references]


def _signed_elements(
    results: list[VerifyResult],
) -> dict[str, tuple[str, etree._Element]]:
    """Map each signed Body/Timestamp/MessageID tag to (Id, verified copy)."""
    signed: dict[str, tuple[str, etree._Element]] = {}
    for element_id, result in zip(_reference_ids(results), results, strict=True):
        element = result.signed_xml
        if element is None or element.tag not in SIGNABLE.values():
            continue
        if element.tag in signed:
            raise SignatureError(f"{etree.QName(element).localname} is signed twice")
        signed[element.tag] = (element_id, element)
    return signed


def _check_placement(
    root: etree._Element,
    signature: etree._Element,
    signed: dict[str, tuple[str, etree._Element]],
) -> None:
    """Each signed element must be the one the receiver reads (anti-wrapping).

    signxml resolves ``#v`` to the only element with an ``Id``-named attribute
    equal to ``v``, so finding that Id on the element at the proper place proves
    the reference pointed there.
    """
    places = {
        SIGNABLE["Body"]: root.findall("soap:Body", _NS),
        SIGNABLE["Timestamp"]: signature.getparent().findall("wsu:Timestamp", _NS),
        SIGNABLE["MessageID"]: root.findall("soap:Header/wsa:MessageID", _NS),
    }
    for tag, (element_id, _) in signed.items():
        name = etree.QName(tag).localname
        found = places[tag]
        if len(found) != 1 or not _has_id(found[0], element_id):
            raise SignatureError(f"the signed {name} is not the message's {name}")


def _has_id(element: etree._Element, element_id: str) -> bool:
    """True if an attribute named Id (any namespace) has this value."""
    return any(
        etree.QName(name).localname in _ID_NAMES and value == element_id
        for name, value in element.attrib.items()
    )


def _check_required(
    signed: dict[str, tuple[str, etree._Element]], require: tuple[str, ...]
) -> None:
    """Every required element must be among the signed ones."""
    for name in require:
        if SIGNABLE[name] not in signed:
            raise SignatureError(f"{name} is not signed")


def _check_fresh(timestamp: etree._Element, now: dt.datetime) -> None:
    """Refuse a Timestamp that has expired or was created in the future."""
    expires = _timestamp_field(timestamp, "Expires")
    if expires is None:
        raise SignatureError("the Timestamp has no Expires")
    if expires + CLOCK_SKEW < now:
        raise SignatureError("the Timestamp has expired")

    created = _timestamp_field(timestamp, "Created")
    if created is not None and created - CLOCK_SKEW > now:
        raise SignatureError("the Timestamp was created in the future")


def _timestamp_field(timestamp: etree._Element, local_name: str) -> dt.datetime | None:
    """Read wsu:Created or wsu:Expires as an aware datetime (None if absent)."""
    text = timestamp.findtext(f"wsu:{local_name}", namespaces=_NS)
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise SignatureError(f"the Timestamp {local_name} is not a date") from exc
    if moment.tzinfo is None:
        raise SignatureError(f"the Timestamp {local_name} has no time zone")
    return moment


def _verified_envelope(
    signed: dict[str, tuple[str, etree._Element]], results: list[VerifyResult]
) -> VerifiedEnvelope:
    """Assemble the result from what signxml returned as verified only."""
    message_id = signed.get(SIGNABLE["MessageID"])
    key_info = results[0].signature_xml.find("ds:KeyInfo", _NS)
    return VerifiedEnvelope(
        body=signed[SIGNABLE["Body"]][1],
        message_id=(message_id[1].text or "").strip() if message_id else None,
        key_name=None
        if key_info is None
        else key_info.findtext("ds:KeyName", None, _NS),
        signed_ids=frozenset(_reference_ids(results)),
        signature_value=_signature_value(results[0].signature_xml),
    )


def _signature_value(signature: etree._Element) -> bytes:
    text = signature.findtext("ds:SignatureValue", "", _NS)
    return base64.b64decode("".join(text.split()) or "")
