"""Enveloped XML-DSig on a business document (a payment order a finance system
keeps as signed evidence).

The signature is the last child of the document's root and covers the whole
document: one Reference with ``URI=""`` and the enveloped-signature transform,
exclusive c14n, RSA-SHA256 and SHA-256 digests, with ``ds:KeyName`` (the key
id) and the certificate in ``ds:X509Data``. Unlike the WS-Security signature
it needs no ``Id`` attributes, so a receiver's tool needs no ``--id-attr``.

``verify_document`` checks such a document against pinned certificates and
returns the document as signxml verified it, without its signature.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from cryptography import x509
from lxml import etree
from signxml import (
    SignatureConfiguration,
    SignatureConstructionMethod,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm
from signxml.exceptions import (
    SignXMLException,
)

from adapter.errors import SignatureError
from adapter.signing.keys import SigningKey
from adapter.signing.verify import SHA2_DIGESTS, SHA2_SIGNATURES, failure_reason
from adapter.signing.wsse import EXC_C14N
from adapter.xmlutil import DS, parse

ENVELOPED = SignatureConstructionMethod.enveloped.value

_NS = {"ds": DS}
_EMBEDDED = "ds:KeyInfo/ds:X509Data/ds:X509Certificate"
_CONFIG = SignatureConfiguration(
    location="./",
    expect_references=1,
    signature_methods=SHA2_SIGNATURES,
    digest_algorithms=SHA2_DIGESTS,
    default_reference_c14n_method=CanonicalizationMethod(EXC_C14N),
)


@dataclass(frozen=True)
class VerifiedDocument:
    """A verified document: ``document`` is signxml's verified copy, without
    the signature. ``key_name`` is the unsigned ``ds:KeyName`` hint;
    ``certificate`` is the trusted certificate that verified it."""

    document: etree._Element
    key_name: str | None
    certificate: x509.Certificate


class _WholeDocumentSigner(XMLSigner):
    """signxml's enveloped signer, always referring to the document as ``""``.

    signxml writes ``URI="#v"`` when the root carries an ``Id`` attribute; the
    whole-document form ``URI=""`` is what receivers expect and needs no ID
    declaration in their tools. Both cover the same element.
    """

    def _unpack(self, data: Any, references: Any) -> Any:
        sig_root, doc_root, c14n_inputs, found = super()._unpack(data, references)
        return sig_root, doc_root, c14n_inputs, [replace(r, URI="") for r in found]


def sign_document(element: etree._Element, key: SigningKey) -> etree._Element:
    """Return a signed copy of ``element`` as a document of its own.

    ``element`` itself is not changed (it may sit inside another tree: the copy
    becomes the root, so ``URI=""`` covers exactly it). Raises ``ValueError``
    for an element that already carries a signature as a child, and
    ``SignatureError`` if signxml refuses to sign.
    """
    if element.find("ds:Signature", _NS) is not None:
        raise ValueError("the document already has a ds:Signature")
    document = copy.deepcopy(element)

    signer = _WholeDocumentSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod(EXC_C14N),
    )
    try:
        signed: etree._Element = signer.sign(
            document,
            key=key.private_key,
            cert=[key.certificate],
            key_name=key.key_id,
        )
    except SignXMLException as exc:
        raise SignatureError("the document cannot be signed") from exc
    return signed


def verify_document(
    data: bytes,
    certificates: Sequence[x509.Certificate],
    *,
    now: dt.datetime | None = None,
) -> VerifiedDocument:
    """Verify the enveloped signature of ``data`` against trusted ``certificates``.

    The signature must be a child of the root and cover the whole document
    (``URI=""``, enveloped transform, exclusive c14n); the certificate it
    carries only picks which trusted certificate to pin. ``now`` (aware)
    replaces the clock for the certificates' validity. Raises
    ``SignatureError`` for every way the document can fail.
    """
    root = _parse(data)
    signature = _only_signature(root)
    _check_shape(signature)
    candidates = _trusted_candidates(signature, certificates)

    config = replace(_CONFIG, verification_time=now or dt.datetime.now(dt.UTC))
    failure: Exception | None = None
    for certificate in candidates:
        try:
            result = XMLVerifier().verify(
                root, x509_cert=certificate, expect_config=config
            )
        except (SignXMLException, etree.DocumentInvalid, ValueError) as exc:
            failure = exc
            continue
        verified = result[0] if isinstance(result, list) else result
        signed = verified.signed_xml
        if signed is None:  # pragma: no cover (URI="" always yields the root)
            raise SignatureError("the signature covers no element")
        key_name = signature.findtext("ds:KeyInfo/ds:KeyName", None, _NS)
        return VerifiedDocument(signed, key_name, certificate)
    raise SignatureError(
        f"signature does not verify: {failure_reason(failure)}"
    ) from failure


def document_certificates(data: bytes) -> list[x509.Certificate]:
    """The certificates a document's enveloped signature carries, unverified.

    Only for telling which key a document claims; ``verify_document`` decides.
    Raises ``SignatureError`` when there is no signature.
    """
    signature = _only_signature(_parse(data))
    return [
        _der_certificate(element.text) for element in signature.iterfind(_EMBEDDED, _NS)
    ]


def xmlsec1_document_command(path: str, certs: Sequence[tuple[str, str]]) -> list[str]:
    """The ``xmlsec1`` argv that checks a signed document saved at ``path``.

    ``certs`` are (key id, PEM file) pairs: naming each loaded key by its id
    lets ``ds:KeyName`` pick the right one when several are trusted (during a
    rotation). ``--enabled-key-data key-name`` stops xmlsec1 from trusting a
    key the document brings itself.
    """
    argv = ["xmlsec1", "--verify"]
    for key_id, cert_path in certs:
        argv += [f"--pubkey-cert-pem:{key_id}", cert_path]
    argv += ["--enabled-key-data", "key-name", "--enabled-reference-uris", "empty"]
    return [*argv, path]


def _parse(data: bytes) -> etree._Element:
    """Parse with the hardened parser (no DOCTYPE, no entities, no network)."""
    try:
        return parse(data)
    except etree.XMLSyntaxError as exc:
        raise SignatureError("the document is not well-formed XML") from exc


def _only_signature(root: etree._Element) -> etree._Element:
    """The one ds:Signature that is a child of the root."""
    found = root.findall("ds:Signature", _NS)
    if not found:
        raise SignatureError("the document has no enveloped ds:Signature")
    if len(found) > 1:
        raise SignatureError("the document has more than one ds:Signature")
    return found[0]


def _check_shape(signature: etree._Element) -> None:
    """One whole-document reference, enveloped, exclusive c14n everywhere."""
    signed_info = signature.find("ds:SignedInfo", _NS)
    if signed_info is None:
        raise SignatureError("the signature has no SignedInfo")
    method = signed_info.find("ds:CanonicalizationMethod", _NS)
    c14n = None if method is None else method.get("Algorithm")
    if c14n != EXC_C14N:
        raise SignatureError("the signature must use exclusive c14n")

    references = signed_info.findall("ds:Reference", _NS)
    if len(references) != 1 or references[0].get("URI") != "":
        raise SignatureError('the signature must have one Reference with URI=""')
    transforms = [
        t.get("Algorithm")
        for t in references[0].iterfind("ds:Transforms/ds:Transform", _NS)
    ]
    if transforms not in ([ENVELOPED], [ENVELOPED, EXC_C14N]):
        raise SignatureError(
            "the Reference must use the enveloped transform and exclusive c14n only"
        )


def _trusted_candidates(
    signature: etree._Element, certificates: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """Trusted certificates that the signature also carries, in given order."""
    embedded = [
        _der_certificate(element.text) for element in signature.iterfind(_EMBEDDED, _NS)
    ]
    if not embedded:
        raise SignatureError("the signature carries no X.509 certificate")
    candidates = [cert for cert in certificates if cert in embedded]
    if not candidates:
        raise SignatureError("the signing certificate is not trusted")
    return candidates


def _der_certificate(text: str | None) -> x509.Certificate:
    """Decode one base64 DER certificate; an unreadable one is a bad document."""
    try:
        der = base64.b64decode("".join((text or "").split()), validate=True)
        return x509.load_der_x509_certificate(der)
    except (ValueError, binascii.Error) as exc:
        raise SignatureError("the embedded certificate cannot be read") from exc
