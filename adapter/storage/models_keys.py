"""The keyring's table: signing keys, their state and their dates.

The private keys themselves are files under ``DATA_DIR/keys``; a row holds
what every Ponte process must agree on: which key of a signing name signs,
which ones receivers must still accept, and until when.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from adapter.storage.models import Base, UtcDateTime


class StoredSigningKey(Base):
    """One key of the keyring (or a ``ponte.toml`` key the keyring replaced).

    ``state`` is what an operator last set: ``active`` (signs), ``retiring``
    (no longer signs, still accepted until ``grace_until``) or ``retired``.
    ``revision`` grows with every change, so that a process can tell the table
    changed from ``count(*)`` and ``sum(revision)`` alone.
    """

    __tablename__ = "signing_keys"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # ds:KeyName
    name: Mapped[str] = mapped_column(String(60), index=True)  # target signing_key
    state: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10))  # keyring, config
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the DER cert
    certificate_pem: Mapped[str] = mapped_column(Text)
    not_before: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    not_after: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    retiring_since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    grace_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(80))
    revision: Mapped[int] = mapped_column(Integer, default=1)
