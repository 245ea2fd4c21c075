"""The keyring: several keys per signing name, rotation, grace, retirement."""

from __future__ import annotations

import datetime as dt
import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import event, select, text

from adapter.audit.writer import AuditWriter
from adapter.config import SigningKeySettings
from adapter.errors import (
    ConfigurationError,
    ConflictError,
    NotFoundError,
    SignatureError,
    ValidationError,
)
from adapter.outbound.caller import SoapCaller
from adapter.signing import (
    Keyring,
    KeyringAdmin,
    KeyState,
    SigningKey,
    generate_signing_key,
    new_signing_key,
    parse_duration,
    shared_keyring,
    sign_envelope,
    verify_envelope,
)
from adapter.storage.db import Database
from adapter.storage.models import AuditEntry
from adapter.xmlutil import DS
from tests.unit.conftest import make_settings

T0 = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
ENVELOPE = (
    b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<soap-env:Body><ns0:SaveRecord xmlns:ns0="urn:ponte:test">100.00'
    b"</ns0:SaveRecord></soap-env:Body></soap-env:Envelope>"
)


class Clock:
    """Wall clock for key states, moved by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


class Ticker:
    """Monotonic seconds that pace the keyring's checks, moved by the test."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.prepare()
    yield database
    database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "keys"


def keyring_of(
    db: Database,
    folder: Path,
    clock: Clock,
    config: tuple[SigningKeySettings, ...] = (),
    **options: object,
) -> Keyring:
    return Keyring(config, folder, db, clock=clock, **options)  # type: ignore[arg-type]


@pytest.fixture
def keyring(db: Database, folder: Path, clock: Clock) -> Keyring:
    return keyring_of(db, folder, clock)


@pytest.fixture
def admin(db: Database, keyring: Keyring) -> KeyringAdmin:
    return KeyringAdmin(db, AuditWriter(), keyring)


def signed(key: SigningKey, created: dt.datetime) -> bytes:
    envelope = sign_envelope(
        etree.fromstring(ENVELOPE), key, message_id="urn:uuid:1", created=created
    )
    return etree.tostring(envelope)


def key_name(message: bytes) -> str | None:
    return etree.fromstring(message).findtext(f".//{{{DS}}}KeyName")


def trusted_certificates(keyring: Keyring, at: dt.datetime) -> list:
    return [record.certificate for record in keyring.trusted(at=at)]


def audit_rows(db: Database) -> list[AuditEntry]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


# Generating and signing


def test_generated_key_signs_with_its_id_in_key_name(
    admin: KeyringAdmin, keyring: Keyring, folder: Path
) -> None:
    record = admin.generate("rm-finance", operator="alice")

    key = keyring.signing_key_for("rm-finance")

    assert record.key_id == "rm-finance-20261203"
    assert key_name(signed(key, T0)) == "rm-finance-20261203"
    key_file = folder / "rm-finance-20261203.key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (folder / "rm-finance-20261203.cert.pem").exists()


def test_generate_refuses_a_name_that_has_an_active_key(admin: KeyringAdmin) -> None:
    admin.generate("rm-finance", operator="alice")

    with pytest.raises(ConflictError, match="ponte keys rotate rm-finance"):
        admin.generate("rm-finance", operator="alice")


def test_refused_generate_leaves_no_key_files(
    admin: KeyringAdmin, folder: Path
) -> None:
    admin.generate("rm-finance", operator="alice", key_id="k1")

    with pytest.raises(ConflictError, match="k1 already exists"):
        admin.generate("other", operator="alice", key_id="k1")

    assert sorted(p.name for p in folder.iterdir()) == ["k1.cert.pem", "k1.key.pem"]


def test_a_bad_name_is_refused(admin: KeyringAdmin) -> None:
    with pytest.raises(ValidationError, match="name: a signing name is"):
        admin.generate("../etc", operator="alice")


def test_unknown_name_names_the_fix(keyring: Keyring) -> None:
    with pytest.raises(ConfigurationError, match="ponte keys generate rm-finance"):
        keyring.signing_key_for("rm-finance")


def test_a_key_id_given_as_signing_name_points_to_its_name(
    admin: KeyringAdmin, keyring: Keyring
) -> None:
    record = admin.generate("rm-finance", operator="alice")

    with pytest.raises(ConfigurationError, match='signing_key = "rm-finance"'):
        keyring.signing_key_for(record.key_id)


