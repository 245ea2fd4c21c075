"""WS-Security UsernameToken (OASIS UsernameToken Profile 1.1), server side.

spyne has no WS-Security; this module reads the ``wsse:Security`` header,
checks the password (PasswordText or PasswordDigest), the freshness of
``wsu:Created`` and ``wsu:Timestamp``, and refuses a nonce seen before.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from lxml import etree
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from adapter.credentials.users import PasswordVault, UserRecord, find_user
from adapter.errors import AuthenticationError
from adapter.storage.db import Database
from adapter.storage.models import UsedNonce, User
from adapter.xmlutil import WSSE, WSU

PASSWORD_TEXT = (  # a token-type URI, not a password
    "http://docs.oasis-open.org/wss/2004/01/"  # noqa: S105
    "oasis-200401-wss-username-token-profile-1.0#PasswordText"
)
PASSWORD_DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/"  # noqa: S105
    "oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
)
_NS = {"wsse": WSSE, "wsu": WSU}
_REFUSED = "the WS-Security UsernameToken was refused"


@dataclass(frozen=True)
class Token:
    username: str
    password: str
    digest: bool
    nonce: bytes | None
    created: str | None


def read_token(header: etree._Element | None) -> Token:
    """Extract the UsernameToken; raise ``AuthenticationError`` when absent."""
    if header is None:
        raise AuthenticationError("a WS-Security UsernameToken header is required")
    token = header.find("wsse:Security/wsse:UsernameToken", _NS)
    if token is None:
        raise AuthenticationError("a WS-Security UsernameToken header is required")
    username = (token.findtext("wsse:Username", None, _NS) or "").strip()
    password_el = token.find("wsse:Password", _NS)
    if not username or password_el is None:
        raise AuthenticationError("the UsernameToken needs Username and Password")
    kind = password_el.get("Type", PASSWORD_TEXT)
    if kind not in (PASSWORD_TEXT, PASSWORD_DIGEST):
        raise AuthenticationError(f"password type {kind} is not supported")
    nonce_text = token.findtext("wsse:Nonce", None, _NS)
    try:
        nonce = base64.b64decode(nonce_text, validate=True) if nonce_text else None
    except (binascii.Error, ValueError):
        raise AuthenticationError("the UsernameToken Nonce is not base64") from None
    return Token(
        username=username,
        password=password_el.text or "",
        digest=kind == PASSWORD_DIGEST,
        nonce=nonce,
        created=token.findtext("wsu:Created", None, _NS),
    )


def parse_time(value: str, field: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise AuthenticationError(f"{field} is not an xsd:dateTime") from None
    if moment.tzinfo is None:
        raise AuthenticationError(f"{field} must carry a time zone (use Z)")
    return moment


class Authenticator:
    """Checks UsernameTokens against the users table; one per process."""

    def __init__(self, db: Database, vault: PasswordVault, window_seconds: int) -> None:
        self._db = db
        self._vault = vault
        self._window = dt.timedelta(seconds=window_seconds)

    def authenticate(
        self, header: etree._Element | None, now: dt.datetime | None = None
    ) -> UserRecord:
        """Return the user the header proves; raise ``AuthenticationError``."""
        now = now or dt.datetime.now(dt.UTC)
        token = read_token(header)
        self._check_freshness(header, token, now)
        try:
            # One transaction: the nonce is stored only for a good password,
            # and a second use of it fails on the primary key (a replay).
            with self._db.transaction() as session:
                user = find_user(session, token.username)
                if user is None or not self._password_ok(user, token):
                    raise AuthenticationError(
                        _REFUSED + ": wrong user name or password"
                    )
                if token.nonce is not None:
                    nonce = base64.b64encode(token.nonce).decode()
                    session.add(
                        UsedNonce(user_name=user.name, nonce=nonce, seen_at=now)
                    )
                    session.flush()
                return UserRecord(user.name, user.role)
        except IntegrityError:
            raise AuthenticationError(
                _REFUSED + ": the nonce was already used (replay)"
            ) from None

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

    def _password_ok(self, user: User, token: Token) -> bool:
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
