"""tests/waiting.py: a poll returns what it waited for, or fails saying what that was."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.waiting import wait_until, wait_until_blocking


def _third_time() -> Callable[[], int]:
    """Refused twice, then 3."""
    calls: list[int] = []

    def condition() -> int:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionRefusedError
        return len(calls)

    return condition


async def test_wait_until_returns_the_first_truthy_value_awaiting_coroutines() -> None:
    values = iter([0, "", "ready"])

    async def condition() -> str | int:
        return next(values)

    assert await wait_until(condition, "ready", every=0) == "ready"
    assert await wait_until(_third_time(), "a listener", every=0, ignore=(OSError,)) == 3


async def test_wait_until_fails_naming_what_it_waited_for() -> None:
    with pytest.raises(AssertionError) as failed:
        await wait_until(lambda: 0, "the queue to drain", timeout=0.05, detail=lambda: "3 queued")
    assert str(failed.value) == (
        "timed out after 0.05 s waiting for the queue to drain (last seen: 0)\n3 queued"
    )


async def test_an_exception_not_ignored_fails_at_once() -> None:
    with pytest.raises(ConnectionRefusedError):
        await wait_until(_third_time(), "a listener", timeout=60)


def test_wait_until_blocking_returns_or_fails_the_same_way() -> None:
    assert wait_until_blocking(_third_time(), "a listener", every=0, ignore=(OSError,)) == 3
    with pytest.raises(AssertionError, match=r"waiting for a listener \(last seen: Connection"):
        wait_until_blocking(_third_time(), "a listener", timeout=0, ignore=(OSError,))
