"""Standard Webhooks signatures: Ponte's signer against the official library,
against cryptography for ed25519, and Ponte's own verifier."""

from __future__ import annotations

import base64
import stat
import time
from pathlib import Path

import pytest
import standardwebhooks
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from adapter.errors import ConfigurationError, SignatureError
from adapter.signing import generate_signing_key, webhooks
from adapter.signing.webhooks import (
    WebhookKeys,
    WebhookVerifier,
    generate_ed25519_key,
    generate_secret,
    load_ed25519_private_key,
    load_public_key,
    parse_secret,
    parse_secrets,
    public_key_pem,
    public_key_whpk,
    signed_content,
    verify,
)

BODY = (
    b"<?xml version='1.0' encoding='UTF-8'?>\n"
    b'<ev:event xmlns:ev="urn:ponte:events:v1"><ev:id>e-1</ev:id>'
    b"<ev:description>Condena\xc3\xa7\xc3\xa3o</ev:description></ev:event>"
)
JSON_BODY = '{"id":"e-1","description":"Condenação"}'.encode()
MESSAGE_ID = "urn:uuid:6f1c1d0e-0000-4000-8000-000000000001"
OLD_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"n" * 32).decode()


def headers(signature: str, timestamp: int, webhook_id: str = MESSAGE_ID) -> dict:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def hmac_keys(*secrets: str) -> WebhookKeys:
    return WebhookKeys([s for text in secrets for s in parse_secrets(text)])


@pytest.fixture(scope="module")
def ed25519_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


# The official library accepts Ponte's HMAC signatures


def test_standardwebhooks_library_accepts_ponte_hmac_signature() -> None:
    now = int(time.time())
    signature = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, now, BODY)

    result = standardwebhooks.Webhook(OLD_SECRET).verify(
        BODY, headers(signature, now), json_parse=False
    )

    assert result is None  # verify returns None on success with json_parse=False


def test_standardwebhooks_library_parses_signed_json_body() -> None:
    now = int(time.time())
    signature = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, now, JSON_BODY)

    parsed = standardwebhooks.Webhook(OLD_SECRET).verify(
        JSON_BODY, headers(signature, now)
    )

    assert parsed == {"id": "e-1", "description": "Condenação"}


@pytest.mark.parametrize("receiver_secret", [OLD_SECRET, NEW_SECRET])
def test_during_rotation_receivers_with_either_secret_accept(
    receiver_secret: str,
) -> None:
    now = int(time.time())
    signature = hmac_keys(f"{OLD_SECRET} {NEW_SECRET}").sign(MESSAGE_ID, now, BODY)

    assert len(signature.split(" ")) == 2
    standardwebhooks.Webhook(receiver_secret).verify(
        BODY, headers(signature, now), json_parse=False
    )


def test_standardwebhooks_library_rejects_tampered_body() -> None:
    now = int(time.time())
    signature = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, now, BODY)
    tampered = BODY.replace(b"e-1", b"e-2")

    with pytest.raises(standardwebhooks.WebhookVerificationError, match="signature"):
        standardwebhooks.Webhook(OLD_SECRET).verify(
            tampered, headers(signature, now), json_parse=False
        )


def test_standardwebhooks_library_rejects_stale_timestamp() -> None:
    stale = int(time.time()) - 600
    signature = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, stale, BODY)

    with pytest.raises(standardwebhooks.WebhookVerificationError, match="too old"):
        standardwebhooks.Webhook(OLD_SECRET).verify(
            BODY, headers(signature, stale), json_parse=False
        )


def test_standardwebhooks_library_rejects_signature_for_another_id() -> None:
    now = int(time.time())
    signature = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, now, BODY)

    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(OLD_SECRET).verify(
            BODY, headers(signature, now, webhook_id="urn:uuid:other"), json_parse=False
        )


def test_standardwebhooks_library_rejects_another_secret() -> None:
    now = int(time.time())
    signature = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, now, BODY)

    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(NEW_SECRET).verify(
            BODY, headers(signature, now), json_parse=False
        )


