"""What every use case knows about the call that asked for it."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from adapter.audit.writer import AuditRecord, AuditSink
from adapter.storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallContext:
    """The authenticated caller and the ids that tie log lines to audit entries."""

    actor: str
    channel: str
    operation: str
    client_address: str | None = None
    correlation_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.perf_counter)

    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)

    def audit_record(
        self,
        outcome: str,
        *,
        fault_code: str | None = None,
        record_type: str | None = None,
        record_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """The audit entry for this call, timed up to now."""
        return AuditRecord(
            actor=self.actor,
            channel=self.channel,
            action=self.operation,
            outcome=outcome,
            record_type=record_type,
            record_id=record_id,
            fault_code=fault_code,
            correlation_id=self.correlation_id,
            client_address=self.client_address,
            duration_ms=self.elapsed_ms(),
            detail=detail or {},
        )


def audit_failure(
    db: Database, audit: AuditSink, call: CallContext, code: str, message: str
) -> None:
    """Audit a refused call in a transaction of its own (its work rolled back).

    A failure to write the entry is logged, never raised over the fault the
    caller is about to receive.
    """
    try:
        with db.transaction() as session:
            entry = call.audit_record(
                "fault", fault_code=code, detail={"message": message}
            )
            audit.record(session, entry)
    except Exception:
        log.exception("audit write failed cid=%s", call.correlation_id)
