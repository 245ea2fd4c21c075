"""Authentication checks (UsernameToken, HTTP Basic, lockout), without HTTP."""

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


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_http_basic_is_accepted_when_no_token_is_sent(auth) -> None:  # type: ignore[no-untyped-def]
    user = auth.authenticate(None, now=NOW, authorization=basic("erp", PASSWORD))
    assert user.name == "erp"
    with pytest.raises(AuthenticationError, match="wrong user name or password"):
        auth.authenticate(None, now=NOW, authorization=basic("erp", "nope-nope-nope"))
    with pytest.raises(AuthenticationError, match="UsernameToken or HTTP Basic"):
        auth.authenticate(None, now=NOW, authorization="Bearer abc")


def test_repeated_failures_lock_the_user_even_with_the_right_password(auth) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        with pytest.raises(AuthenticationError, match="wrong user name or password"):
            auth.authenticate(header("wrong-password-x", nonce=b"f%d" % i), now=NOW)
    with pytest.raises(AuthenticationError, match="locked after repeated failures"):
        auth.authenticate(header(PASSWORD, nonce=b"ok-1"), now=NOW)
    later = NOW + dt.timedelta(minutes=16)
    assert auth.authenticate(header(PASSWORD, nonce=b"ok-2", created=later), now=later)


def test_failures_spread_beyond_the_window_do_not_lock(auth) -> None:  # type: ignore[no-untyped-def]
    for i in range(8):
        moment = NOW + dt.timedelta(minutes=4 * i)
        with pytest.raises(AuthenticationError, match="wrong"):
            auth.authenticate(
                header("wrong-password-x", nonce=b"s%d" % i, created=moment), now=moment
            )
        if i % 4 == 3:
            auth.authenticate(
                header(PASSWORD, nonce=b"g%d" % i, created=moment), now=moment
            )


def test_unlock_clears_a_lockout(auth) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        with pytest.raises(AuthenticationError):
            auth.authenticate(header("wrong-password-x", nonce=b"u%d" % i), now=NOW)
    assert auth.unlock("erp") is True
    assert auth.authenticate(header(PASSWORD, nonce=b"after"), now=NOW).name == "erp"
    assert auth.unlock("nobody") is False