# Rotation


def test_rotation_while_signing_puts_the_new_id_in_key_name(
    db: Database, folder: Path, clock: Clock, admin: KeyringAdmin
) -> None:
    # The worker's keyring, in "another process": it checks every 5 s.
    ticker = Ticker()
    worker = keyring_of(db, folder, clock, refresh_seconds=5.0, monotonic=ticker)
    old = admin.generate("rm-finance", operator="alice")
    assert key_name(signed(worker.signing_key_for("rm-finance"), T0)) == old.key_id

    clock.advance(dt.timedelta(days=1))
    rotation = admin.rotate("rm-finance", operator="bob")
    ticker.seconds += 1
    still_old = signed(worker.signing_key_for("rm-finance"), clock.now)
    ticker.seconds += 5
    now_new = signed(worker.signing_key_for("rm-finance"), clock.now)

    assert key_name(still_old) == old.key_id
    assert key_name(now_new) == rotation.new.key_id == "rm-finance-20261204"
    assert [r.key_id for r in rotation.replaced] == [old.key_id]
    assert rotation.replaced[0].state is KeyState.RETIRING


def test_an_unchanged_table_is_only_counted(
    db: Database, folder: Path, clock: Clock, admin: KeyringAdmin
) -> None:
    admin.generate("rm-finance", operator="alice")
    ticker = Ticker()
    worker = keyring_of(db, folder, clock, refresh_seconds=5.0, monotonic=ticker)
    worker.signing_key_for("rm-finance")
    statements: list[str] = []
    event.listen(
        db.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )

    for _ in range(3):
        ticker.seconds += 5
        worker.signing_key_for("rm-finance")

    reads = [s for s in statements if "signing_keys" in s]
    assert len(reads) == 3
    assert all("count(" in s.lower() and "sum(" in s.lower() for s in reads)


def test_checks_are_paced_by_refresh_seconds(
    db: Database, folder: Path, clock: Clock, admin: KeyringAdmin
) -> None:
    admin.generate("rm-finance", operator="alice")
    ticker = Ticker()
    worker = keyring_of(db, folder, clock, refresh_seconds=5.0, monotonic=ticker)
    worker.signing_key_for("rm-finance")
    statements: list[str] = []
    event.listen(
        db.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )

    for _ in range(50):
        ticker.seconds += 0.01
        worker.signing_key_for("rm-finance")

    assert [s for s in statements if "signing_keys" in s] == []


def test_old_key_verifies_during_grace_and_not_after(
    admin: KeyringAdmin, keyring: Keyring, clock: Clock
) -> None:
    admin.generate("rm-finance", operator="alice")
    old_key = keyring.signing_key_for("rm-finance")
    admin.rotate("rm-finance", operator="bob", grace=dt.timedelta(days=7))
    # Each message is fresh when it is checked: only the key's state differs.
    within = T0 + dt.timedelta(days=7) - dt.timedelta(seconds=1)
    after = T0 + dt.timedelta(days=7)

    result = verify_envelope(
        signed(old_key, within), trusted_certificates(keyring, within), now=within
    )
    assert result.key_name == old_key.key_id
    with pytest.raises(SignatureError, match="signing certificate is not trusted"):
        verify_envelope(
            signed(old_key, after), trusted_certificates(keyring, after), now=after
        )
    assert {r.key_id: r.state_at(after) for r in keyring.records()} == {
        old_key.key_id: KeyState.RETIRED,
        keyring.signing_key_for("rm-finance").key_id: KeyState.ACTIVE,
    }


def test_the_new_key_verifies_from_the_rotation_on(
    admin: KeyringAdmin, keyring: Keyring, clock: Clock
) -> None:
    admin.generate("rm-finance", operator="alice")
    clock.advance(dt.timedelta(hours=1))
    admin.rotate("rm-finance", operator="bob")
    new_key = keyring.signing_key_for("rm-finance")

    message = signed(new_key, clock.now)

    assert verify_envelope(
        message, trusted_certificates(keyring, clock.now), now=clock.now
    )
    with pytest.raises(SignatureError, match="not trusted"):
        verify_envelope(message, trusted_certificates(keyring, T0), now=clock.now)