def test_generated_secret_is_32_bytes_and_accepted_by_the_library() -> None:
    secret = generate_secret()
    now = int(time.time())
    signature = hmac_keys(secret).sign(MESSAGE_ID, now, BODY)

    assert len(parse_secret(secret)) == 32
    assert secret != generate_secret()
    standardwebhooks.Webhook(secret).verify(
        BODY, headers(signature, now), json_parse=False
    )


# ed25519, checked with cryptography from the exported public key


def _v1a(header: str) -> bytes:
    entries = [e.split(",", 1) for e in header.split(" ")]
    [encoded] = [value for version, value in entries if version == "v1a"]
    return base64.b64decode(encoded)


def test_ed25519_signature_verifies_with_exported_whpk_key(
    ed25519_key: Ed25519PrivateKey,
) -> None:
    now = int(time.time())
    signature = _v1a(WebhookKeys(private_key=ed25519_key).sign(MESSAGE_ID, now, BODY))
    whpk = public_key_whpk(ed25519_key)

    assert whpk.startswith("whpk_")
    raw = base64.b64decode(whpk.removeprefix("whpk_"))
    public = Ed25519PublicKey.from_public_bytes(raw)
    public.verify(signature, f"{MESSAGE_ID}.{now}.".encode() + BODY)


def test_ed25519_signature_verifies_with_exported_pem_key(
    ed25519_key: Ed25519PrivateKey,
) -> None:
    now = int(time.time())
    signature = _v1a(WebhookKeys(private_key=ed25519_key).sign(MESSAGE_ID, now, BODY))

    public = serialization.load_pem_public_key(public_key_pem(ed25519_key).encode())

    assert isinstance(public, Ed25519PublicKey)
    public.verify(signature, f"{MESSAGE_ID}.{now}.".encode() + BODY)


def test_ed25519_signature_does_not_verify_a_tampered_body(
    ed25519_key: Ed25519PrivateKey,
) -> None:
    now = int(time.time())
    signature = _v1a(WebhookKeys(private_key=ed25519_key).sign(MESSAGE_ID, now, BODY))
    public = load_public_key(public_key_whpk(ed25519_key))

    with pytest.raises(InvalidSignature):
        public.verify(signature, f"{MESSAGE_ID}.{now}.".encode() + BODY + b" ")


def test_signature_header_lists_v1_per_secret_then_v1a(
    ed25519_key: Ed25519PrivateKey,
) -> None:
    keys = WebhookKeys(
        parse_secrets(f"{OLD_SECRET} {NEW_SECRET}"), private_key=ed25519_key
    )

    header = keys.sign(MESSAGE_ID, 1_700_000_000, BODY)

    versions = [entry.split(",", 1)[0] for entry in header.split(" ")]
    assert versions == ["v1", "v1", "v1a"]


def test_hmac_signature_is_hmac_sha256_of_id_timestamp_body() -> None:
    import hashlib
    import hmac

    secret = parse_secret(OLD_SECRET)
    expected = hmac.new(
        secret, f"{MESSAGE_ID}.1700000000.".encode() + BODY, hashlib.sha256
    ).digest()

    header = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, 1_700_000_000, BODY)

    assert header == "v1," + base64.b64encode(expected).decode()


def test_public_key_round_trips_through_whpk_and_pem(
    ed25519_key: Ed25519PrivateKey,
) -> None:
    raw = ed25519_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )

    from_whpk = load_public_key(public_key_whpk(ed25519_key))
    from_pem = load_public_key(public_key_pem(ed25519_key).encode())

    for key in (from_whpk, from_pem):
        assert (
            key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            == raw
        )


@pytest.mark.parametrize("text", ["whpk_AAAA", "not a key", "whpk_!!!!"])
def test_malformed_public_key_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="whpk_"):
        load_public_key(text)


# Ponte's verifier


def test_verify_accepts_hmac_and_returns_what_was_verified() -> None:
    now = int(time.time())
    signature = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, now, BODY)

    verified = verify(BODY, headers(signature, now), secrets=[OLD_SECRET])

    assert (verified.webhook_id, verified.timestamp) == (MESSAGE_ID, now)
    assert (verified.body, verified.scheme) == (BODY, "v1")


