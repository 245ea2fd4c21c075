"""A call's deferred writes (the nonce) ride with its own transaction.

Inside ``Database.call()`` a deferred write is stored by the next write
transaction the call opens, whichever kind, and shares its fate; a write
that fails is dropped; a rolled-back one waits for the next transaction.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import cast

import pytest
from sqlalchemy import Table, delete, func, select

from adapter.credentials.users import add_user
from adapter.errors import AuthenticationError
from adapter.runtime import Runtime
from adapter.storage.cursor import Prepared, RawTransaction, insert_values
from adapter.storage.db import Database, DeferredWrite
from adapter.storage.models import UsedNonce, User
from tests.unit.test_usernametoken import NOW, PASSWORD, header

_NONCE = Prepared(insert_values(cast(Table, UsedNonce.__table__)))


def nonce_write(nonce: str) -> DeferredWrite:
    def write(tx: RawTransaction) -> None:
        _NONCE.execute(tx, {"user_name": "erp", "nonce": nonce, "seen_at": NOW})

    return write


def nonces(db: Database) -> list[str]:
    # Straight from the engine: a transaction of ``db`` would take the writes.
    with db.engine.connect() as connection:
        return sorted(connection.scalars(select(UsedNonce.nonce)))


def users(db: Database) -> int:
    with db.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(User)) or 0)


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    with runtime.db.transaction() as session:
        add_user(session, runtime.vault, "erp", "finance_erp", PASSWORD)
    return runtime


def test_outside_a_call_a_deferred_write_runs_at_once(rt: Runtime) -> None:
    rt.db.defer(nonce_write("now"))

    assert nonces(rt.db) == ["now"]


@pytest.mark.parametrize("kind", ["transaction", "connection", "cursor"])
def test_inside_a_call_it_commits_with_the_next_transaction(
    rt: Runtime, kind: str
) -> None:
    db = rt.db
    with db.call():
        db.defer(nonce_write("with-work"))
        with db.cursor(write=False):
            pass  # a read does not take it
        assert nonces(db) == []  # nor does that read's own transaction
        with getattr(db, kind)():
            pass
        after = nonces(db)

    assert after == ["with-work"]


def test_a_rolled_back_write_waits_for_the_next_transaction(rt: Runtime) -> None:
    db = rt.db
    with db.call():
        db.defer(nonce_write("kept"))
        with pytest.raises(RuntimeError), db.transaction():
            raise RuntimeError("the work failed")
        assert nonces(db) == []
        db.store_deferred()

    assert nonces(db) == ["kept"]


def test_a_replayed_nonce_fails_the_work_and_nothing_of_it_commits(
    rt: Runtime,
) -> None:
    db, auth = rt.db, rt.authenticator
    token = header(PASSWORD, digest=True, nonce=b"one-time")
    with db.call():
        auth.authenticate(token, now=NOW)
        assert nonces(db) == []  # checking the password only read
        db.store_deferred()
    stored = nonces(db)

    with db.call():
        auth.authenticate(token, now=NOW)  # the read cannot see the replay...
        with (
            pytest.raises(AuthenticationError, match="replay"),
            db.transaction() as session,
        ):
            session.execute(delete(User))  # ...the work's transaction does
        with pytest.raises(AuthenticationError, match="replay"):
            db.store_deferred()  # it stays a replay however often it is tried
        assert db.drop_deferred() == 1  # what the failed call does then

    assert len(stored) == 1 and nonces(db) == stored
    assert users(db) == 1  # the work did not commit


def test_a_write_that_failed_is_tried_again_by_the_next_transaction(
    rt: Runtime,
) -> None:
    # A lock timeout or a full disk on the nonce: the failure path tries it
    # again before it audits the failure.
    attempts: list[int] = []
    store = nonce_write("second-try")

    def flaky(tx: RawTransaction) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("disk full")
        store(tx)

    with rt.db.call():
        rt.db.defer(flaky)
        with pytest.raises(OSError, match="disk full"), rt.db.cursor():
            pass
        rt.db.store_deferred()

    assert len(attempts) == 2
    assert nonces(rt.db) == ["second-try"]


def test_what_is_left_when_a_call_ends_is_dropped(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    with rt.db.call():
        rt.db.defer(nonce_write("lost"))

    assert nonces(rt.db) == []
    assert "1 deferred write(s) left at the end of a call" in caplog.text


def test_a_lock_set_while_a_good_login_is_in_flight_stays(rt: Runtime) -> None:
    # The user has 4 failures and logs in right; before that call commits,
    # someone guessing makes the 5th and locks the user. The good call's
    # deferred reset must not lift that lock.
    auth = rt.authenticator
    for i in range(4):
        with pytest.raises(AuthenticationError, match="wrong"):
            auth.authenticate(header("wrong-password-x", nonce=b"w%d" % i), now=NOW)
    guesses: list[BaseException] = []

    def guess() -> None:  # another request, in a context of its own
        try:
            auth.authenticate(header("wrong-password-x", nonce=b"w4"), now=NOW)
        except AuthenticationError as refused:
            guesses.append(refused)

    with rt.db.call():
        auth.authenticate(header(PASSWORD, nonce=b"good"), now=NOW)  # reads 4
        attacker = threading.Thread(target=guess)
        attacker.start()
        attacker.join()
        rt.db.store_deferred()  # the good call commits

    assert "wrong user name or password" in str(guesses[0])

    with pytest.raises(AuthenticationError, match="locked after repeated failures"):
        auth.authenticate(header(PASSWORD, nonce=b"after"), now=NOW)
    assert len(nonces(rt.db)) == 1  # the good call's nonce was stored


def test_a_good_login_after_the_lock_expired_clears_the_count(rt: Runtime) -> None:
    auth = rt.authenticator
    for i in range(5):
        with pytest.raises(AuthenticationError, match="wrong"):
            auth.authenticate(header("wrong-password-x", nonce=b"x%d" % i), now=NOW)
    later = NOW + dt.timedelta(minutes=16)
    with rt.db.call():
        auth.authenticate(header(PASSWORD, nonce=b"ok", created=later), now=later)
        rt.db.store_deferred()

    with rt.db.engine.connect() as connection:
        state = connection.execute(
            select(User.failed_logins, User.locked_until).where(User.name == "erp")
        ).one()
    assert tuple(state) == (0, None)
