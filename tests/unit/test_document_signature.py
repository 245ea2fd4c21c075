"""Enveloped signatures on business documents: signxml and the xmlsec1 CLI."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from signxml import SignatureConfiguration, XMLSigner, XMLVerifier, methods

from adapter.errors import SignatureError
from adapter.signing import (
    SigningKey,
    new_signing_key,
    sign_document,
    verify_document,
)
from adapter.signing.document import (
    ENVELOPED,
    document_certificates,
    xmlsec1_document_command,
)
from adapter.signing.wsse import EXC_C14N
from adapter.xmlutil import DS

NS = {"ds": DS, "po": "urn:ponte:payment-order"}
ORDER = (
    b'<po:PaymentOrder xmlns:po="urn:ponte:payment-order">'
    b"<po:externalId>PO-1</po:externalId><po:amount>1500.00</po:amount>"
    b"<po:beneficiary>Maria da Silva</po:beneficiary></po:PaymentOrder>"
)
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("document-keys")


def make_key(folder: Path, key_id: str) -> SigningKey:
    return new_signing_key(
        key_id, folder / f"{key_id}.key.pem", folder / f"{key_id}.cert.pem"
    )


@pytest.fixture(scope="module")
def key(folder: Path) -> SigningKey:
    return make_key(folder, "rm-finance-20261203")


@pytest.fixture(scope="module")
def other(folder: Path) -> SigningKey:
    return make_key(folder, "someone-else")


def signed_bytes(key: SigningKey, document: bytes = ORDER) -> bytes:
    return etree.tostring(sign_document(etree.fromstring(document), key))


def run_xmlsec1(
    data: bytes, certs: list[tuple[str, Path]], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    if shutil.which("xmlsec1") is None:
        pytest.skip("the xmlsec1 CLI is not installed")
    path = tmp_path / "document.xml"
    path.write_bytes(data)
    argv = xmlsec1_document_command(
        str(path), [(key_id, str(cert)) for key_id, cert in certs]
    )
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def cert_of(folder: Path, key: SigningKey) -> tuple[str, Path]:
    return key.key_id, folder / f"{key.key_id}.cert.pem"


# Shape of the signature


def test_signature_is_enveloped_over_the_whole_document(key: SigningKey) -> None:
    root = etree.fromstring(signed_bytes(key))

    signature = root[-1]
    reference = signature.find("ds:SignedInfo/ds:Reference", NS)
    transforms = reference.findall("ds:Transforms/ds:Transform", NS)

    def algorithm(path: str) -> str | None:
        return signature.find(f"ds:SignedInfo/{path}", NS).get("Algorithm")

    assert signature.tag == f"{{{DS}}}Signature"
    assert reference.get("URI") == ""
    assert [t.get("Algorithm") for t in transforms] == [ENVELOPED, EXC_C14N]
    assert algorithm("ds:CanonicalizationMethod") == EXC_C14N
    assert algorithm("ds:SignatureMethod") == RSA_SHA256
    assert algorithm("ds:Reference/ds:DigestMethod") == SHA256


def test_key_info_carries_key_name_and_certificate(key: SigningKey) -> None:
    root = etree.fromstring(signed_bytes(key))

    key_info = root.find("ds:Signature/ds:KeyInfo", NS)

    assert key_info.findtext("ds:KeyName", namespaces=NS) == key.key_id
    assert key_info.find("ds:X509Data/ds:X509Certificate", NS) is not None
    assert key_info.find("ds:KeyValue", NS) is None


def test_a_root_with_an_id_is_still_referenced_as_the_whole_document(
    key: SigningKey,
) -> None:
    document = ORDER.replace(b"<po:PaymentOrder ", b'<po:PaymentOrder Id="po-1" ')

    root = etree.fromstring(signed_bytes(key, document))

    assert root.find("ds:Signature/ds:SignedInfo/ds:Reference", NS).get("URI") == ""
    assert verify_document(etree.tostring(root), [key.certificate])


def test_the_input_element_is_left_alone_and_signed_as_its_own_document(
    key: SigningKey,
) -> None:
    wrapper = etree.fromstring(b"<batch>" + ORDER + b"</batch>")
    order = wrapper[0]
    before = etree.tostring(wrapper)

    signed = sign_document(order, key)

    assert etree.tostring(wrapper) == before
    assert signed.getparent() is None
    assert etree.QName(signed).localname == "PaymentOrder"
    assert verify_document(etree.tostring(signed), [key.certificate])


def test_a_document_already_signed_is_refused(key: SigningKey) -> None:
    with pytest.raises(ValueError, match="already has a ds:Signature"):
        sign_document(etree.fromstring(signed_bytes(key)), key)


# Verification with signxml


def test_signxml_alone_verifies_it(key: SigningKey) -> None:
    config = SignatureConfiguration(location="./", expect_references=1)

    result = XMLVerifier().verify(
        signed_bytes(key), x509_cert=key.certificate, expect_config=config
    )

    assert result.signed_xml.find("ds:Signature", NS) is None
    assert result.signed_xml.findtext("po:amount", namespaces=NS) == "1500.00"


def test_verify_document_returns_the_verified_document_without_signature(
    key: SigningKey, other: SigningKey
) -> None:
    result = verify_document(signed_bytes(key), [other.certificate, key.certificate])

    assert result.key_name == key.key_id
    assert result.certificate == key.certificate
    assert result.document.find("ds:Signature", NS) is None
    assert result.document.findtext("po:amount", namespaces=NS) == "1500.00"


def test_a_tampered_document_fails(key: SigningKey) -> None:
    data = signed_bytes(key).replace(b"1500.00", b"9500.00")

    with pytest.raises(SignatureError, match="digest mismatch"):
        verify_document(data, [key.certificate])


def test_a_document_signed_by_another_key_is_not_trusted(
    key: SigningKey, other: SigningKey
) -> None:
    with pytest.raises(SignatureError, match="signing certificate is not trusted"):
        verify_document(signed_bytes(other), [key.certificate])


def test_a_swapped_certificate_fails_the_signature(
    key: SigningKey, other: SigningKey
) -> None:
    # Our certificate pasted into a document that another key signed.
    ours = etree.fromstring(signed_bytes(key))
    forged = etree.fromstring(signed_bytes(other))
    path = "ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate"
    forged.find(path, NS).text = ours.find(path, NS).text

    with pytest.raises(SignatureError, match="signature value mismatch"):
        verify_document(etree.tostring(forged), [key.certificate])


def test_an_unsigned_document_fails(key: SigningKey) -> None:
    with pytest.raises(SignatureError, match="no enveloped ds:Signature"):
        verify_document(ORDER, [key.certificate])


def test_a_reference_to_part_of_the_document_is_refused(key: SigningKey) -> None:
    document = etree.fromstring(
        ORDER.replace(b"<po:amount>", b'<po:amount Id="amount">')
    )
    signer = XMLSigner(method=methods.enveloped, c14n_algorithm=EXC_C14N)
    signed = signer.sign(
        document,
        key=key.private_key,
        cert=[key.certificate],
        reference_uri="#amount",
    )

    with pytest.raises(SignatureError, match='one Reference with URI=""'):
        verify_document(etree.tostring(signed), [key.certificate])


def test_inclusive_c14n_is_refused(key: SigningKey) -> None:
    signer = XMLSigner(method=methods.enveloped)  # signxml's default: C14N 1.1
    signed = signer.sign(
        etree.fromstring(ORDER), key=key.private_key, cert=[key.certificate]
    )

    with pytest.raises(SignatureError, match="exclusive c14n"):
        verify_document(etree.tostring(signed), [key.certificate])


def test_two_signatures_are_refused(key: SigningKey) -> None:
    root = etree.fromstring(signed_bytes(key))
    root.append(copy.deepcopy(root[-1]))

    with pytest.raises(SignatureError, match="more than one ds:Signature"):
        verify_document(etree.tostring(root), [key.certificate])


def test_a_doctype_is_refused(key: SigningKey) -> None:
    data = b'<!DOCTYPE x [<!ENTITY e "x">]>' + signed_bytes(key)

    with pytest.raises(SignatureError, match="not well-formed"):
        verify_document(data, [key.certificate])


def test_document_certificates_names_the_claimed_signer(key: SigningKey) -> None:
    assert document_certificates(signed_bytes(key)) == [key.certificate]


# Verification with the xmlsec1 CLI


def test_xmlsec1_verifies_a_signed_document(
    key: SigningKey, folder: Path, tmp_path: Path
) -> None:
    done = run_xmlsec1(signed_bytes(key), [cert_of(folder, key)], tmp_path)

    assert done.returncode == 0, done.stderr
    assert "SignedInfo References (ok/all): 1/1" in done.stderr


def test_xmlsec1_picks_the_key_named_in_key_name(
    key: SigningKey, other: SigningKey, folder: Path, tmp_path: Path
) -> None:
    # During a rotation a receiver trusts two certificates, named by key id.
    certs = [cert_of(folder, other), cert_of(folder, key)]

    done = run_xmlsec1(signed_bytes(key), certs, tmp_path)

    assert done.returncode == 0, done.stderr


def test_xmlsec1_fails_a_tampered_document(
    key: SigningKey, folder: Path, tmp_path: Path
) -> None:
    data = signed_bytes(key).replace(b"1500.00", b"9500.00")

    done = run_xmlsec1(data, [cert_of(folder, key)], tmp_path)

    assert done.returncode != 0


def test_xmlsec1_fails_another_signer(
    key: SigningKey, other: SigningKey, folder: Path, tmp_path: Path
) -> None:
    done = run_xmlsec1(signed_bytes(other), [cert_of(folder, key)], tmp_path)

    assert done.returncode != 0


def test_xmlsec1_refuses_a_key_the_document_brings_itself(
    key: SigningKey, other: SigningKey, folder: Path, tmp_path: Path
) -> None:
    # A bare ds:KeyValue would pass `xmlsec1 --trusted-pem`; the command must not.
    signer = XMLSigner(method=methods.enveloped, c14n_algorithm=EXC_C14N)
    forged = signer.sign(
        etree.fromstring(ORDER), key=other.private_key, key_name=key.key_id
    )
    assert forged.find("ds:Signature/ds:KeyInfo/ds:KeyValue", NS) is not None

    done = run_xmlsec1(etree.tostring(forged), [cert_of(folder, key)], tmp_path)

    assert done.returncode != 0
