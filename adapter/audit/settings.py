"""Settings of the audit trail and of keyed CPF hashes: the ``[audit]`` section."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_ARCHIVE_MAX_BYTES = 1024 * 1024


class AuditSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    archive_max_bytes: int = Field(
        DEFAULT_ARCHIVE_MAX_BYTES,
        ge=0,
        description="Most bytes kept of each outbound request and answer in the "
        "attempt archive (before compression); longer ones are cut and marked. "
        "Their SHA-256 in the audit entry is always over the whole text.",
    )
    subject_key_file: Path | None = Field(
        None,
        description="File holding the secret (hex, at least 32 bytes) of the "
        "keyed CPF hashes some targets receive instead of a CPF. Default "
        "DATA_DIR/subject.key, created on first use (mode 0600). Whoever holds "
        "it can test guesses of a CPF against a hash: keep it like a password.",
    )
