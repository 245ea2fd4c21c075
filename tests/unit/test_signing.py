"""Signing layer: keys, WS-Security signing, verification, and the xmlsec1 CLI."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from lxml import etree
from signxml import XMLSigner, methods

from adapter.errors import ConfigurationError, SignatureError
from adapter.signing import (
    SigningKey,
    generate_signing_key,
    load_signing_key,
    sign_envelope,
    verify_envelope,
    xmlsec1_command,
)
from adapter.signing.wsse import EXC_C14N
from adapter.xmlutil import DS, SOAP11_ENV, WSA, WSSE, WSU

NS = {"soap": SOAP11_ENV, "wsse": WSSE, "wsu": WSU, "wsa": WSA, "ds": DS}
INCLUSIVE_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPE = (
    b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soap-env:Body>"
    b'<ns0:createLawsuit xmlns:ns0="urn:ponte:test"><ns0:amount>100.00</ns0:amount>'
    b"</ns0:createLawsuit>"
    b"</soap-env:Body></soap-env:Envelope>"
)
MESSAGE_ID = "urn:uuid:6f1c1d0e-0000-4000-8000-000000000001"


# Fixtures and helpers


@pytest.fixture(scope="module")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("ponte-key")
    key_path, cert_path = folder / "signing.key", folder / "signing.crt"
    generate_signing_key(key_path, cert_path, common_name="Ponte test")
    return key_path, cert_path


@pytest.fixture(scope="module")
def signing_key(key_files: tuple[Path, Path]) -> SigningKey:
    return load_signing_key("ponte-test-1", *key_files)


@pytest.fixture(scope="module")
def other_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("other-key")
    key_path, cert_path = folder / "other.key", folder / "other.crt"
    generate_signing_key(key_path, cert_path, common_name="Somebody else")
    return key_path, cert_path


@pytest.fixture(scope="module")
def other_key(other_files: tuple[Path, Path]) -> SigningKey:
    return load_signing_key("other", *other_files)


def signed(key: SigningKey, **kwargs: object) -> etree._Element:
    """A freshly signed copy of ENVELOPE."""
    options: dict = {"message_id": MESSAGE_ID, **kwargs}
    return sign_envelope(etree.fromstring(ENVELOPE), key, **options)


def to_bytes(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope)


def resign(
    envelope: etree._Element,
    private_key: object,
    ids: list[str],
    *,
    cert: list[x509.Certificate] | None = None,
    c14n: str = EXC_C14N,
) -> etree._Element:
    """Replace the signature by one over ``ids`` only, made directly with signxml."""
    security = envelope.find("soap:Header/wsse:Security", NS)
    security.remove(security.find("ds:Signature", NS))
    signer = XMLSigner(method=methods.detached, c14n_algorithm=c14n)
    uris = [f"#{element_id}" for element_id in ids]
    security.append(
        signer.sign(envelope, key=private_key, cert=cert, reference_uri=uris)
    )
    return envelope


def wsu_id(envelope: etree._Element, path: str) -> str:
    return envelope.find(path, NS).get(f"{{{WSU}}}Id")


def run_xmlsec1(
    message: bytes, cert_path: Path, folder: Path
) -> subprocess.CompletedProcess:
    if shutil.which("xmlsec1") is None:
        pytest.skip("the xmlsec1 CLI is not installed")
    path = folder / "message.xml"
    path.write_bytes(message)
    return subprocess.run(
        xmlsec1_command(path, cert_path), capture_output=True, check=False, timeout=30
    )


# Signing and verifying


def test_signed_envelope_verifies_and_returns_message_id(
    signing_key: SigningKey,
) -> None:
    envelope = signed(signing_key)

    result = verify_envelope(to_bytes(envelope), [signing_key.certificate])

    assert result.message_id == MESSAGE_ID
    assert result.key_name == "ponte-test-1"
    assert result.body.tag == f"{{{SOAP11_ENV}}}Body"
    amount = "{urn:ponte:test}createLawsuit/{urn:ponte:test}amount"
    assert result.body.findtext(amount) == "100.00"
    assert result.signed_ids == {
        wsu_id(envelope, "soap:Body"),
        wsu_id(envelope, "soap:Header/wsse:Security/wsu:Timestamp"),
        wsu_id(envelope, "soap:Header/wsa:MessageID"),
    }


def test_signed_envelope_carries_addressing_timestamp_and_exc_c14n(
    signing_key: SigningKey,
) -> None:
    created = dt.datetime(2030, 1, 2, 3, 4, 5, 678, tzinfo=dt.UTC)
    envelope = signed(
        signing_key, action="urn:act", to="https://erp/ws", created=created
    )

    assert envelope[0].tag == f"{{{SOAP11_ENV}}}Header"
    assert envelope.findtext("soap:Header/wsa:Action", namespaces=NS) == "urn:act"
    assert envelope.findtext("soap:Header/wsa:To", namespaces=NS) == "https://erp/ws"
    security = envelope.find("soap:Header/wsse:Security", NS)
    assert security.get(f"{{{SOAP11_ENV}}}mustUnderstand") == "1"
    assert security.findtext("wsu:Timestamp/wsu:Created", namespaces=NS) == (
        "2030-01-02T03:04:05Z"
    )
    assert security.findtext("wsu:Timestamp/wsu:Expires", namespaces=NS) == (
        "2030-01-02T03:09:05Z"
    )
    algorithms = {
        el.get("Algorithm") for el in security.iterfind(".//ds:Transform", NS)
    }
    assert algorithms == {EXC_C14N}
    assert security.findtext(".//ds:X509Certificate", namespaces=NS)


def test_ids_are_unique_per_message(signing_key: SigningKey) -> None:
    first, second = signed(signing_key), signed(signing_key)

    assert wsu_id(first, "soap:Body").startswith("id-body-")
    assert wsu_id(first, "soap:Body") != wsu_id(second, "soap:Body")


def test_naive_created_is_refused(signing_key: SigningKey) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        signed(signing_key, created=dt.datetime(2030, 1, 1))


def test_zeep_signed_envelope_verifies(key_files: tuple[Path, Path]) -> None:
    xmlsec = pytest.importorskip("xmlsec")
    from zeep.wsse.signature import Signature

    key_path, cert_path = key_files
    plugin = Signature(
        str(key_path),
        str(cert_path),
        signature_method=xmlsec.Transform.RSA_SHA256,
        digest_method=xmlsec.Transform.SHA256,
    )
    envelope, _ = plugin.apply(etree.fromstring(ENVELOPE), {})
    trusted = [x509.load_pem_x509_certificate(cert_path.read_bytes())]

    result = verify_envelope(to_bytes(envelope), trusted, require=("Body",))

    assert result.message_id is None
    assert len(result.signed_ids) == 1


# The xmlsec1 CLI, as shown to receivers


def test_saved_message_verifies_with_xmlsec1(
    signing_key: SigningKey, key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    done = run_xmlsec1(to_bytes(signed(signing_key)), key_files[1], tmp_path)

    assert done.returncode == 0, done.stderr.decode()
    assert b"SignedInfo References (ok/all): 3/3" in done.stderr


def test_tampered_body_fails_xmlsec1(
    signing_key: SigningKey, key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    message = to_bytes(signed(signing_key)).replace(b"100.00", b"999.00")

    done = run_xmlsec1(message, key_files[1], tmp_path)

    assert done.returncode != 0


def test_other_signer_fails_xmlsec1(
    other_key: SigningKey, key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    done = run_xmlsec1(to_bytes(signed(other_key)), key_files[1], tmp_path)

    assert done.returncode != 0


def test_keyvalue_forgery_fails_xmlsec1(
    signing_key: SigningKey,
    other_key: SigningKey,
    key_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    # A bare ds:KeyValue passes `xmlsec1 --trusted-pem`; the command must refuse it.
    envelope = signed(signing_key)
    ids = [wsu_id(envelope, "soap:Body")]
    forged = resign(envelope, other_key.private_key, ids)
    assert forged.find(".//ds:KeyInfo/ds:KeyValue", NS) is not None

    done = run_xmlsec1(to_bytes(forged), key_files[1], tmp_path)

    assert done.returncode != 0


# Verification failures


def test_tampered_body_fails_signxml(signing_key: SigningKey) -> None:
    message = to_bytes(signed(signing_key)).replace(b"100.00", b"999.00")

    with pytest.raises(SignatureError, match="digest mismatch"):
        verify_envelope(message, [signing_key.certificate])


def test_tampered_message_id_fails(signing_key: SigningKey) -> None:
    message = to_bytes(signed(signing_key)).replace(MESSAGE_ID.encode(), b"urn:uuid:x")

    with pytest.raises(SignatureError, match="digest mismatch"):
        verify_envelope(message, [signing_key.certificate])


def test_extended_expires_fails(signing_key: SigningKey) -> None:
    envelope = signed(signing_key)
    expires = envelope.find(".//wsu:Expires", NS)
    expires.text = "2099-01-01T00:00:00Z"

    with pytest.raises(SignatureError, match="digest mismatch"):
        verify_envelope(to_bytes(envelope), [signing_key.certificate])


def test_removed_body_reference_fails(signing_key: SigningKey) -> None:
    envelope = signed(signing_key)
    signed_info = envelope.find(".//ds:SignedInfo", NS)
    signed_info.remove(signed_info.find("ds:Reference", NS))

    with pytest.raises(SignatureError, match="signature value mismatch"):
        verify_envelope(to_bytes(envelope), [signing_key.certificate])


def test_valid_signature_without_body_is_rejected(signing_key: SigningKey) -> None:
    envelope = signed(signing_key)
    ids = [
        wsu_id(envelope, "soap:Header/wsse:Security/wsu:Timestamp"),
        wsu_id(envelope, "soap:Header/wsa:MessageID"),
    ]
    resign(envelope, signing_key.private_key, ids, cert=[signing_key.certificate])

    with pytest.raises(SignatureError, match="Body is not signed"):
        verify_envelope(to_bytes(envelope), [signing_key.certificate])


def test_unsigned_envelope_is_rejected(signing_key: SigningKey) -> None:
    with pytest.raises(SignatureError, match="no wsse:Security signature"):
        verify_envelope(ENVELOPE, [signing_key.certificate])


def test_certificate_not_in_trusted_list_is_rejected(
    signing_key: SigningKey, other_key: SigningKey
) -> None:
    message = to_bytes(signed(other_key))

    with pytest.raises(SignatureError, match="certificate is not trusted"):
        verify_envelope(message, [signing_key.certificate])


def test_trusted_certificate_pasted_into_foreign_signature_fails(
    signing_key: SigningKey, other_key: SigningKey
) -> None:
    envelope = signed(other_key)
    embedded = envelope.find(".//ds:X509Certificate", NS)
    embedded.text = signed(signing_key).findtext(".//ds:X509Certificate", namespaces=NS)

    with pytest.raises(SignatureError, match="signature value mismatch"):
        verify_envelope(to_bytes(envelope), [signing_key.certificate])


def test_keyvalue_without_certificate_is_rejected(
    signing_key: SigningKey, other_key: SigningKey
) -> None:
    envelope = signed(signing_key)
    resign(envelope, other_key.private_key, [wsu_id(envelope, "soap:Body")])

    with pytest.raises(SignatureError, match=r"carries no X\.509 certificate"):
        verify_envelope(to_bytes(envelope), [signing_key.certificate])


def test_inclusive_c14n_signature_is_rejected(signing_key: SigningKey) -> None:
    envelope = signed(signing_key)
    ids = [wsu_id(envelope, "soap:Body")]
    resign(
        envelope,
        signing_key.private_key,
        ids,
        cert=[signing_key.certificate],
        c14n=INCLUSIVE_C14N,
    )

    with pytest.raises(SignatureError, match="exclusive c14n"):
        verify_envelope(
            to_bytes(envelope), [signing_key.certificate], require=("Body",)
        )


def test_wrapped_body_is_rejected(signing_key: SigningKey) -> None:
    # Signature wrapping: the signed Body moves into the header, a new Body is read.
    envelope = signed(signing_key)
    body = envelope.find("soap:Body", NS)
    wrapper = etree.SubElement(envelope.find("soap:Header", NS), "{urn:evil}Wrapper")
    wrapper.append(body)
    forged = etree.SubElement(envelope, f"{{{SOAP11_ENV}}}Body")
    etree.SubElement(forged, "{urn:ponte:test}createLawsuit").text = "forged"

    with pytest.raises(SignatureError, match="signed Body is not the message's Body"):
        verify_envelope(to_bytes(envelope), [signing_key.certificate])


def test_expired_timestamp_is_rejected(signing_key: SigningKey) -> None:
    created = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    message = to_bytes(signed(signing_key, created=created, ttl_seconds=300))

    with pytest.raises(SignatureError, match="Timestamp has expired"):
        verify_envelope(message, [signing_key.certificate])


def test_expires_is_accepted_within_clock_skew_only(signing_key: SigningKey) -> None:
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    message = to_bytes(signed(signing_key, created=created, ttl_seconds=60))
    expires = created + dt.timedelta(seconds=60)

    verify_envelope(
        message, [signing_key.certificate], now=expires + dt.timedelta(seconds=300)
    )
    with pytest.raises(SignatureError, match="Timestamp has expired"):
        verify_envelope(
            message, [signing_key.certificate], now=expires + dt.timedelta(seconds=301)
        )


def test_timestamp_from_the_future_is_rejected(signing_key: SigningKey) -> None:
    created = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    message = to_bytes(signed(signing_key, created=created))

    with pytest.raises(SignatureError, match="created in the future"):
        verify_envelope(message, [signing_key.certificate])


def test_malformed_message_is_a_signature_error(signing_key: SigningKey) -> None:
    with pytest.raises(SignatureError, match="not well-formed") as caught:
        verify_envelope(b"<soap-env:Envelope", [signing_key.certificate])

    assert isinstance(caught.value.__cause__, etree.XMLSyntaxError)


def test_require_without_body_is_refused(signing_key: SigningKey) -> None:
    message = to_bytes(signed(signing_key))

    with pytest.raises(ValueError, match="must include Body"):
        verify_envelope(message, [signing_key.certificate], require=("Timestamp",))


# Keys


def test_key_file_mode_is_0600(key_files: tuple[Path, Path]) -> None:
    assert key_files[0].stat().st_mode & 0o777 == 0o600


def test_generated_certificate_is_a_self_signed_ca(signing_key: SigningKey) -> None:
    cert = signing_key.certificate
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value

    assert cert.issuer == cert.subject
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert constraints.ca is True
    assert usage.digital_signature and usage.key_cert_sign
    assert cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert signing_key.cert_pem.startswith(b"-----BEGIN CERTIFICATE-----")


def test_generate_signing_key_refuses_to_overwrite(
    key_files: tuple[Path, Path],
) -> None:
    key_path, cert_path = key_files
    before = key_path.read_bytes()

    with pytest.raises(ConfigurationError, match="already exists") as caught:
        generate_signing_key(key_path, cert_path.with_name("new.crt"))

    assert isinstance(caught.value.__cause__, FileExistsError)
    assert key_path.read_bytes() == before
    assert not cert_path.with_name("new.crt").exists()


def test_certificate_that_does_not_match_key_is_a_configuration_error(
    key_files: tuple[Path, Path], other_files: tuple[Path, Path]
) -> None:
    with pytest.raises(ConfigurationError, match=r"other\.crt does not match"):
        load_signing_key("mixed", key_files[0], other_files[1])


def test_missing_key_file_is_a_configuration_error(
    key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match=r"absent\.key cannot be read"):
        load_signing_key("absent", tmp_path / "absent.key", key_files[1])


def test_certificate_file_that_is_not_pem_is_a_configuration_error(
    key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.crt"
    garbage.write_bytes(b"not a certificate")

    with pytest.raises(ConfigurationError, match=r"garbage\.crt is not a PEM"):
        load_signing_key("garbage", key_files[0], garbage)
