"""Per-client token buckets: each client may burst up to its per-minute allowance, then waits."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimiter"]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allow `per_minute` requests per key (client IP), refilled continuously.

    Memory is bounded: at most `max_clients` buckets are kept, the least recently seen are
    dropped first (a dropped client simply starts again with a full bucket). The clock is
    injectable so tests need no sleeping.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0  # tokens per second
        self._max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, key: str) -> bool:
        """Take one token for `key`; False when its bucket is empty (answer 429)."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(tokens=self._capacity, updated=now)
            self._buckets[key] = bucket
            if len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self._capacity, bucket.tokens + elapsed * self._rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def retry_after(self, key: str) -> int:
        """Whole seconds until `key` has one token again (for the Retry-After header)."""
        bucket = self._buckets.get(key)
        if bucket is None or bucket.tokens >= 1.0:
            return 0
        return max(1, int((1.0 - bucket.tokens) / self._rate + 0.999))
