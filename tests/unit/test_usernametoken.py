"""WS-Security UsernameToken checks, without HTTP."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from lxml import etree

from adapter.credentials.usernametoken import PASSWORD_DIGEST, PASSWORD_TEXT
from adapter.credentials.users import add_user
from adapter.errors import AuthenticationError
from adapter.runtime import Runtime
from adapter.xmlutil import SOAP11_ENV, WSSE, WSU

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
PASSWORD = "a-long-enough-password"


def header(
    password: str,
    *,
    digest: bool = False,
    nonce: bytes = b"n-1",
    created: dt.datetime = NOW,
    user: str = "erp",
) -> etree._Element:
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    if digest:
        value = base64.b64encode(
            hashlib.sha1(nonce + stamp.encode() + password.encode()).digest()
        ).decode()
    else:
        value = password
    kind = PASSWORD_DIGEST if digest else PASSWORD_TEXT
    xml = f"""<s:Header xmlns:s="{SOAP11_ENV}" xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}">
      <wsse:Security><wsse:UsernameToken>
        <wsse:Username>{user}</wsse:Username>
        <wsse:Password Type="{kind}">{value}</wsse:Password>
        <wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>
        <wsu:Created>{stamp}</wsu:Created>
      </wsse:UsernameToken></wsse:Security></s:Header>"""
    return etree.fromstring(xml)


@pytest.fixture
def auth(runtime: Runtime):  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        add_user(session, runtime.vault, "erp", "finance_erp", PASSWORD)
    return runtime.authenticator


def test_password_text_and_digest_are_accepted(auth) -> None:  # type: ignore[no-untyped-def]
    assert auth.authenticate(header(PASSWORD), now=NOW).role == "finance_erp"
    user = auth.authenticate(header(PASSWORD, digest=True, nonce=b"n-2"), now=NOW)
    assert user.name == "erp"


def test_wrong_password_is_refused(auth) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuthenticationError, match="wrong user name or password"):
        auth.authenticate(header("not-the-password", digest=True), now=NOW)


def test_replayed_nonce_is_rejected(auth) -> None:  # type: ignore[no-untyped-def]
    auth.authenticate(header(PASSWORD, digest=True, nonce=b"once"), now=NOW)
    with pytest.raises(AuthenticationError, match="replay"):
        auth.authenticate(header(PASSWORD, digest=True, nonce=b"once"), now=NOW)


def test_stale_created_is_rejected(auth) -> None:  # type: ignore[no-untyped-def]
    old = NOW - dt.timedelta(minutes=6)
    with pytest.raises(AuthenticationError, match="outside the allowed window"):
        auth.authenticate(header(PASSWORD, digest=True, created=old), now=NOW)


def test_missing_token_is_refused(auth) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuthenticationError, match="UsernameToken header is required"):
        auth.authenticate(None, now=NOW)


def test_old_nonces_are_purged_and_recent_ones_kept(auth) -> None:  # type: ignore[no-untyped-def]
    auth.authenticate(header(PASSWORD, nonce=b"old"), now=NOW)
    later = NOW + dt.timedelta(minutes=8)
    auth.authenticate(header(PASSWORD, nonce=b"new", created=later), now=later)
    assert auth.purge_nonces(now=NOW + dt.timedelta(minutes=11)) == 1
    with pytest.raises(AuthenticationError, match="replay"):
        auth.authenticate(header(PASSWORD, nonce=b"new", created=later), now=later)
