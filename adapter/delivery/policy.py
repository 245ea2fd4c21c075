"""When to try again (the schedule) apart from whether to (the classification)."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from adapter.errors import (
    HttpStatusError,
    MappingError,
    RemoteFault,
    TransportError,
)


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # a passing failure: the next attempt is scheduled
    PARKED = "parked"  # refused, or retries exhausted: an operator must act


@dataclass(frozen=True)
class Verdict:
    """What one attempt came to; stored on the attempt row as data."""

    outcome: Outcome
    error_class: str | None = None
    detail: str | None = None
    http_status: int | None = None
    result: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Delays before each retry, with ± ``jitter`` spread to avoid herds."""

    delays: tuple[float, ...]
    jitter: float = 0.2

    def delay_after(self, attempt_number: int, rng: random.Random) -> float | None:
        """Seconds to wait after failed attempt ``attempt_number`` (1-based).

        ``None`` means the schedule is exhausted and the delivery parks.
        """
        if attempt_number > len(self.delays):
            return None
        base = self.delays[attempt_number - 1]
        return base * (1 + rng.uniform(-self.jitter, self.jitter))


RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def classify_error(exc: Exception) -> Verdict:
    """The verdict on a failed call; anything unknown is retried, never dropped."""
    if isinstance(exc, TransportError):
        kind = "timeout" if "timed out" in str(exc) else "connection"
        return Verdict(Outcome.RETRY, kind, str(exc))
    if isinstance(exc, RemoteFault):
        if exc.is_client_fault:
            return Verdict(Outcome.PARKED, "client_fault", exc.faultstring)
        return Verdict(Outcome.RETRY, "server_fault", exc.faultstring)
    if isinstance(exc, HttpStatusError):
        if exc.status in RETRYABLE_STATUS or exc.status >= 500:
            return Verdict(Outcome.RETRY, "http_status", str(exc), exc.status)
        return Verdict(Outcome.PARKED, "http_status", str(exc), exc.status)
    if isinstance(exc, MappingError):
        return Verdict(Outcome.PARKED, "mapping", str(exc))
    return Verdict(Outcome.RETRY, "internal", f"{type(exc).__name__}: {exc}")
