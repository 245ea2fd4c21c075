"""Standard Webhooks v1 signatures for plain-HTTP targets.

Every POST to an http target carries the three headers of the Standard Webhooks
specification (v1.0.0, "Webhook headers" and "Signature scheme"):
``webhook-id``, ``webhook-timestamp`` (unix seconds) and ``webhook-signature``.
The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``, where the body
is the exact bytes sent. Two schemes:

- ``v1,<base64>``: HMAC-SHA256 with a shared secret written ``whsec_<base64>``
  (24 to 64 random bytes);
- ``v1a,<base64>``: ed25519 with Ponte's private key (a PEM file); receivers
  hold the public key as ``whpk_<base64 of the 32 raw bytes>`` or as PEM.

``webhook-signature`` is a space-separated list with one signature per secret
and key, so a receiver keeps working while a secret is rotated.

Secrets and keys are loaded once, into ``WebhookKeys`` (to sign) or
``WebhookVerifier`` (to verify); their ``repr`` counts them and shows nothing
else. ``verify`` raises ``SignatureError`` with a message that names what is
wrong (a missing header, a timestamp outside the tolerance, no matching
signature) and never a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from hmac import compare_digest
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from adapter.errors import ConfigurationError, SignatureError
from adapter.signing.keys import _write_new_file

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
PUBLIC_KEY_PREFIX = "whpk_"
HMAC_VERSION = "v1"
ED25519_VERSION = "v1a"
# The reference library's tolerance, in both directions.
DEFAULT_TOLERANCE_SECONDS = 300
# Standard Webhooks, "Signature scheme": secrets of 24 to 64 random bytes.
SECRET_MIN_BYTES, SECRET_MAX_BYTES = 24, 64

Scheme = Literal["v1", "v1a"]


# Secrets and public keys as text


def parse_secret(text: str) -> bytes:
    """Decode one ``whsec_<base64>`` secret.

    Raises ``ValueError`` saying what is wrong; the message never quotes the
    secret.
    """
    if not text.startswith(SECRET_PREFIX):
        raise ValueError(f"a secret must start with {SECRET_PREFIX}")
    raw = _b64decode(text.removeprefix(SECRET_PREFIX))
    if raw is None:
        raise ValueError(f"the text after {SECRET_PREFIX} is not base64")
    if not SECRET_MIN_BYTES <= len(raw) <= SECRET_MAX_BYTES:
        raise ValueError(
            f"a secret must be {SECRET_MIN_BYTES} to {SECRET_MAX_BYTES} bytes, "
            f"this one is {len(raw)}"
        )
    return raw


def parse_secrets(text: str) -> tuple[bytes, ...]:
    """Decode a space-separated list of ``whsec_`` secrets (rotation).

    Raises ``ValueError`` naming the position of a bad secret, or saying that
    there is none.
    """
    parts = text.split()
    if not parts:
        raise ValueError("no secret given")
    decoded = []
    for number, part in enumerate(parts, start=1):
        try:
            decoded.append(parse_secret(part))
        except ValueError as exc:
            raise ValueError(f"secret {number} of {len(parts)}: {exc}") from None
    return tuple(decoded)


def generate_secret(nbytes: int = 32) -> str:
    """A new random secret in the ``whsec_`` form, to give to one receiver."""
    if not SECRET_MIN_BYTES <= nbytes <= SECRET_MAX_BYTES:
        raise ValueError(f"nbytes must be {SECRET_MIN_BYTES} to {SECRET_MAX_BYTES}")
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(nbytes)).decode()


def public_key_whpk(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The public key as ``whpk_<base64 of the 32 raw bytes>``."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode()


def public_key_pem(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The public key as a PEM ``PUBLIC KEY`` block (SubjectPublicKeyInfo)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode()


def load_public_key(text: str | bytes) -> Ed25519PublicKey:
    """Read an ed25519 public key given as ``whpk_...`` or as PEM.

    Raises ``ValueError`` when it is neither.
    """
    value = text.decode() if isinstance(text, bytes) else text
    value = value.strip()
    if value.startswith(PUBLIC_KEY_PREFIX):
        raw = _b64decode(value.removeprefix(PUBLIC_KEY_PREFIX))
        if raw is None or len(raw) != 32:
            raise ValueError("a whpk_ key must be the base64 of 32 bytes")
        return Ed25519PublicKey.from_public_bytes(raw)
    try:
        key = serialization.load_pem_public_key(value.encode())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError("not a whpk_ key and not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the PEM public key is not an ed25519 key")
    return key


# Ed25519 private keys as files


def load_ed25519_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an unencrypted PEM ed25519 private key.

    Raises ``ConfigurationError`` naming the file when it cannot be read, is
    not an unencrypted PEM private key, or holds another kind of key.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(
            f"ed25519 key {path} cannot be read: {reason}"
        ) from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(
            f"ed25519 key {path} is not an unencrypted PEM private key"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"ed25519 key {path} is not an ed25519 key")
    return key


def generate_ed25519_key(path: Path) -> str:
    """Write a new ed25519 private key (PEM, mode 0600); return its ``whpk_`` form.

    An existing file is never overwritten: ``ConfigurationError`` is raised.
    """
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_new_file(path, pem, mode=0o600)
    return public_key_whpk(key)


# Signing


class WebhookKeys:
    """The HMAC secrets and the ed25519 key one target signs with, loaded once.

    ``sign`` gives the ``webhook-signature`` value: one ``v1`` signature per
    secret, in the order given, then a ``v1a`` one when there is a key.
    """

    __slots__ = ("_private_key", "_secrets")

    def __init__(
        self,
        secrets: Sequence[bytes] = (),
        private_key: Ed25519PrivateKey | None = None,
    ) -> None:
        if not secrets and private_key is None:
            raise ValueError("WebhookKeys needs a secret or an ed25519 key")
        self._secrets = tuple(secrets)
        self._private_key = private_key

    @property
    def public_key(self) -> Ed25519PublicKey | None:
        """The ed25519 public key receivers verify ``v1a`` with, if any."""
        return self._private_key.public_key() if self._private_key else None

    def sign(self, webhook_id: str, timestamp: int, body: bytes) -> str:
        """The ``webhook-signature`` header value for one message.

        Raises ``ValueError`` when the id is empty or holds a ``.``, which the
        specification forbids because ``.`` separates the signed parts.
        """
        content = signed_content(webhook_id, timestamp, body)
        signatures = [
            f"{HMAC_VERSION},{_b64(_hmac(secret, content))}" for secret in self._secrets
        ]
        if self._private_key is not None:
            signature = self._private_key.sign(content)
            signatures.append(f"{ED25519_VERSION},{_b64(signature)}")
        return " ".join(signatures)

    def __repr__(self) -> str:
        # Counts only: secrets and keys stay out of logs and tracebacks.
        ed25519 = "yes" if self._private_key else "no"
        return f"WebhookKeys(hmac_secrets={len(self._secrets)}, ed25519={ed25519})"


def signed_content(webhook_id: str, timestamp: int, body: bytes) -> bytes:
    """``{webhook-id}.{webhook-timestamp}.{body}``, the bytes both schemes sign."""
    if not webhook_id or "." in webhook_id:
        raise ValueError("a webhook id must be non-empty and contain no '.'")
    return f"{webhook_id}.{int(timestamp)}.".encode() + body


# Verifying


@dataclass(frozen=True)
class VerifiedWebhook:
    """What a successful ``verify`` vouches for: handle this, not the request."""

    webhook_id: str
    timestamp: int
    body: bytes
    scheme: Scheme


class WebhookVerifier:
    """Checks Standard Webhooks signatures against secrets and keys loaded once.

    ``secrets`` are ``whsec_`` strings (several may share one string, separated
    by spaces) or raw bytes; ``public_keys`` are ``whpk_`` strings, PEM, or key
    objects. A message passes when any one of its signatures matches any one
    secret or key, so both sides can rotate without downtime.
    """

    __slots__ = ("_public_keys", "_secrets", "_tolerance")

    def __init__(
        self,
        secrets: Iterable[str | bytes] = (),
        public_keys: Iterable[str | bytes | Ed25519PublicKey] = (),
        *,
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    ) -> None:
        self._secrets = tuple(_secret_bytes(secrets))
        self._public_keys = tuple(
            k if isinstance(k, Ed25519PublicKey) else load_public_key(k)
            for k in public_keys
        )
        if not self._secrets and not self._public_keys:
            raise ValueError("WebhookVerifier needs a secret or a public key")
        self._tolerance = tolerance_seconds

    def verify(
        self,
        body: bytes,
        headers: Mapping[str, str],
        *,
        now: float | None = None,
    ) -> VerifiedWebhook:
        """Check one received message; ``now`` is unix seconds (default: the clock).

        Raises ``SignatureError`` when a header is missing, the timestamp is
        malformed or further than the tolerance from ``now`` (either way), or
        no signature matches. Signatures of unknown versions are skipped.
        """
        webhook_id, timestamp, signatures = _read_headers(headers)
        _check_timestamp(
            timestamp, time.time() if now is None else now, self._tolerance
        )
        try:
            content = signed_content(webhook_id, timestamp, body)
        except ValueError as exc:
            raise SignatureError(f"webhook-id: {exc}") from None
        for version, signature in _entries(signatures):
            if version == HMAC_VERSION and self._hmac_matches(content, signature):
                return VerifiedWebhook(webhook_id, timestamp, body, "v1")
            if version == ED25519_VERSION and self._ed25519_matches(content, signature):
                return VerifiedWebhook(webhook_id, timestamp, body, "v1a")
        raise SignatureError(
            "no signature in webhook-signature matches the body with the "
            "secrets and keys given"
        )

    def _hmac_matches(self, content: bytes, signature: bytes) -> bool:
        # Compare against every secret, in constant time each.
        matches = [compare_digest(_hmac(s, content), signature) for s in self._secrets]
        return any(matches)

    def _ed25519_matches(self, content: bytes, signature: bytes) -> bool:
        for key in self._public_keys:
            try:
                key.verify(signature, content)
            except InvalidSignature:
                continue
            return True
        return False

    def __repr__(self) -> str:
        return (
            f"WebhookVerifier(hmac_secrets={len(self._secrets)}, "
            f"public_keys={len(self._public_keys)}, "
            f"tolerance_seconds={self._tolerance})"
        )


def verify(
    body: bytes,
    headers: Mapping[str, str],
    *,
    secrets: Iterable[str | bytes] = (),
    public_keys: Iterable[str | bytes | Ed25519PublicKey] = (),
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> VerifiedWebhook:
    """Check one message in one call; see ``WebhookVerifier`` for the rules.

    A receiver that checks many messages should build a ``WebhookVerifier`` once.
    """
    verifier = WebhookVerifier(
        secrets, public_keys, tolerance_seconds=tolerance_seconds
    )
    return verifier.verify(body, headers, now=now)


def _read_headers(headers: Mapping[str, str]) -> tuple[str, int, str]:
    lower = {name.lower(): value for name, value in headers.items()}
    values = []
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        value = lower.get(name, "").strip()
        if not value:
            raise SignatureError(f"header {name} is missing")
        values.append(value)
    webhook_id, timestamp, signatures = values
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise SignatureError("header webhook-timestamp is not a unix time in seconds")
    return webhook_id, int(timestamp), signatures


def _check_timestamp(timestamp: int, now: float, tolerance: int) -> None:
    if now - timestamp > tolerance:
        raise SignatureError(
            f"webhook-timestamp is too old: {int(now - timestamp)} s ago, "
            f"more than the {tolerance} s tolerance"
        )
    if timestamp - now > tolerance:
        raise SignatureError(
            f"webhook-timestamp is too new: {int(timestamp - now)} s ahead, "
            f"more than the {tolerance} s tolerance"
        )


def _entries(header: str) -> Iterable[tuple[str, bytes]]:
    """``(version, signature bytes)`` pairs; malformed entries are skipped."""
    for entry in header.split():
        version, comma, encoded = entry.partition(",")
        signature = _b64decode(encoded) if comma else None
        if signature is not None:
            yield version, signature


def _secret_bytes(secrets: Iterable[str | bytes]) -> Iterable[bytes]:
    for secret in secrets:
        if isinstance(secret, bytes):
            yield secret
        else:
            yield from parse_secrets(secret)


def _hmac(secret: bytes, content: bytes) -> bytes:
    return hmac.new(secret, content, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _b64decode(text: str) -> bytes | None:
    """Strict standard base64, padding optional; ``None`` when it is not base64."""
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
