"""The signature-algorithm policy: SHA-1 and inclusive c14n only when allowed.

The NF-e sample (``../shared/realdata/nfe-sefaz``, skipped without it) is
RSA-SHA1 with C14N 1.0. Its fixture was indented after it was signed (the
file does not verify as shipped, with any tool); removing the whitespace-only
text between elements gives back the signed bytes (xmlsec1 agrees), so the
tests verify that form. The other documents are signed here, with signxml
and with python-xmlsec (for SHA-1, which signxml refuses to produce).
"""

from __future__ import annotations

import datetime as dt

import pytest
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import SignatureConstructionMethod, SignatureMethod, XMLSigner
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm

from adapter.errors import SignatureError
from adapter.signing.algorithms import SignaturePolicy, verify_document
from tests.realdata import REALDATA

NFE = REALDATA / "nfe-sefaz" / "nfe_layout4_com_prot.signed.xml"
NFE_NS = "http://www.portalfiscal.inf.br/nfe"
ISSUED = dt.datetime(2018, 9, 25, 15, 0, tzinfo=dt.UTC)  # dhEmi of the sample
LEGACY = {"allow_sha1": True, "allow_inclusive_c14n": True}


@pytest.fixture(scope="module")
def nfe() -> bytes:
    """The NF-e as it was signed: the fixture without its indentation."""
    if not NFE.is_file():
        pytest.skip(f"real data {NFE} is not available")
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.tostring(etree.parse(str(NFE), parser))


@pytest.fixture(scope="module")
def signer() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partner")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert


DOC = b'<doc xmlns="urn:partner"><amount>10.00</amount></doc>'


def _signxml(
    signer: tuple[rsa.RSAPrivateKey, x509.Certificate], c14n: CanonicalizationMethod
) -> bytes:
    key, cert = signer
    signed = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=c14n,
    ).sign(etree.fromstring(DOC), key=key, cert=[cert])
    return etree.tostring(signed)


def _xmlsec(
    signer: tuple[rsa.RSAPrivateKey, x509.Certificate],
    document: bytes,
    *,
    method: object,
    digest: object,
    c14n: object,
    uri: str = "",
    into: str | None = None,
) -> bytes:
    """Sign ``document`` with python-xmlsec: enveloped, the signature the last
    child of the root (or of the ``into`` element), the reference ``uri``."""
    key, cert = signer
    root = etree.fromstring(document)
    signature = xmlsec.template.create(root, c14n, method)
    (root if into is None else root.find(into)).append(signature)  # type: ignore[union-attr]
    xmlsec.tree.add_ids(root, ["Id"])
    reference = xmlsec.template.add_reference(signature, digest, uri=uri)
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(reference, c14n)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    loaded = xmlsec.Key.from_memory(pem, xmlsec.constants.KeyDataFormatPem)
    loaded.load_cert_from_memory(
        cert.public_bytes(serialization.Encoding.PEM),
        xmlsec.constants.KeyDataFormatPem,
    )
    context = xmlsec.SignatureContext()
    context.key = loaded
    context.sign(signature)
    return etree.tostring(root)


# The NF-e: RSA-SHA1 and C14N 1.0


def test_nfe_is_refused_by_default(nfe: bytes) -> None:
    with pytest.raises(SignatureError, match="policy refuses"):
        verify_document(nfe, at=ISSUED)


def test_nfe_with_sha1_allowed_alone_is_refused_for_its_inclusive_c14n(
    nfe: bytes,
) -> None:
    with pytest.raises(SignatureError, match=r"inclusive c14n .*allow_inclusive_c14n"):
        verify_document(nfe, allow_sha1=True, at=ISSUED)


def test_nfe_with_inclusive_c14n_allowed_alone_is_refused_for_sha1(nfe: bytes) -> None:
    with pytest.raises(
        SignatureError, match=r"SHA-1 \(.*rsa-sha1\).*allow_sha1 = true"
    ):
        verify_document(nfe, allow_inclusive_c14n=True, at=ISSUED)


def test_nfe_verifies_when_the_policy_allows_both(nfe: bytes) -> None:
    verified = verify_document(nfe, **LEGACY, at=ISSUED)

    assert verified.signed.tag == f"{{{NFE_NS}}}infNFe"
    assert (
        verified.signed.get("Id") == "NFe43180906929383000163550010000000261000010301"
    )
    assert verified.signed.findtext(f"{{{NFE_NS}}}emit/{{{NFE_NS}}}CNPJ") == (
        "06929383000163"
    )
    assert verified.signature_method.endswith("#rsa-sha1")
    assert verified.trusted is False  # no certificate was pinned


def test_nfe_pinned_certificate_is_trusted_and_another_is_not(
    nfe: bytes, signer: tuple[rsa.RSAPrivateKey, x509.Certificate]
) -> None:
    carried = verify_document(nfe, **LEGACY, at=ISSUED).certificate

    assert verify_document(nfe, [carried], **LEGACY, at=ISSUED).trusted is True
    with pytest.raises(SignatureError, match="not trusted"):
        verify_document(nfe, [signer[1]], **LEGACY, at=ISSUED)


