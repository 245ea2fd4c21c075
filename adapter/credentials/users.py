"""Integration users.

A password is kept twice, never in clear text: an argon2id hash, which checks
PasswordText, and a Fernet ciphertext under the configured secret key, because
PasswordDigest (``Base64(SHA-1(nonce + created + password))``) can only be
recomputed by a server that can recover the password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography import x509
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapter.credentials.roles import check_role
from adapter.errors import ConfigurationError, ConflictError, ValidationError
from adapter.storage.models import User

_hasher = PasswordHasher()


class StoredPassword(Protocol):
    """What a password check reads: a ``User`` row, or a row of its columns."""

    @property
    def password_hash(self) -> str: ...
    @property
    def password_secret(self) -> bytes: ...


MIN_PASSWORD = 12


@dataclass(frozen=True)
class UserRecord:
    name: str
    role: str
    certificate_pem: str | None = None


class PasswordVault:
    """Hashes, encrypts and checks passwords; remembers recent good checks.

    argon2 costs tens of milliseconds on purpose; a successful check is cached
    for ``cache_seconds`` under a keyed digest, so a busy ERP is not slowed to
    the hash's pace. A changed password changes the stored hash, which misses
    the cache.
    """

    def __init__(self, fernet_key: bytes, cache_seconds: float = 60.0) -> None:
        try:
            self._fernet = Fernet(fernet_key)
        except ValueError as exc:
            raise ConfigurationError(
                "security.secret_key is not a valid Fernet key"
            ) from exc
        self._cache_key = secrets.token_bytes(32)
        self._cache_seconds = cache_seconds
        self._good: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def protect(self, password: str) -> tuple[str, bytes]:
        return _hasher.hash(password), self._fernet.encrypt(password.encode())

    def reveal(self, secret: bytes) -> str:
        try:
            return self._fernet.decrypt(secret).decode()
        except InvalidToken as exc:
            raise ConfigurationError(
                "a stored password cannot be decrypted: the secret key changed"
            ) from exc

    def check_text(self, user: StoredPassword, password: str) -> bool:
        marker = hmac.digest(
            self._cache_key, f"{user.password_hash}\0{password}".encode(), "sha256"
        )
        now = time.monotonic()
        with self._lock:
            if self._good.get(marker, 0) > now:
                return True
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        with self._lock:
            if len(self._good) > 10_000:
                self._good.clear()
            self._good[marker] = now + self._cache_seconds
        return True

    def check_digest(
        self, user: StoredPassword, digest: bytes, nonce: bytes, created: str
    ) -> bool:
        password = self.reveal(user.password_secret).encode()
        expected = hashlib.sha1(nonce + created.encode() + password).digest()  # noqa: S324 (WS-Security UsernameToken profile 1.1)
        return hmac.compare_digest(expected, digest)


def add_user(
    session: Session, vault: PasswordVault, name: str, role: str, password: str
) -> UserRecord:
    """Create an integration user; the name must be new."""
    if (
        not name
        or len(name) > 80
        or not name.replace("-", "").replace("_", "").replace(".", "").isalnum()
    ):
        raise ValidationError("name", "use 1 to 80 letters, digits, '.', '-' or '_'")
    check_role(role)
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            "password", f"must have at least {MIN_PASSWORD} characters"
        )
    password_hash, secret = vault.protect(password)
    session.add(
        User(
            name=name,
            role=role,
            password_hash=password_hash,
            password_secret=secret,
            created_at=dt.datetime.now(dt.UTC),
        )
    )
    try:
        session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"a user named {name} already exists") from exc
    return UserRecord(name, role)


def set_role(session: Session, name: str, role: str) -> str:
    """Give user ``name`` the role ``role``; returns the role it had."""
    check_role(role)
    user = find_user(session, name)
    if user is None:
        raise ValidationError("name", f"no user named {name}")
    before, user.role = user.role, role
    return before


def find_user(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).one_or_none()


def list_users(session: Session) -> list[UserRecord]:
    rows = session.scalars(select(User).order_by(User.name))
    return [UserRecord(u.name, u.role) for u in rows]


def certificate_fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def bind_certificate(session: Session, name: str, pem: bytes | None) -> str | None:
    """Bind ``name`` to the certificate in ``pem`` (``None`` unbinds).

    From then on the user's requests must be signed with that certificate's
    key. Returns the certificate's SHA-256 fingerprint.
    """
    user = find_user(session, name)
    if user is None:
        raise ValidationError("name", f"no user named {name}")
    if pem is None:
        user.certificate_pem = user.certificate_sha256 = None
        return None
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise ValidationError("certificate", "is not a PEM X.509 certificate") from exc
    user.certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    user.certificate_sha256 = certificate_fingerprint(certificate)
    return user.certificate_sha256
