"""Signing keys: load them once at startup, or generate a self-signed pair.

Several keys per signing name, with rotation, live in ``keyring``; this module
only reads and writes one key pair.

signxml reloads a PEM key on every call it is given as bytes (about 31 ms each,
because of cryptography's RSA key check), so Ponte loads the key and the
certificate into objects once and passes those objects to every signature.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from adapter.errors import ConfigurationError

_RSA_BITS = 2048
_RSA_EXPONENT = 65537
# A new certificate is valid from slightly in the past, so that a receiver whose
# clock runs a little behind does not reject it as "not yet valid".
_BACKDATE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class SigningKey:
    """A loaded RSA private key, its certificate and the name receivers know it by.

    ``key_id`` travels in ``ds:KeyName``; it is a label, not a secret.
    """

    key_id: str
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        """The certificate in PEM form, as handed to receivers."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate (DER), lower-case hex."""
        return fingerprint(self.certificate)

    def __repr__(self) -> str:
        # Keep the private key out of logs and tracebacks.
        return f"SigningKey(key_id={self.key_id!r})"


def load_signing_key(key_id: str, key_path: Path, cert_path: Path) -> SigningKey:
    """Load an unencrypted PEM RSA key and its PEM certificate.

    Raises ``ConfigurationError`` naming the file when a file is missing or
    unreadable, when the key is not RSA, or when the certificate's public key
    does not belong to the private key.
    """
    private_key = _load_private_key(key_path)
    certificate = _load_certificate(cert_path)

    if certificate.public_key() != private_key.public_key():
        raise ConfigurationError(
            f"certificate {cert_path} does not match the signing key {key_path}"
        )
    return SigningKey(key_id, private_key, certificate)


def generate_signing_key(
    key_path: Path,
    cert_path: Path,
    common_name: str = "Ponte",
    days: int = 825,
) -> None:
    """Write a new RSA-2048 key (mode 0600) and a self-signed SHA-256 certificate.

    Existing files are never overwritten: ``ConfigurationError`` is raised,
    chained from ``FileExistsError``, and neither file is touched.
    """
    new_signing_key("unnamed", key_path, cert_path, common_name=common_name, days=days)


def new_signing_key(
    key_id: str,
    key_path: Path,
    cert_path: Path,
    *,
    common_name: str = "Ponte",
    days: int = 825,
    now: dt.datetime | None = None,
) -> SigningKey:
    """Like ``generate_signing_key``, and return the new key already loaded.

    The key is not read back from disk: loading a PEM key costs about 31 ms.
    ``now`` (aware) is when the certificate starts, less a few minutes.
    """
    for path in (key_path, cert_path):
        if path.exists():
            raise ConfigurationError(
                f"{path} already exists; refusing to overwrite it"
            ) from FileExistsError(path)

    private_key = rsa.generate_private_key(_RSA_EXPONENT, _RSA_BITS)
    certificate = _self_signed_certificate(private_key, common_name, days, now)
    key_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )

    _write_new_file(key_path, key_pem, mode=0o600)
    try:
        _write_new_file(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
    except ConfigurationError:
        key_path.unlink()
        raise
    return SigningKey(key_id, private_key, certificate)


def load_certificate(path: Path) -> x509.Certificate:
    """Read one PEM X.509 certificate; ``ConfigurationError`` names the file."""
    return _load_certificate(path)


def fingerprint(certificate: x509.Certificate) -> str:
    """The SHA-256 fingerprint of the DER certificate, lower-case hex."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def _load_private_key(path: Path) -> rsa.RSAPrivateKey:
    """Read one PEM private key; anything but an unencrypted RSA key is refused."""
    data = _read(path, "signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(
            f"signing key {path} is not an unencrypted PEM private key"
        ) from exc

    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError(f"signing key {path} is not an RSA key")
    return key


def _load_certificate(path: Path) -> x509.Certificate:
    """Read one PEM X.509 certificate."""
    data = _read(path, "certificate")
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise ConfigurationError(
            f"certificate {path} is not a PEM certificate"
        ) from exc


def _read(path: Path, what: str) -> bytes:
    """Read a whole file, turning any OS error into a ConfigurationError."""
    try:
        return path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(f"{what} {path} cannot be read: {reason}") from exc


def _self_signed_certificate(
    private_key: rsa.RSAPrivateKey,
    common_name: str,
    days: int,
    now: dt.datetime | None = None,
) -> x509.Certificate:
    """Build a self-signed certificate that receivers can also use as trust anchor.

    CA:TRUE and keyCertSign let tools such as ``xmlsec1 --trusted-pem`` accept
    the certificate as its own root.
    """
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    public_key = private_key.public_key()
    now = now or dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False
        )
    )
    return builder.sign(private_key, hashes.SHA256())


def _key_usage() -> x509.KeyUsage:
    """digitalSignature for the XML signatures, keyCertSign for self-signing."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _write_new_file(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Create ``path`` with ``mode``; fail if it exists (no race with O_EXCL)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as exc:
        raise ConfigurationError(
            f"{path} already exists; refusing to overwrite it"
        ) from exc

    with os.fdopen(fd, "wb") as handle:
        # The umask may have removed bits; set the mode exactly.
        os.fchmod(handle.fileno(), mode)
        handle.write(data)
