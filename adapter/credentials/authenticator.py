"""Who is calling: WS-Security UsernameToken or HTTP Basic, with lockout.

UsernameToken is checked for the password (PasswordText or PasswordDigest),
the freshness of ``wsu:Created`` and ``wsu:Timestamp``, and a nonce seen
before. HTTP Basic (what TOTVS clients send) checks the password alone.
Repeated failures lock the user out for a while; the counters live in the
users table, so every server process sees them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import NamedTuple, cast

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from sqlalchemy import Table, bindparam, delete, or_, select, update

from adapter.credentials.usernametoken import (
    Token,
    parse_time,
    read_token,
)
from adapter.credentials.users import (
    PasswordVault,
    StoredPassword,
    UserRecord,
    certificate_fingerprint,
    find_user,
)
from adapter.errors import AuthenticationError, SignatureError
from adapter.signing import signer_certificates, verify_envelope
from adapter.storage.cursor import Prepared, RawTransaction, insert_values
from adapter.storage.db import Database
from adapter.storage.models import UsedNonce, User
from adapter.xmlutil import DS, WSSE, WSU

_NS = {"wsse": WSSE, "wsu": WSU, "ds": DS}
_REFUSED = "the credentials were refused"
_USER_COLUMNS = (
    User.name,
    User.role,
    User.password_hash,
    User.password_secret,
    User.locked_until,
    User.failed_logins,
    User.certificate_pem,
)
# Every call runs these: compiled once, run on the DBAPI cursor.
_USER_BY_NAME = Prepared(select(*_USER_COLUMNS).where(User.name == bindparam("name")))
_STORE_NONCE = Prepared(insert_values(cast(Table, UsedNonce.__table__)))
# Only as the login read them: failures counted since (a lock set by someone
# guessing meanwhile) stay.
_CLEAR_FAILURES = Prepared(
    update(User)
    .where(
        User.name == bindparam("user_name"),
        User.failed_logins == bindparam("seen_failures"),
        or_(User.locked_until.is_(None), User.locked_until <= bindparam("now")),
    )
    .values(failed_logins=0, first_failure_at=None, locked_until=None)
)


@dataclass(frozen=True)
class _SeenOnce:
    """Store a value a user may present only once; the second time is a replay.

    A nonce, or the marker of a signed request. Deferred into the call's own
    transaction, where the primary key refuses a value stored before.
    """

    name: str
    value: str
    now: dt.datetime
    replay: str  # what the refusal says

    def __call__(self, tx: RawTransaction) -> None:
        values = {"user_name": self.name, "nonce": self.value, "seen_at": self.now}
        try:
            _STORE_NONCE.execute(tx, values)
        except tx.dialect.loaded_dbapi.IntegrityError:
            raise AuthenticationError(f"{_REFUSED}: {self.replay} (replay)") from None


@dataclass(frozen=True)
class _Remember:
    """After a good password: clear the failure count, store the nonce."""

    name: str
    failed_logins: int
    token: Token
    now: dt.datetime

    def __call__(self, tx: RawTransaction) -> None:
        if self.failed_logins:
            seen = {
                "user_name": self.name,
                "seen_failures": self.failed_logins,
                "now": self.now,
            }
            _CLEAR_FAILURES.execute(tx, seen)
        if self.token.nonce is not None:
            nonce = base64.b64encode(self.token.nonce).decode()
            _SeenOnce(self.name, nonce, self.now, "the nonce was already used")(tx)


class _UserRow(NamedTuple):
    name: str
    role: str
    password_hash: str
    password_secret: bytes
    locked_until: dt.datetime | None
    failed_logins: int
    certificate_pem: str | None


@dataclass(frozen=True)
class LockoutPolicy:
    """``failures`` wrong passwords within ``window`` lock the user for ``lock``."""

    failures: int = 5
    window: dt.timedelta = dt.timedelta(minutes=15)
    lock: dt.timedelta = dt.timedelta(minutes=15)


class Authenticator:
    """Checks callers against the users table; one per process."""

    def __init__(
        self,
        db: Database,
        vault: PasswordVault,
        window_seconds: int,
        lockout: LockoutPolicy | None = None,
    ) -> None:
        self._db = db
        self._vault = vault
        self._window = dt.timedelta(seconds=window_seconds)
        self._lockout = lockout or LockoutPolicy()
        self._certificates: dict[str, x509.Certificate] = {}

    def authenticate(
        self,
        header: etree._Element | None,
        now: dt.datetime | None = None,
        *,
        authorization: str | None = None,
        raw_body: bytes | None = None,
        client_certificate: bytes | None = None,
    ) -> UserRecord:
        """Return the user the SOAP header, HTTP Basic, or a signature proves.

        ``authorization`` is the HTTP Authorization header, used only when the
        SOAP header carries no UsernameToken. ``raw_body`` is the request as
        received: a user bound to a certificate must have signed it, and a
        request with only a signature is the bound user's.
        ``client_certificate`` (DER) is the TLS client certificate when Ponte
        terminates TLS: it identifies the bound user the same way, and stands
        in for the message signature. Raises ``AuthenticationError`` or
        ``SignatureError``.
        """
        now = now or dt.datetime.now(dt.UTC)
        if _has_token(header) or authorization:
            if _has_token(header):
                token = read_token(header)
                self._check_freshness(header, token, now)
            else:
                token = _basic_token(authorization or "")
            user = self._check_user(token, now)
        elif raw_body is not None and _has_signature(header):
            user = self._user_by_signature(raw_body, now)
        elif client_certificate is not None:
            certificate = x509.load_der_x509_certificate(client_certificate)
            return self._user_by_certificates([certificate], now, "TLS client")
        else:
            read_token(header)  # raises: no credentials at all
            raise AssertionError("unreachable")
        if user.certificate_pem is not None and not self._same_certificate(
            user, client_certificate
        ):
            self._check_signature(user, raw_body, now)
        return user

    def _same_certificate(self, user: UserRecord, der: bytes | None) -> bool:
        if der is None or user.certificate_pem is None:
            return False
        bound = self._certificate(user.certificate_pem)
        return bound.public_bytes(serialization.Encoding.DER) == der

    def _user_by_signature(self, raw_body: bytes, now: dt.datetime) -> UserRecord:
        return self._user_by_certificates(signer_certificates(raw_body), now, "signing")

    def _user_by_certificates(
        self, certificates: list[x509.Certificate], now: dt.datetime, kind: str
    ) -> UserRecord:
        fingerprints = [certificate_fingerprint(c) for c in certificates]
        with self._db.connection() as connection:
            user = connection.execute(
                select(*_USER_COLUMNS).where(User.certificate_sha256.in_(fingerprints))
            ).first()
        if user is None:
            raise AuthenticationError(f"no user is bound to the {kind} certificate")
        if _locked(user.locked_until, now):
            raise AuthenticationError(
                f"user {user.name} is locked after repeated failures"
            )
        return UserRecord(user.name, user.role, user.certificate_pem)

    def _check_signature(
        self, user: UserRecord, raw_body: bytes | None, now: dt.datetime
    ) -> None:
        """A signing partner's request: signed by its certificate, and new."""
        if raw_body is None or user.certificate_pem is None:
            raise SignatureError(f"user {user.name} must sign its requests")
        certificate = self._certificate(user.certificate_pem)
        try:
            verified = verify_envelope(
                raw_body, [certificate], require=("Body", "Timestamp"), now=now
            )
        except SignatureError as exc:
            raise SignatureError(
                f"user {user.name} must sign its requests: {exc}"
            ) from exc
        self._remember_signature(user.name, verified.signature_value, now)

    def _certificate(self, pem: str) -> x509.Certificate:
        found = self._certificates.get(pem)
        if found is None:
            found = self._certificates[pem] = x509.load_pem_x509_certificate(
                pem.encode()
            )
        return found

    def _remember_signature(self, name: str, value: bytes, now: dt.datetime) -> None:
        """A signature seen before is a replayed request, like a reused nonce."""
        marker = "sig:" + hashlib.sha256(value).hexdigest()
        replay = "the signed request was already received"
        self._db.defer(_SeenOnce(name, marker, now, replay))

    def _check_user(self, token: Token, now: dt.datetime) -> UserRecord:
        # A read (this runs on every call); the nonce of a good password is
        # then written with the call's own transaction (``Database.defer``),
        # where a second use of it fails on the primary key: a replay.
        with self._db.cursor(write=False) as tx:
            found = _USER_BY_NAME.first(tx, {"name": token.username})
        user = _UserRow(*found) if found is not None else None
        if user is not None and _locked(user.locked_until, now):
            raise AuthenticationError(
                f"user {user.name} is locked after repeated failures until "
                f"{user.locked_until:%Y-%m-%dT%H:%M:%SZ}"
            )
        if user is not None and self._password_ok(user, token):
            if user.failed_logins or token.nonce is not None:
                self._db.defer(_Remember(user.name, user.failed_logins, token, now))
            return UserRecord(user.name, user.role, user.certificate_pem)
        self._count_failure(token.username, now)
        raise AuthenticationError(_REFUSED + ": wrong user name or password")

    def _count_failure(self, username: str, now: dt.datetime) -> None:
        """Count a wrong password in its own transaction; lock at the limit."""
        policy = self._lockout
        with self._db.transaction() as session:
            user = find_user(session, username)
            if user is None:
                return
            first = user.first_failure_at
            if first is None or now - first > policy.window:
                user.first_failure_at, user.failed_logins = now, 1
            else:
                user.failed_logins += 1
            if user.failed_logins >= policy.failures:
                user.locked_until = now + policy.lock

    def unlock(self, username: str) -> bool:
        """Clear a lockout (``ponte users unlock``); False for an unknown user."""
        with self._db.transaction() as session:
            result = session.execute(
                update(User)
                .where(User.name == username)
                .values(failed_logins=0, first_failure_at=None, locked_until=None)
            )
            return bool(getattr(result, "rowcount", 0))

    def _check_freshness(
        self, header: etree._Element | None, token: Token, now: dt.datetime
    ) -> None:
        if token.digest and (token.nonce is None or token.created is None):
            raise AuthenticationError("PasswordDigest needs a Nonce and a Created")
        if token.created is not None:
            created = parse_time(token.created, "UsernameToken Created")
            if abs(now - created) > self._window:
                raise AuthenticationError(
                    "UsernameToken Created is outside the allowed window of "
                    f"{int(self._window.total_seconds())} s"
                )
        assert header is not None
        expires = header.findtext("wsse:Security/wsu:Timestamp/wsu:Expires", None, _NS)
        if expires is not None and parse_time(expires, "Timestamp Expires") < now:
            raise AuthenticationError("the wsu:Timestamp has expired")

    def _password_ok(self, user: StoredPassword, token: Token) -> bool:
        if token.digest:
            try:
                digest = base64.b64decode(token.password, validate=True)
            except (binascii.Error, ValueError):
                return False
            assert token.nonce is not None and token.created is not None
            return self._vault.check_digest(user, digest, token.nonce, token.created)
        return self._vault.check_text(user, token.password)

    def purge_nonces(self, now: dt.datetime | None = None) -> int:
        """Forget nonces older than twice the window; returns how many."""
        cutoff = (now or dt.datetime.now(dt.UTC)) - 2 * self._window
        with self._db.transaction() as session:
            result = session.execute(
                delete(UsedNonce).where(UsedNonce.seen_at < cutoff)
            )
            return int(getattr(result, "rowcount", 0) or 0)


def _has_signature(header: etree._Element | None) -> bool:
    return header is not None and (
        header.find("wsse:Security/ds:Signature", _NS) is not None
    )


def _has_token(header: etree._Element | None) -> bool:
    return header is not None and (
        header.find("wsse:Security/wsse:UsernameToken", _NS) is not None
    )


def _locked(locked_until: dt.datetime | None, now: dt.datetime) -> bool:
    return locked_until is not None and locked_until > now


def _basic_token(authorization: str) -> Token:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise AuthenticationError(
            "a WS-Security UsernameToken or HTTP Basic credentials are required"
        )
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise AuthenticationError("the HTTP Basic credentials are not base64") from None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise AuthenticationError("the HTTP Basic credentials need user:password")
    return Token(
        username=username, password=password, digest=False, nonce=None, created=None
    )