def test_zero_grace_retires_the_old_key_at_once(
    admin: KeyringAdmin, keyring: Keyring
) -> None:
    old = admin.generate("rm-finance", operator="alice")

    rotation = admin.rotate("rm-finance", operator="bob", grace=dt.timedelta(0))

    assert rotation.replaced[0].state is KeyState.RETIRED
    assert [r.key_id for r in keyring.trusted("rm-finance")] == [rotation.new.key_id]
    assert old.key_id not in {r.key_id for r in keyring.trusted()}


def test_rotate_needs_an_active_key(admin: KeyringAdmin) -> None:
    with pytest.raises(ConflictError, match="ponte keys generate rm-finance"):
        admin.rotate("rm-finance", operator="bob")


def test_rotations_on_one_day_get_distinct_ids(admin: KeyringAdmin) -> None:
    admin.generate("rm-finance", operator="alice")

    second = admin.rotate("rm-finance", operator="bob").new
    third = admin.rotate("rm-finance", operator="bob").new

    assert (second.key_id, third.key_id) == (
        "rm-finance-20261203-2",
        "rm-finance-20261203-3",
    )


# Retiring


def test_retire_ends_the_grace_now(
    admin: KeyringAdmin, keyring: Keyring, clock: Clock
) -> None:
    old = admin.generate("rm-finance", operator="alice")
    admin.rotate("rm-finance", operator="bob")
    clock.advance(dt.timedelta(days=1))

    retired = admin.retire(old.key_id, operator="carol")

    assert retired.state is KeyState.RETIRED
    assert old.key_id not in {r.key_id for r in keyring.trusted()}
    # Before the retirement it was still trusted.
    assert old.key_id in {r.key_id for r in keyring.trusted(at=T0)}


def test_the_active_key_cannot_be_retired(admin: KeyringAdmin) -> None:
    record = admin.generate("rm-finance", operator="alice")

    with pytest.raises(ConflictError, match="--grace 0"):
        admin.retire(record.key_id, operator="carol")


def test_a_retired_key_cannot_be_retired_again(admin: KeyringAdmin) -> None:
    old = admin.generate("rm-finance", operator="alice")
    admin.rotate("rm-finance", operator="bob", grace=dt.timedelta(0))

    with pytest.raises(ConflictError, match="already retired"):
        admin.retire(old.key_id, operator="carol")


def test_retiring_an_unknown_key_is_not_found(admin: KeyringAdmin) -> None:
    with pytest.raises(NotFoundError, match="no signing key with id nope"):
        admin.retire("nope", operator="carol")


# What receivers get


def test_export_set_is_exactly_active_and_retiring(
    admin: KeyringAdmin, keyring: Keyring, clock: Clock
) -> None:
    first = admin.generate("rm-finance", operator="alice")
    second = admin.rotate("rm-finance", operator="bob").new  # first: 7 days
    clock.advance(dt.timedelta(days=1))
    third = admin.rotate("rm-finance", operator="bob").new  # second: 7 days
    admin.retire(first.key_id, operator="carol")
    admin.generate("other-target", operator="alice")

    exported = {r.key_id for r in keyring.trusted("rm-finance")}
    after_grace = {
        r.key_id
        for r in keyring.trusted("rm-finance", at=clock.now + dt.timedelta(days=7))
    }

    assert exported == {second.key_id, third.key_id}
    assert after_grace == {third.key_id}


# ponte.toml keys


@pytest.fixture
def config_key(tmp_path: Path) -> SigningKeySettings:
    key_path, cert_path = tmp_path / "ponte-1.key.pem", tmp_path / "ponte-1.cert.pem"
    new_signing_key("ponte-1", key_path, cert_path, now=T0 - dt.timedelta(days=30))
    return SigningKeySettings(id="ponte-1", key=key_path, cert=cert_path)


def test_a_config_key_is_the_active_key_of_its_id(
    db: Database, folder: Path, clock: Clock, config_key: SigningKeySettings
) -> None:
    keyring = keyring_of(db, folder, clock, (config_key,))

    key = keyring.signing_key_for("ponte-1")

    assert key_name(signed(key, T0)) == "ponte-1"
    assert [(r.key_id, r.source.value) for r in keyring.trusted()] == [
        ("ponte-1", "config")
    ]


def test_a_config_key_works_without_a_database(
    folder: Path, clock: Clock, config_key: SigningKeySettings
) -> None:
    keyring = Keyring((config_key,), folder, None, clock=clock)

    assert keyring.signing_key_for("ponte-1").key_id == "ponte-1"


