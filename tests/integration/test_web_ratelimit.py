"""The per-client token bucket, driven by a fake clock (no sleeping)."""

from __future__ import annotations

import pytest

from proxy.web.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_the_per_minute_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)  # one token per second
    assert all(limiter.allow("a") for _ in range(60))
    assert not limiter.allow("a")
    assert limiter.retry_after("a") == 1
    clock.now += 0.5
    assert not limiter.allow("a")
    clock.now += 0.5
    assert limiter.allow("a")
    assert not limiter.allow("a")
    clock.now += 3600  # a long pause refills to the burst size, not beyond
    assert sum(limiter.allow("a") for _ in range(100)) == 60


def test_clients_are_independent() -> None:
    limiter = RateLimiter(2, clock=Clock())
    assert limiter.allow("a") and limiter.allow("a")
    assert not limiter.allow("a")
    assert limiter.allow("b")
    assert limiter.retry_after("b") == 0


def test_memory_is_bounded_by_dropping_the_least_recently_seen_client() -> None:
    limiter = RateLimiter(1, max_clients=2, clock=Clock())
    assert limiter.allow("a")
    assert limiter.allow("b")
    assert not limiter.allow("a")  # "a" is now the most recently seen
    assert limiter.allow("c")  # evicts "b"
    assert not limiter.allow("a")  # "a" kept its empty bucket
    assert limiter.allow("b")  # "b" starts again with a full bucket


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(0)
