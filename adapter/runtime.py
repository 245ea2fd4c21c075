"""The composition root: builds each layer from the settings, once per process."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from adapter.app.access import AccessService
from adapter.app.contracts import ContractService
from adapter.app.employees import EmployeeService
from adapter.app.lawsuits import LawsuitService
from adapter.app.legal import LegalService, utc_now
from adapter.app.parties import PartyService
from adapter.app.provisions import ProvisionService
from adapter.app.punches import PunchService
from adapter.audit.writer import AuditSink, AuditWriter
from adapter.config import Settings
from adapter.credentials.authenticator import Authenticator
from adapter.credentials.users import PasswordVault
from adapter.delivery.outbox import Outbox
from adapter.storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    audit: AuditSink
    vault: PasswordVault
    authenticator: Authenticator
    legal: LegalService
    parties: PartyService
    lawsuits: LawsuitService
    contracts: ContractService
    punches: PunchService
    provisions: ProvisionService
    employees: EmployeeService
    access: AccessService
    outbox: Outbox


def subscriptions_of(settings: Settings) -> Callable[[str], Sequence[str]]:
    """``event_type -> target names`` as configured."""

    def targets_for(event_type: str) -> Sequence[str]:
        return tuple(t.name for t in settings.targets if event_type in t.events)

    return targets_for


def build_runtime(
    settings: Settings, *, audit: AuditSink | None = None, prepare: bool = True
) -> Runtime:
    """Connect, migrate and wire the layers together."""
    db = Database(settings.database_url)
    if prepare:
        db.prepare()
    sink = audit or AuditWriter()
    vault = PasswordVault(settings.fernet_key())
    authenticator = Authenticator(db, vault, settings.security.timestamp_window_seconds)
    outbox = Outbox(subscriptions_of(settings))
    legal = LegalService(db, sink, outbox)
    parties = PartyService(db, sink, utc_now)
    lawsuits = LawsuitService(db, sink, utc_now, outbox)
    contracts = ContractService(db, sink, utc_now, outbox)
    return Runtime(
        settings,
        db,
        sink,
        vault,
        authenticator,
        legal,
        parties,
        lawsuits,
        contracts,
        punches=PunchService(db, sink, utc_now),
        provisions=ProvisionService(db, sink, utc_now, outbox),
        employees=EmployeeService(db, sink, utc_now),
        access=AccessService(db, sink, outbox, utc_now),
        outbox=outbox,
    )
