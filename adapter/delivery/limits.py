"""How hard Ponte may press one target: calls in flight and calls per second.

The database claim is what keeps a delivery from being sent twice; these
limits only keep a fragile ERP from being flooded, inside one worker process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

Seconds = Callable[[], float]


class TokenBucket:
    """At most ``rate`` calls start per second, one token each.

    The bucket holds at most ``capacity`` tokens (default one: calls start at
    least ``1 / rate`` seconds apart). ``reserve`` always takes a token, even
    one that is not there yet, and says how long to wait for it, so callers
    that wait are served in the order they asked.
    """

    def __init__(self, rate: float, clock: Seconds, capacity: float = 1.0) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be positive and capacity at least 1")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._stamp = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token; returns the seconds to wait before using it (≥ 0)."""
        with self._lock:
            now = self._clock()
            refill = max(0.0, now - self._stamp) * self.rate
            self._tokens = min(self.capacity, self._tokens + refill)
            self._stamp = max(now, self._stamp)
            self._tokens -= 1
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate


class TargetGate:
    """The in-flight limit and the rate limit of one target."""

    def __init__(self, max_in_flight: int, bucket: TokenBucket | None = None) -> None:
        self.max_in_flight = max_in_flight
        self.bucket = bucket
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._count = 0
        self._lock = threading.Lock()

    def try_enter(self) -> bool:
        """Take a slot if one is free; never blocks."""
        if not self._slots.acquire(blocking=False):
            return False
        with self._lock:
            self._count += 1
        return True

    def leave(self) -> None:
        with self._lock:
            self._count -= 1
        self._slots.release()

    @property
    def full(self) -> bool:
        with self._lock:
            return self._count >= self.max_in_flight

    def wait_for_token(self) -> float:
        """Seconds until this call may start under the rate limit."""
        return self.bucket.reserve() if self.bucket is not None else 0.0
