"""The archive of outbound attempt bodies, apart from the chain.

The delivery worker hands over what an attempt sent and got back, secrets
already redacted; the archive keeps each text whole up to
``audit.archive_max_bytes`` (1 MiB), zlib-compressed, in
``audit_attempt_bodies``, and returns the SHA-256 of each whole text for the
attempt's audit entry. The chain holds only those digests, so
``purge_bodies`` may drop bodies past their retention and the chain still
verifies; a body that is still archived can be checked against its entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from adapter.audit.settings import DEFAULT_ARCHIVE_MAX_BYTES
from adapter.storage.models_audit import AttemptBody


def sha256_text(text: str | None) -> str | None:
    """SHA-256 (hex) of ``text`` as UTF-8; None for no text."""
    if text is None:
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Kept:
    """One text as archived: compressed bytes (maybe cut), whole size, digest."""

    body: bytes | None
    size: int | None
    sha256: str | None
    truncated: bool

    @classmethod
    def of(cls, text: str | None, max_bytes: int) -> Kept:
        if text is None:
            return cls(None, None, None, False)
        data = text.encode("utf-8")
        cut = data[:max_bytes]
        digest = hashlib.sha256(data).hexdigest()
        return cls(zlib.compress(cut, 6), len(data), digest, len(cut) < len(data))


@dataclass(frozen=True)
class Digests:
    request_sha256: str | None
    response_sha256: str | None


def archive_attempt(
    session: Session,
    attempt_id: int,
    request: str | None,
    response: str | None,
    now: dt.datetime,
    max_bytes: int = DEFAULT_ARCHIVE_MAX_BYTES,
) -> Digests:
    """Keep an attempt's texts (redacted) and return their digests."""
    sent, answer = Kept.of(request, max_bytes), Kept.of(response, max_bytes)
    if sent.body is not None or answer.body is not None:
        session.add(
            AttemptBody(
                attempt_id=attempt_id,
                archived_at=now,
                request_body=sent.body,
                request_size=sent.size,
                request_sha256=sent.sha256,
                request_truncated=sent.truncated,
                response_body=answer.body,
                response_size=answer.size,
                response_sha256=answer.sha256,
                response_truncated=answer.truncated,
            )
        )
    return Digests(sent.sha256, answer.sha256)


@dataclass(frozen=True)
class Body:
    """An archived text read back, and whether it still matches its digest."""

    text: str | None
    size: int | None
    sha256: str | None
    truncated: bool
    purged: bool

    @property
    def matches(self) -> bool | None:
        """True/False once compared; None when it cannot be (cut, purged, none)."""
        if self.text is None or self.truncated or self.sha256 is None:
            return None
        return sha256_text(self.text) == self.sha256


def _read(row: AttemptBody, which: str) -> Body:
    body: bytes | None = getattr(row, f"{which}_body")
    text = zlib.decompress(body).decode("utf-8", "replace") if body else None
    return Body(
        text,
        getattr(row, f"{which}_size"),
        getattr(row, f"{which}_sha256"),
        bool(getattr(row, f"{which}_truncated")),
        row.purged_at is not None,
    )


def read_bodies(session: Session, attempt_id: int) -> tuple[Body, Body] | None:
    """The archived request and answer of an attempt; None if none were kept."""
    row = session.get(AttemptBody, attempt_id)
    if row is None:
        return None
    return _read(row, "request"), _read(row, "response")


def purge_bodies(session: Session, before: dt.datetime, now: dt.datetime) -> int:
    """Drop the bodies archived before ``before``; sizes and digests stay."""
    result = session.execute(
        update(AttemptBody)
        .where(AttemptBody.archived_at < before, AttemptBody.purged_at.is_(None))
        .values(request_body=None, response_body=None, purged_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def attempt_bodies(
    session: Session, delivery_id: str, number: int
) -> tuple[Body, Body] | None:
    """The archived texts of attempt ``number`` of a delivery, if any were kept."""
    from adapter.storage.models import Attempt

    attempt_id = session.scalar(
        select(Attempt.id).where(
            Attempt.delivery_id == delivery_id, Attempt.number == number
        )
    )
    return read_bodies(session, attempt_id) if attempt_id is not None else None