def test_rotating_a_config_key_keeps_it_accepted_during_grace(
    db: Database, folder: Path, clock: Clock, config_key: SigningKeySettings
) -> None:
    keyring = keyring_of(db, folder, clock, (config_key,))
    admin = KeyringAdmin(db, AuditWriter(), keyring)

    rotation = admin.rotate("ponte-1", operator="bob", grace=dt.timedelta(days=2))

    assert keyring.signing_key_for("ponte-1").key_id == "ponte-1-20261203"
    assert {r.key_id: r.state_at(T0) for r in keyring.trusted()} == {
        "ponte-1-20261203": KeyState.ACTIVE,
        "ponte-1": KeyState.RETIRING,
    }
    assert rotation.replaced[0].source.value == "config"
    assert keyring.trusted(at=T0 + dt.timedelta(days=2))[0].key_id == (
        "ponte-1-20261203"
    )


# Audit


def test_every_action_is_audited_with_its_operator(
    db: Database, admin: KeyringAdmin, keyring: Keyring
) -> None:
    old = admin.generate("rm-finance", operator="alice")
    new = admin.rotate("rm-finance", operator="bob").new
    admin.retire(old.key_id, operator="carol")
    admin.record_export("rm-finance", keyring.trusted("rm-finance"), operator="dave")

    rows = [
        (e.actor, e.channel, e.action, e.outcome, e.record_id) for e in audit_rows(db)
    ]

    assert rows == [
        ("alice", "cli", "keys.generate", "ok", old.key_id),
        ("bob", "cli", "keys.rotate", "ok", new.key_id),
        ("carol", "cli", "keys.retire", "ok", old.key_id),
        ("dave", "cli", "keys.export", "ok", "rm-finance"),
    ]


def test_a_refused_action_is_audited_as_refused(
    db: Database, admin: KeyringAdmin
) -> None:
    record = admin.generate("rm-finance", operator="alice")

    with pytest.raises(ConflictError):
        admin.retire(record.key_id, operator="mallory")

    last = audit_rows(db)[-1]
    assert (last.actor, last.action, last.outcome, last.fault_code) == (
        "mallory",
        "keys.retire",
        "refused",
        "Client.Conflict",
    )
    assert "active key of rm-finance" in (last.detail or "")


# Robustness


def test_the_keyring_keeps_its_keys_when_the_table_cannot_be_read(
    db: Database,
    folder: Path,
    clock: Clock,
    admin: KeyringAdmin,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin.generate("rm-finance", operator="alice")
    ticker = Ticker()
    worker = keyring_of(db, folder, clock, monotonic=ticker)
    first = worker.signing_key_for("rm-finance")
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE signing_keys"))

    ticker.seconds += 60
    with caplog.at_level(logging.WARNING, logger="ponte.signing"):
        again = worker.signing_key_for("rm-finance")

    assert again is first
    assert "keeping the last ones" in caplog.text


def test_a_replaced_certificate_file_is_refused(
    admin: KeyringAdmin, keyring: Keyring, folder: Path, tmp_path: Path
) -> None:
    record = admin.generate("rm-finance", operator="alice")
    cert = folder / f"{record.key_id}.cert.pem"
    other = tmp_path / "other"
    generate_signing_key(other.with_suffix(".key"), other.with_suffix(".crt"))
    cert.write_bytes(other.with_suffix(".crt").read_bytes())

    with pytest.raises(ConfigurationError, match="does not match the signing key"):
        keyring.signing_key_for("rm-finance")


def test_the_soap_caller_takes_its_key_from_the_keyring(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    db = Database(settings.database_url)
    db.prepare()
    keyring = Keyring.from_settings(settings, db)
    record = KeyringAdmin(db, AuditWriter(), keyring).generate(
        "rm-finance", operator="alice"
    )
    target = settings.targets[0].model_copy(update={"signing_key": "rm-finance"})

    SoapCaller(settings).prepare_key(target)  # no [[signing_keys]] at all

    assert shared_keyring(settings).signing_key_for("rm-finance").key_id == (
        record.key_id
    )
    db.dispose()


# Durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", dt.timedelta(days=7)),
        ("36h", dt.timedelta(hours=36)),
        ("1w2d", dt.timedelta(days=9)),
        ("90m", dt.timedelta(minutes=90)),
        ("30s", dt.timedelta(seconds=30)),
        ("0", dt.timedelta(0)),
    ],
)
def test_durations_are_read(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "d", "-1d", "1.5d", "7 days"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)
