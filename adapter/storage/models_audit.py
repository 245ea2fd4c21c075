"""Tables of the audit trail beyond its entries (``AuditEntry`` in ``models``).

``audit_chain_head`` holds one row: the ``seq`` and ``hash`` of the last entry
appended. Appending takes it first (``SELECT ... FOR UPDATE`` on PostgreSQL;
SQLite's ``BEGIN IMMEDIATE`` already serialises writers), so two transactions
never chain onto the same entry, and ``ponte audit verify`` can tell that
entries were removed from the end of the chain.

``audit_attempt_bodies`` keeps the full request and answer of each outbound
attempt, compressed, apart from the chain: the chain holds their SHA-256, so
``ponte audit purge`` may drop a body past its retention and the chain still
verifies.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from adapter.storage.models import Base, UtcDateTime

CHAIN_HEAD_ID = 1


class AuditChainHead(Base):
    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class AttemptBody(Base):
    """What one attempt sent and got back, zlib-compressed, secrets redacted.

    ``*_size`` is the length in bytes (UTF-8) of the whole text, ``*_sha256``
    its digest (also in the attempt's audit entry); ``*_truncated`` says that
    only the first ``audit.archive_max_bytes`` were kept. Purged bodies keep
    their size and digest.
    """

    __tablename__ = "audit_attempt_bodies"

    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), primary_key=True)
    archived_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    request_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    request_size: Mapped[int | None] = mapped_column(Integer)
    request_sha256: Mapped[str | None] = mapped_column(String(64))
    request_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_size: Mapped[int | None] = mapped_column(Integer)
    response_sha256: Mapped[str | None] = mapped_column(String(64))
    response_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    purged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