def test_verify_accepts_ed25519_with_whpk_key(ed25519_key: Ed25519PrivateKey) -> None:
    now = int(time.time())
    signature = WebhookKeys(private_key=ed25519_key).sign(MESSAGE_ID, now, BODY)

    verified = verify(
        BODY, headers(signature, now), public_keys=[public_key_whpk(ed25519_key)]
    )

    assert verified.scheme == "v1a"


def test_verify_rejects_ed25519_signature_of_another_key(
    ed25519_key: Ed25519PrivateKey,
) -> None:
    now = int(time.time())
    signature = WebhookKeys(private_key=ed25519_key).sign(MESSAGE_ID, now, BODY)
    other = Ed25519PrivateKey.generate().public_key()

    with pytest.raises(SignatureError, match="no signature"):
        verify(BODY, headers(signature, now), public_keys=[other])


def test_verify_accepts_headers_in_any_case() -> None:
    now = int(time.time())
    signature = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, now, BODY)
    mixed = {key.title(): value for key, value in headers(signature, now).items()}

    assert verify(BODY, mixed, secrets=[OLD_SECRET]).webhook_id == MESSAGE_ID


def test_verify_rejects_tampered_body() -> None:
    now = int(time.time())
    signature = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, now, BODY)

    with pytest.raises(SignatureError, match=r"no signature .* matches"):
        verify(BODY + b"\n", headers(signature, now), secrets=[OLD_SECRET])


def test_verify_rejects_wrong_secret() -> None:
    now = int(time.time())
    signature = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, now, BODY)

    with pytest.raises(SignatureError, match="no signature"):
        verify(BODY, headers(signature, now), secrets=[NEW_SECRET])


@pytest.mark.parametrize(
    ("age", "accepted"),
    [(300, True), (301, False), (-300, True), (-301, False)],
)
def test_verify_tolerates_five_minutes_either_way(age: int, accepted: bool) -> None:
    now = 1_700_000_000
    timestamp = now - age
    signature = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, timestamp, BODY)
    received = headers(signature, timestamp)

    if accepted:
        verify(BODY, received, secrets=[OLD_SECRET], now=now)
    else:
        expected = "too old" if age > 0 else "too new"
        with pytest.raises(SignatureError, match=expected):
            verify(BODY, received, secrets=[OLD_SECRET], now=now)


def test_verify_tolerance_can_be_narrowed() -> None:
    now = 1_700_000_000
    signature = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, now - 31, BODY)
    verifier = WebhookVerifier([OLD_SECRET], tolerance_seconds=30)

    with pytest.raises(SignatureError, match="30 s tolerance"):
        verifier.verify(BODY, headers(signature, now - 31), now=now)


@pytest.mark.parametrize(
    "missing", ["webhook-id", "webhook-timestamp", "webhook-signature"]
)
def test_verify_names_a_missing_header(missing: str) -> None:
    now = int(time.time())
    received = headers(hmac_keys(OLD_SECRET).sign(MESSAGE_ID, now, BODY), now)
    del received[missing]

    with pytest.raises(SignatureError, match=f"header {missing} is missing"):
        verify(BODY, received, secrets=[OLD_SECRET])


@pytest.mark.parametrize("timestamp", ["1700000000.5", "-5", "soon", "１７００"])
def test_verify_rejects_timestamp_that_is_not_unix_seconds(timestamp: str) -> None:
    received = headers("v1,AAAA", 0) | {"webhook-timestamp": timestamp}

    with pytest.raises(SignatureError, match="not a unix time"):
        verify(BODY, received, secrets=[OLD_SECRET])


def test_verify_skips_unknown_versions_and_malformed_entries() -> None:
    now = int(time.time())
    good = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, now, BODY)
    header = f"v2,AAAA garbage v1,!!!notbase64 {good}"

    assert verify(BODY, headers(header, now), secrets=[OLD_SECRET]).scheme == "v1"


