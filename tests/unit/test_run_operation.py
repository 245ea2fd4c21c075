"""What every SOAP operation does around its work: nonce, faults and audit.

``run_operation`` is driven here with a hand-made spyne context (the
envelope, the WSGI environ, the runtime); the live-server tests in
``tests/integration/test_inbound_faults.py`` cover the same through HTTP.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from lxml import etree
from spyne import Fault
from sqlalchemy import select

from adapter.app.context import CallContext
from adapter.credentials.users import add_user
from adapter.errors import ValidationError
from adapter.inbound.operations.base import run_operation
from adapter.runtime import Runtime
from adapter.storage.models import AuditEntry
from adapter.xmlutil import SOAP11_ENV
from tests.unit.test_usernametoken import PASSWORD, header


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    with runtime.db.transaction() as session:
        add_user(session, runtime.vault, "erp", "finance_erp", PASSWORD)
    return runtime


def context(rt: Runtime, nonce: bytes) -> Any:
    envelope = etree.Element(f"{{{SOAP11_ENV}}}Envelope")
    envelope.append(header(PASSWORD, nonce=nonce, created=dt.datetime.now(dt.UTC)))
    return SimpleNamespace(
        app=SimpleNamespace(ponte_runtime=rt),
        transport=SimpleNamespace(req_env={"REMOTE_ADDR": "127.0.0.1"}),
        in_document=envelope,
    )


def faults(rt: Runtime) -> list[str | None]:
    with rt.db.transaction() as session:
        return list(
            session.scalars(select(AuditEntry.fault_code).order_by(AuditEntry.id))
        )


def ok(call: CallContext) -> str:
    return "done"


def broken(call: CallContext) -> str:
    raise KeyError("a bug in the work, before any transaction")


def invalid(call: CallContext) -> str:
    raise ValidationError("amount", "must be greater than zero")


@pytest.mark.parametrize("second", [broken, invalid], ids=["bug", "rule"])
def test_a_replay_is_answered_as_a_replay_whatever_the_work_does(
    rt: Runtime, second: Any
) -> None:
    assert run_operation(context(rt, b"same"), "GetParty", ok) == "done"

    with pytest.raises(Fault) as caught:
        run_operation(context(rt, b"same"), "GetParty", second)

    assert caught.value.faultcode == "Client.Authentication"
    assert "replay" in caught.value.faultstring
    assert faults(rt)[-1] == "Client.Authentication"


def test_a_bug_in_the_work_is_an_internal_fault_and_its_nonce_is_kept(
    rt: Runtime,
) -> None:
    with pytest.raises(Fault) as caught:
        run_operation(context(rt, b"bug"), "GetParty", broken)
    with pytest.raises(Fault) as again:
        run_operation(context(rt, b"bug"), "GetParty", ok)

    assert caught.value.faultcode == "Server.Internal"
    assert again.value.faultcode == "Client.Authentication"
    assert faults(rt) == ["Server.Internal", "Client.Authentication"]
