"""What every use case knows about the call that asked for it."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


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