def test_verify_compares_hmac_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[bytes, bytes]] = []

    def recording(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return a == b

    monkeypatch.setattr(webhooks, "compare_digest", recording)
    now = int(time.time())
    signature = hmac_keys(OLD_SECRET).sign(MESSAGE_ID, now, BODY)

    verify(BODY, headers(signature, now), secrets=[NEW_SECRET, OLD_SECRET])

    # Every secret is compared, through compare_digest, not ==.
    assert len(calls) == 2


def test_verifier_needs_a_secret_or_a_key() -> None:
    with pytest.raises(ValueError, match="needs a secret or a public key"):
        WebhookVerifier()


# Secrets and keys as loaded objects


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (base64.b64encode(b"x" * 32).decode(), "must start with whsec_"),
        ("whsec_%%%%not-base64%%%%", "not base64"),
        ("whsec_" + base64.b64encode(b"x" * 16).decode(), "24 to 64 bytes"),
        ("whsec_" + base64.b64encode(b"x" * 65).decode(), "24 to 64 bytes"),
    ],
)
def test_malformed_secret_is_refused_without_quoting_it(
    text: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_secret(text)

    assert text.removeprefix("whsec_") not in str(caught.value)


def test_secret_list_error_names_the_position() -> None:
    with pytest.raises(
        ValueError, match="secret 2 of 2: a secret must start with whsec_"
    ):
        parse_secrets(f"{OLD_SECRET} oops")


def test_empty_secret_list_is_refused() -> None:
    with pytest.raises(ValueError, match="no secret"):
        parse_secrets("   ")


def test_unpadded_secret_is_read_as_the_padded_one() -> None:
    raw = b"p" * 25  # its base64 ends with "="
    padded = base64.b64encode(raw).decode()

    assert padded.endswith("=")
    assert parse_secret("whsec_" + padded.rstrip("=")) == raw


def test_loaded_keys_repr_shows_counts_only(ed25519_key: Ed25519PrivateKey) -> None:
    keys = WebhookKeys(parse_secrets(f"{OLD_SECRET} {NEW_SECRET}"), ed25519_key)
    private_pem = ed25519_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()

    shown = repr(keys) + str(keys) + f"{keys!r}"

    assert repr(keys) == "WebhookKeys(hmac_secrets=2, ed25519=yes)"
    for secret in (OLD_SECRET, NEW_SECRET):
        assert secret.removeprefix("whsec_") not in shown
        assert repr(parse_secret(secret)) not in shown
    assert private_pem.splitlines()[1] not in shown


def test_verifier_repr_shows_counts_only() -> None:
    verifier = WebhookVerifier([f"{OLD_SECRET} {NEW_SECRET}"])

    assert repr(verifier) == (
        "WebhookVerifier(hmac_secrets=2, public_keys=0, tolerance_seconds=300)"
    )


def test_keys_need_a_secret_or_a_key() -> None:
    with pytest.raises(ValueError, match="needs a secret or an ed25519 key"):
        WebhookKeys()


@pytest.mark.parametrize("webhook_id", ["", "msg.1"])
def test_id_that_is_empty_or_holds_a_dot_is_refused(webhook_id: str) -> None:
    with pytest.raises(ValueError, match=r"no '\.'"):
        signed_content(webhook_id, 1_700_000_000, BODY)


def test_generated_ed25519_key_loads_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "webhook.key"

    whpk = generate_ed25519_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_whpk(load_ed25519_private_key(path)) == whpk


def test_generated_ed25519_key_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "webhook.key"
    path.write_bytes(b"keep me")

    with pytest.raises(ConfigurationError, match="refusing to overwrite"):
        generate_ed25519_key(path)
    assert path.read_bytes() == b"keep me"


def test_loading_a_missing_ed25519_key_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.key"

    with pytest.raises(ConfigurationError, match=f"{path} cannot be read"):
        load_ed25519_private_key(path)


def test_loading_an_rsa_key_as_ed25519_is_refused(tmp_path: Path) -> None:
    key_path, cert_path = tmp_path / "rsa.key", tmp_path / "rsa.crt"
    generate_signing_key(key_path, cert_path)

    with pytest.raises(ConfigurationError, match="is not an ed25519 key"):
        load_ed25519_private_key(key_path)


def test_loading_a_non_pem_file_as_ed25519_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.key"
    path.write_text("hello")

    with pytest.raises(ConfigurationError, match="not an unencrypted PEM"):
        load_ed25519_private_key(path)
