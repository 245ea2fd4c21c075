"""When to try again (the schedule) apart from whether to (the classification).

What one attempt comes to, by what the partner did::

    answer                                         outcome     error class
    2xx, no fault, no business error               delivered   -
    refused before anything was sent              retry       connection
    connect timed out                              retry       timeout
    HTTP 408, 429, 5xx (no SOAP fault)             retry       http_status
    SOAP Server / Receiver fault                   retry       server_fault
    timed out or cut off after the request left    uncertain   timeout, connection
    HTTP 2xx with an answer that cannot be read    uncertain   unreadable
    HTTP 1xx, 3xx, other 4xx                       parked      http_status
    SOAP Client / Sender fault                     parked      client_fault
    ERP business error (RM text, SAP RETURN E/A)   parked      business_error
    the mapping cannot be applied                  parked      mapping
    anything else (a bug, a missing setting)       retry       internal, ...

An *uncertain* attempt is retried on the schedule, but the next attempt first
asks the partner whether the document exists (``Profile.reconcile``), so a
document that was posted is not posted twice.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from adapter.errors import (
    ConfigurationError,
    ContractError,
    HttpStatusError,
    MappingError,
    RemoteFault,
    TransportError,
)
from adapter.mappings.stylesheet import NothingToSend


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # a passing failure: the next attempt is scheduled
    UNCERTAIN = "uncertain"  # it may have been posted: reconcile, then retry
    PARKED = "parked"  # refused, or retries exhausted: an operator must act
    SKIPPED = "skipped"  # the mapping says this target has nothing to receive


# Timeouts and "429 Too Many Requests" wait at least this long (webhooks.md §10).
OVERLOAD_DELAY_SECONDS = 60.0


@dataclass(frozen=True)
class Verdict:
    """What one attempt came to; stored on the attempt row as data."""

    outcome: Outcome
    error_class: str | None = None
    detail: str | None = None
    http_status: int | None = None
    result: str | None = None
    # Seconds the partner asked us to wait (its Retry-After), if it did.
    retry_after: float | None = None
    # The next delay is at least this long (timeouts, 429).
    min_delay: float = 0.0

    @property
    def failed_in_passing(self) -> bool:
        """The partner did not judge the document: it is tried again."""
        return self.outcome in (Outcome.RETRY, Outcome.UNCERTAIN)


@dataclass(frozen=True)
class RetryPolicy:
    """Delays before each retry, with ± ``jitter`` spread to avoid herds."""

    delays: tuple[float, ...]
    jitter: float = 0.2

    def delay_after(
        self,
        attempt_number: int,
        rng: random.Random,
        verdict: Verdict | None = None,
    ) -> float | None:
        """Seconds to wait after failed attempt ``attempt_number`` (1-based).

        The scheduled delay gets its jitter; a partner's Retry-After is
        honoured within [1×, 2×] of it, and ``verdict.min_delay`` is a floor.
        ``None`` means the schedule is exhausted and the delivery parks.
        """
        if attempt_number > len(self.delays):
            return None
        base = self.delays[attempt_number - 1]
        delay = base * (1 + rng.uniform(-self.jitter, self.jitter))
        if verdict is None:
            return delay
        if verdict.retry_after is not None:
            delay = min(max(verdict.retry_after, delay), 2 * delay)
        return max(delay, verdict.min_delay)


RETRYABLE_STATUS = frozenset({408, 429})


def classify_error(exc: Exception) -> Verdict:
    """The verdict on a failed call; anything unknown is retried, never dropped."""
    if isinstance(exc, TransportError):
        return _transport(exc)
    if isinstance(exc, RemoteFault):
        return _fault(exc)
    if isinstance(exc, HttpStatusError):
        return _status(exc)
    if isinstance(exc, NothingToSend):
        return Verdict(Outcome.SKIPPED, "nothing_to_send", exc.reason)
    if isinstance(exc, MappingError):
        return Verdict(Outcome.PARKED, "mapping", str(exc))
    if isinstance(exc, ContractError):
        return Verdict(Outcome.RETRY, "contract", str(exc))
    if isinstance(exc, ConfigurationError):
        return Verdict(Outcome.RETRY, "configuration", str(exc))
    return Verdict(Outcome.RETRY, "internal", f"{type(exc).__name__}: {exc}")


def _transport(exc: TransportError) -> Verdict:
    timed_out = "timed out" in str(exc) or "timeout" in str(exc).lower()
    kind = "timeout" if timed_out else "connection"
    outcome = Outcome.UNCERTAIN if exc.sent else Outcome.RETRY
    floor = OVERLOAD_DELAY_SECONDS if timed_out else 0.0
    return Verdict(outcome, kind, str(exc), min_delay=floor)


def _fault(exc: RemoteFault) -> Verdict:
    if exc.is_client_fault:
        return Verdict(Outcome.PARKED, "client_fault", exc.faultstring)
    if exc.faultcode == "Server.Unreadable":
        # An answer came but could not be read: the partner may have posted.
        return Verdict(Outcome.UNCERTAIN, "unreadable", exc.faultstring)
    return Verdict(Outcome.RETRY, "server_fault", exc.faultstring)


def _status(exc: HttpStatusError) -> Verdict:
    status = exc.status
    if status in RETRYABLE_STATUS or status >= 500:
        floor = OVERLOAD_DELAY_SECONDS if status == 429 else 0.0
        return Verdict(
            Outcome.RETRY,
            "http_status",
            str(exc),
            status,
            retry_after=exc.retry_after,
            min_delay=floor,
        )
    return Verdict(Outcome.PARKED, "http_status", str(exc), status)
