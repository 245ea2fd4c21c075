"""WS-Security UsernameToken (OASIS UsernameToken Profile 1.1): reading it.

spyne has no WS-Security; this module reads the ``wsse:Security`` header into
a ``Token``. ``adapter.credentials.authenticator`` checks it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from lxml import etree

from adapter.errors import AuthenticationError
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
