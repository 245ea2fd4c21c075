"""Tables. Amounts are NUMERIC(17,2), documents are text, times are UTC."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import Date, TypeDecorator


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: object
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: object
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    """An integration user: an ERP, an HR system, an operator."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    password_secret: Mapped[bytes] = mapped_column(LargeBinary)  # Fernet, for digest
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A partner that signs: every request must carry a WS-Security signature
    # made with this certificate's key (PEM; SHA-256 of the DER to find it).
    certificate_pem: Mapped[str | None] = mapped_column(Text)
    certificate_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    first_failure_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class UsedNonce(Base):
    """WS-Security nonces seen inside the timestamp window (replay cache)."""

    __tablename__ = "used_nonces"

    user_name: Mapped[str] = mapped_column(String(80), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(200), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


class Party(Base):
    __tablename__ = "parties"
    __table_args__ = (UniqueConstraint("source_system", "external_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_system: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    tax_id: Mapped[str | None] = mapped_column(String(14), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    bank_accounts: Mapped[list[BankAccount]] = relationship(
        cascade="all, delete-orphan", order_by="BankAccount.position"
    )


class BankAccount(Base):
    """A party's bank account; an upsert replaces the party's whole list."""

    __tablename__ = "party_bank_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    bank_code: Mapped[str] = mapped_column(String(3))
    agency: Mapped[str] = mapped_column(String(10))
    account: Mapped[str] = mapped_column(String(20))
    account_type: Mapped[str] = mapped_column(String(20))
    holder_tax_id: Mapped[str] = mapped_column(String(14))


class Lawsuit(Base):
    __tablename__ = "lawsuits"
    __table_args__ = (
        UniqueConstraint("source_system", "external_id"),
        Index("ix_lawsuits_sync", "updated_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_system: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    cnj_number: Mapped[str | None] = mapped_column(String(20), index=True)
    segment: Mapped[int | None] = mapped_column(Integer)
    court: Mapped[str | None] = mapped_column(String(2))
    origin: Mapped[str | None] = mapped_column(String(4))
    year: Mapped[int | None] = mapped_column(Integer)
    area: Mapped[str] = mapped_column(String(20))
    company_role: Mapped[str] = mapped_column(String(20))
    claim_value: Mapped[Decimal] = mapped_column(Numeric(17, 2))
    risk: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    filing_date: Mapped[dt.date] = mapped_column(Date)
    closure_date: Mapped[dt.date | None] = mapped_column(Date)
    closure_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class Provision(Base):
    """The provision of one lawsuit at one reporting date; the rows are its history."""

    __tablename__ = "provisions"
    __table_args__ = (
        UniqueConstraint("source_system", "external_id"),
        UniqueConstraint("lawsuit_id", "reporting_date"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_system: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(80))
    lawsuit_id: Mapped[str] = mapped_column(ForeignKey("lawsuits.id"), index=True)
    reporting_date: Mapped[dt.date] = mapped_column(Date)
    classification: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Numeric(17, 2))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class PaymentOrder(Base):
    __tablename__ = "payment_orders"
    __table_args__ = (UniqueConstraint("source_system", "external_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_system: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(80))
    lawsuit_number: Mapped[str] = mapped_column(String(20), index=True)
    type: Mapped[str] = mapped_column(String(30))
    beneficiary_id: Mapped[str] = mapped_column(ForeignKey("parties.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(17, 2))
    currency: Mapped[str] = mapped_column(String(3))
    due_date: Mapped[dt.date] = mapped_column(Date)
    cost_center: Mapped[str] = mapped_column(String(25))
    description: Mapped[str] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(20))
    erp_document: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(80))
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    beneficiary: Mapped[Party] = relationship(lazy="joined")


class OutboxEvent(Base):
    """An event written in the same transaction as the change that caused it."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str] = mapped_column(String(120), index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Delivery(Base):
    """One event on its way to one target."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "target"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_key", "target", "business_key", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"))
    target: Mapped[str] = mapped_column(String(80))
    message_id: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # The event's business key, copied so that ordering per key needs no join.
    business_key: Mapped[str | None] = mapped_column(String(120))

    event: Mapped[OutboxEvent] = relationship(lazy="joined")


class Attempt(Base):
    """One try of a delivery, written before the call and completed after it."""

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(20))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error_class: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    # What went out and what came back, secrets redacted, cut to a size.
    request_text: Mapped[str | None] = mapped_column(Text)
    response_text: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """Who did what, when, through which channel, and how it ended.

    Entries are appended, never changed, and form a hash chain
    (``adapter.audit.chain``): ``seq`` numbers them in the order they were
    appended (which ``id`` follows: both are taken under the chain head's
    lock), ``prev_hash`` is the previous entry's ``hash``, and ``hash`` is
    SHA-256 over this entry's fields and ``prev_hash``. CPFs are masked before
    an entry is stored.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20))  # soap, worker, cli
    action: Mapped[str] = mapped_column(String(80))
    record_type: Mapped[str | None] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(20))
    fault_code: Mapped[str | None] = mapped_column(String(60))
    correlation_id: Mapped[str | None] = mapped_column(String(80), index=True)
    client_address: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    # SHA-256 (hex) of the SOAP request as received, or of an outbound
    # attempt's request and answer as archived (``audit_attempt_bodies``).
    request_sha256: Mapped[str | None] = mapped_column(String(64))
    response_sha256: Mapped[str | None] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


DELIVERY_LEASE = "delivery-worker"


class SchedulerLease(Base):
    """Held by the one delivery worker allowed to run per database."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


# Each record family keeps its tables in a module of its own; importing them
# here registers them on Base.metadata, which the migrations compare against.
from adapter.storage import (  # noqa: E402
    models_access,  # noqa: F401
    models_audit,  # noqa: F401
    models_contracts,  # noqa: F401
    models_delivery,  # noqa: F401
    models_employees,  # noqa: F401
    models_keys,  # noqa: F401
    models_payment_orders,  # noqa: F401
    models_provisions,  # noqa: F401
    models_punches,  # noqa: F401
)
