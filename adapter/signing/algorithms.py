"""Which XML-DSig algorithms a partner's signature may use, and a verifier that
keeps to it.

By default a signature must use RSA-SHA256/384/512, SHA-256/384/512 digests
and exclusive c14n (with or without comments), everywhere: SignedInfo and
every Reference transform. Two older choices are refused unless a target's
policy allows them, one by one:

- ``allow_sha1``: ``rsa-sha1`` and ``sha1`` digests. SHA-1 collisions are
  practical (SHAttered, 2017); Brazilian fiscal documents (NF-e layout 4.00)
  still require it.
- ``allow_inclusive_c14n``: C14N 1.0 and 1.1 (inclusive). Inclusive c14n
  pulls the namespaces of the signed element's ancestors into the digest, so
  a document moved into another envelope no longer verifies; NF-e uses C14N
  1.0.

The policy is checked on the signature's own algorithm names before signxml
runs, so the refusal names the algorithm and the setting; signxml is then
given the same policy (``SignatureConfiguration``) and enforces it again.

Trust: with ``certificates``, a certificate the signature carries must be
one of them (pinned). Without, the first carried certificate verifies the
signature and is returned with ``trusted=False``: the document is intact,
and who signed it is for the caller to decide (for an NF-e: the ICP-Brasil
chain and the CNPJ in the certificate's subject).
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from lxml import etree
from signxml import SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm
from signxml.exceptions import (
    InvalidCertificate,
    InvalidDigest,
    InvalidSignature,
    SignXMLException,
)

from adapter.errors import SignatureError
from adapter.xmlutil import DS, parse

ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

_SHA1 = frozenset({SignatureMethod.RSA_SHA1.value, DigestAlgorithm.SHA1.value})
_STRONG_SIGNATURES = frozenset(
    {SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA384, SignatureMethod.RSA_SHA512}
)
_STRONG_DIGESTS = frozenset(
    {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
)
_EXCLUSIVE = frozenset(
    {
        CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0.value,
        CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0_WITH_COMMENTS.value,
    }
)
_INCLUSIVE = frozenset(
    {
        CanonicalizationMethod.CANONICAL_XML_1_0.value,
        CanonicalizationMethod.CANONICAL_XML_1_0_WITH_COMMENTS.value,
        CanonicalizationMethod.CANONICAL_XML_1_1.value,
        CanonicalizationMethod.CANONICAL_XML_1_1_WITH_COMMENTS.value,
    }
)
_NS = {"ds": DS}
_XML_NS = "http://www.w3.org/XML/1998/namespace"


@dataclass(frozen=True)
class SignaturePolicy:
    """What a target accepts beyond the default; both off unless configured."""

    allow_sha1: bool = False
    allow_inclusive_c14n: bool = False

    def signature_methods(self) -> frozenset[SignatureMethod]:
        if self.allow_sha1:
            return _STRONG_SIGNATURES | {SignatureMethod.RSA_SHA1}
        return _STRONG_SIGNATURES

    def digest_algorithms(self) -> frozenset[DigestAlgorithm]:
        if self.allow_sha1:
            return _STRONG_DIGESTS | {DigestAlgorithm.SHA1}
        return _STRONG_DIGESTS

    def c14n_methods(self) -> frozenset[str]:
        return _EXCLUSIVE | _INCLUSIVE if self.allow_inclusive_c14n else _EXCLUSIVE

    def refusal(self, signature: etree._Element) -> str | None:
        """Why ``signature`` breaks the policy, or None when it keeps it."""
        used = _algorithms(signature)
        allowed = {m.value for m in self.signature_methods()}
        allowed |= {d.value for d in self.digest_algorithms()}
        for kind, uri in used:
            if kind == "c14n" and uri not in self.c14n_methods():
                if uri in _INCLUSIVE:
                    return (
                        f"the signature uses inclusive c14n ({uri}), which this "
                        "target's policy refuses; allow it with "
                        "allow_inclusive_c14n = true only for a partner that "
                        "cannot use exclusive c14n (NF-e cannot)"
                    )
                return f"the signature uses an unknown canonicalization ({uri})"
            if kind in ("signature", "digest") and uri not in allowed:
                if uri in _SHA1:
                    return (
                        f"the signature uses SHA-1 ({uri}), which this target's "
                        "policy refuses; allow it with allow_sha1 = true only for "
                        "a partner that cannot do better (NF-e layout 4.00 cannot)"
                    )
                return f"the signature uses an algorithm Ponte does not accept ({uri})"
        return None

    def configuration(self, verification_time: dt.datetime) -> SignatureConfiguration:
        """The same policy, for signxml to enforce."""
        return SignatureConfiguration(
            location=".//",
            expect_references=1,
            signature_methods=self.signature_methods(),
            digest_algorithms=self.digest_algorithms(),
            verification_time=verification_time,
        )


@dataclass(frozen=True)
class VerifiedSignature:
    """What verification returned; use ``signed``, never the original document.

    ``signed`` is signxml's copy of the element the signature covers.
    ``trusted`` is True only when ``certificate`` is one the caller pinned.
    """

    signed: etree._Element
    certificate: x509.Certificate
    trusted: bool
    signature_method: str
    c14n_method: str


def verify_document(
    xml_bytes: bytes,
    certificates: Sequence[x509.Certificate] | None = None,
    *,
    allow_sha1: bool = False,
    allow_inclusive_c14n: bool = False,
    at: dt.datetime | None = None,
    id_attribute: str = "Id",
) -> VerifiedSignature:
    """Verify the one XML-DSig signature in ``xml_bytes`` under a policy.

    ``certificates`` pins the signer (see the module doc); ``at`` (aware) is
    when the certificate must have been valid, e.g. the document's issue
    time for an archived NF-e, default now; ``id_attribute`` is the
    attribute a ``Reference URI="#..."`` points at (NF-e: ``Id``). Raises
    ``SignatureError`` for every way the document can fail, naming the
    algorithm and the setting when the policy refuses it.
    """
    if at is not None and at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    policy = SignaturePolicy(allow_sha1, allow_inclusive_c14n)
    root = _parse(xml_bytes)
    signature = _only_signature(root)
    refused = policy.refusal(signature)
    if refused is not None:
        raise SignatureError(refused)

    carried = _embedded_certificates(signature)
    if certificates is not None:
        carried = [c for c in carried if c in certificates]
        if not carried:
            raise SignatureError("the signing certificate is not trusted")
    embedded = carried[0]
    config = policy.configuration(at or dt.datetime.now(dt.UTC))
    try:
        result = _SubsetSafeVerifier().verify(
            root, x509_cert=embedded, id_attribute=id_attribute, expect_config=config
        )
    except (SignXMLException, etree.DocumentInvalid, ValueError) as exc:
        raise SignatureError(f"signature does not verify: {_reason(exc)}") from exc
    verified = result[0] if isinstance(result, list) else result
    if verified.signed_xml is None:  # pragma: no cover (signxml always sets it)
        raise SignatureError("the signature covers no element")
    return VerifiedSignature(
        verified.signed_xml,
        embedded,
        certificates is not None,
        _signed_info_algorithm(signature, "ds:SignatureMethod"),
        _signed_info_algorithm(signature, "ds:CanonicalizationMethod"),
    )


class _SubsetSafeVerifier(XMLVerifier):
    """signxml's verifier, with inclusive c14n of a subtree computed right.

    With libxml2 2.14 (lxml 6.1), inclusive c14n of an element inside a
    document whose ancestors have another default namespace writes a wrong
    ``xmlns=""`` on grandchildren: for an NF-e (``nfeProc`` in the NF-e
    namespace, ``Signature`` in XML-DSig's) SignedInfo then canonicalizes to
    other bytes than the signer's, and a valid signature fails. Copying the
    element out as a document of its own, with every namespace in scope
    declared on it and the ``xml:lang``/``xml:space`` it inherits (C14N 1.0
    §2.4), gives the bytes the specification defines. Exclusive c14n is
    not affected and is left to signxml.
    """

    def _c14n(
        self,
        nodes: Any,
        algorithm: CanonicalizationMethod,
        inclusive_ns_prefixes: Any = None,
    ) -> bytes:
        if algorithm.value not in _INCLUSIVE:
            return bytes(super()._c14n(nodes, algorithm, inclusive_ns_prefixes))
        listed = nodes if isinstance(nodes, list) else [nodes]
        standalone = [_standalone(node) for node in listed]
        return bytes(super()._c14n(standalone, algorithm, inclusive_ns_prefixes))


def _standalone(node: Any) -> Any:
    """``node`` as the root of a tree of its own, as inclusive c14n sees it."""
    if not isinstance(node, etree._Element) or node.getparent() is None:
        return node
    apex = etree.Element(node.tag, nsmap=node.nsmap)
    for name, value in node.attrib.items():
        apex.set(name, value)
    ancestor = node.getparent()
    while ancestor is not None:
        for local in ("lang", "space"):
            key = f"{{{_XML_NS}}}{local}"
            if key in ancestor.attrib and key not in apex.attrib:
                apex.set(key, ancestor.get(key, ""))
        ancestor = ancestor.getparent()
    apex.text = node.text
    for child in node:
        apex.append(copy.deepcopy(child))
    return apex


def _parse(data: bytes) -> etree._Element:
    try:
        return parse(data)
    except etree.XMLSyntaxError as exc:
        raise SignatureError("the document is not well-formed XML") from exc


def _only_signature(root: etree._Element) -> etree._Element:
    found = root.findall(".//ds:Signature", _NS)
    if root.tag == f"{{{DS}}}Signature":
        found.insert(0, root)
    if not found:
        raise SignatureError("the document has no ds:Signature")
    if len(found) > 1:
        raise SignatureError(f"the document has {len(found)} ds:Signature elements")
    return found[0]


def _algorithms(signature: etree._Element) -> list[tuple[str, str]]:
    """``(kind, uri)`` of every algorithm the signature names, in order."""
    signed_info = signature.find("ds:SignedInfo", _NS)
    if signed_info is None:
        raise SignatureError("the signature has no SignedInfo")
    used = [
        ("c14n", _signed_info_algorithm(signature, "ds:CanonicalizationMethod")),
        ("signature", _signed_info_algorithm(signature, "ds:SignatureMethod")),
    ]
    for reference in signed_info.iterfind("ds:Reference", _NS):
        for transform in reference.iterfind("ds:Transforms/ds:Transform", _NS):
            uri = transform.get("Algorithm", "")
            if uri != ENVELOPED:
                used.append(("c14n", uri))
        digest = reference.find("ds:DigestMethod", _NS)
        used.append(("digest", "" if digest is None else digest.get("Algorithm", "")))
    return used


def _signed_info_algorithm(signature: etree._Element, child: str) -> str:
    found = signature.find(f"ds:SignedInfo/{child}", _NS)
    return "" if found is None else found.get("Algorithm", "")


def _embedded_certificates(signature: etree._Element) -> list[x509.Certificate]:
    """The certificates in KeyInfo/X509Data, in order (the signer's first)."""
    texts = [
        e.text
        for e in signature.iterfind("ds:KeyInfo/ds:X509Data/ds:X509Certificate", _NS)
    ]
    if not texts:
        raise SignatureError("the signature carries no X.509 certificate")
    try:
        return [
            x509.load_der_x509_certificate(
                base64.b64decode("".join((text or "").split()), validate=True)
            )
            for text in texts
        ]
    except (ValueError, binascii.Error) as exc:
        raise SignatureError("the embedded certificate cannot be read") from exc


def _reason(exc: BaseException) -> str:
    """A short, stable phrase for a signxml failure; detail stays in the cause."""
    if isinstance(exc, InvalidDigest):
        return "digest mismatch (the signed content was changed)"
    if isinstance(exc, InvalidCertificate):
        return "the certificate was not valid at the verification time"
    if isinstance(exc, InvalidSignature):
        return "signature value mismatch"
    return f"malformed signature ({type(exc).__name__})"