def test_nfe_with_a_changed_amount_fails_its_digest(nfe: bytes) -> None:
    changed = nfe.replace(b"<vNF>", b"<vNF>9", 1)
    assert changed != nfe

    with pytest.raises(SignatureError, match="digest mismatch"):
        verify_document(changed, **LEGACY, at=ISSUED)


def test_nfe_as_shipped_does_not_verify_because_it_was_indented_after_signing() -> None:
    if not NFE.is_file():
        pytest.skip(f"real data {NFE} is not available")

    with pytest.raises(SignatureError, match="does not verify"):
        verify_document(NFE.read_bytes(), **LEGACY, at=ISSUED)


def test_nfe_certificate_expired_since_is_refused_at_the_current_time(
    nfe: bytes,
) -> None:
    with pytest.raises(SignatureError, match="not valid at the verification time"):
        verify_document(nfe, **LEGACY)


# Each allowance on its own


def test_sha256_with_exclusive_c14n_verifies_by_default(
    signer: tuple[rsa.RSAPrivateKey, x509.Certificate],
) -> None:
    signed = _signxml(signer, CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)

    verified = verify_document(signed, [signer[1]])

    assert verified.trusted is True
    assert verified.signed.findtext("{urn:partner}amount") == "10.00"


def test_sha1_with_exclusive_c14n_needs_allow_sha1_only(
    signer: tuple[rsa.RSAPrivateKey, x509.Certificate],
) -> None:
    signed = _xmlsec(
        signer,
        DOC,
        method=xmlsec.constants.TransformRsaSha1,
        digest=xmlsec.constants.TransformSha1,
        c14n=xmlsec.constants.TransformExclC14N,
    )

    with pytest.raises(SignatureError, match="SHA-1"):
        verify_document(signed, [signer[1]])
    assert verify_document(signed, [signer[1]], allow_sha1=True).trusted


@pytest.mark.parametrize(
    "c14n",
    [
        CanonicalizationMethod.CANONICAL_XML_1_0,
        CanonicalizationMethod.CANONICAL_XML_1_1,
    ],
)
def test_inclusive_c14n_needs_allow_inclusive_c14n_only(
    signer: tuple[rsa.RSAPrivateKey, x509.Certificate], c14n: CanonicalizationMethod
) -> None:
    signed = _signxml(signer, c14n)

    with pytest.raises(SignatureError, match="inclusive c14n"):
        verify_document(signed, [signer[1]])
    assert verify_document(signed, [signer[1]], allow_inclusive_c14n=True).trusted


def test_inclusive_c14n_inside_another_default_namespace_verifies(
    signer: tuple[rsa.RSAPrivateKey, x509.Certificate],
) -> None:
    # The NF-e's shape: the signed element in one default namespace, the
    # Signature in XML-DSig's, beside it under a common parent. libxml2
    # 2.14's subset c14n gets SignedInfo wrong here; Ponte's verifier not.
    document = (
        b'<nfeProc xmlns="urn:fiscal" versao="4.00"><NFe>'
        b'<infNFe Id="N1"><v>1</v></infNFe></NFe></nfeProc>'
    )
    signed = _xmlsec(
        signer,
        document,
        method=xmlsec.constants.TransformRsaSha256,
        digest=xmlsec.constants.TransformSha256,
        c14n=xmlsec.constants.TransformInclC14N,
        uri="#N1",
        into="{urn:fiscal}NFe",
    )

    verified = verify_document(signed, [signer[1]], allow_inclusive_c14n=True)

    assert verified.signed.tag == "{urn:fiscal}infNFe"


def test_the_policy_gives_signxml_the_same_algorithms() -> None:
    strict = SignaturePolicy().configuration(ISSUED)
    legacy = SignaturePolicy(allow_sha1=True).configuration(ISSUED)

    assert SignatureMethod.RSA_SHA1 not in strict.signature_methods
    assert DigestAlgorithm.SHA1 not in strict.digest_algorithms
    assert SignatureMethod.RSA_SHA1 in legacy.signature_methods
    assert DigestAlgorithm.SHA1 in legacy.digest_algorithms


# Documents that cannot be checked at all


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<doc/>", "has no ds:Signature"),
        (b"<doc", "not well-formed"),
    ],
)
def test_a_document_without_a_readable_signature_is_refused(
    document: bytes, message: str
) -> None:
    with pytest.raises(SignatureError, match=message):
        verify_document(document)


def test_two_signatures_are_refused(
    signer: tuple[rsa.RSAPrivateKey, x509.Certificate],
) -> None:
    signed = etree.fromstring(
        _signxml(signer, CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    )
    signature = signed[-1]
    signed.append(etree.fromstring(etree.tostring(signature)))

    with pytest.raises(SignatureError, match="2 ds:Signature elements"):
        verify_document(etree.tostring(signed))


def test_naive_verification_time_is_a_programming_error(nfe: bytes) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_document(nfe, at=dt.datetime(2018, 9, 25))
