"""How Ponte proves itself to a SOAP target: a UsernameToken in the envelope
(checked with Ponte's own inbound reader) and a TLS client certificate."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path

from lxml import etree

from adapter.config import load_settings
from adapter.credentials.usernametoken import read_token
from adapter.delivery.redact import redact
from adapter.signing.wsse import add_username_token
from adapter.xmlutil import SOAP11_ENV

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def envelope() -> etree._Element:
    root = etree.Element(f"{{{SOAP11_ENV}}}Envelope")
    etree.SubElement(root, f"{{{SOAP11_ENV}}}Body")
    return root


def test_digest_token_is_one_an_inbound_ponte_would_accept() -> None:
    message = envelope()
    add_username_token(message, "ponte", "s3gredo-do-rm", now=NOW)
    header = message.find(f"{{{SOAP11_ENV}}}Header")
    token = read_token(header)
    assert (token.username, token.digest, token.created) == (
        "ponte",
        True,
        "2026-12-03T12:00:00Z",
    )
    assert token.nonce is not None and len(token.nonce) == 16
    expected = hashlib.sha1(
        token.nonce + token.created.encode() + b"s3gredo-do-rm"
    ).digest()
    assert base64.b64decode(token.password) == expected
    assert b"s3gredo-do-rm" not in etree.tostring(message)


def test_text_token_carries_the_password_and_is_redacted_on_record() -> None:
    message = envelope()
    add_username_token(message, "ponte", "s3gredo-do-rm", digest=False)
    token = read_token(message.find(f"{{{SOAP11_ENV}}}Header"))
    assert (token.password, token.digest, token.nonce) == ("s3gredo-do-rm", False, None)
    recorded = redact(etree.tostring(message, encoding="unicode"))
    assert "s3gredo-do-rm" not in recorded


def test_client_certificate_paths_are_relative_to_the_config_file(
    tmp_path: Path,
) -> None:
    config = tmp_path / "ponte.toml"
    config.write_text(
        '[[targets]]\nname = "sap"\nwsdl = "sap.wsdl"\nmapping = "m.xsl"\n'
        '[targets.auth]\nclient_cert = "tls/ponte.crt"\nclient_key = "tls/ponte.key"\n'
    )
    auth = load_settings(config).target("sap").auth
    assert auth.client_cert == (tmp_path / "tls" / "ponte.crt").resolve()
    assert auth.client_key == (tmp_path / "tls" / "ponte.key").resolve()
