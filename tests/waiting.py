"""Waiting in tests for something another party does (a server, a process, a queue).

One bounded poll with one failure: an AssertionError naming what was awaited, after how long,
the last value seen and, when given, `detail()` (a log, a queue listing). The timeout is
generous on purpose: a loaded 2-core CI machine must never fail a test by being slow, and the
poll returns as soon as the condition holds, so a passing run does not wait for it.
`wait_until` is for async tests (it yields to the loop the relay runs in);
`wait_until_blocking` for plain tests that drive subprocesses.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["WAIT", "wait_until", "wait_until_blocking"]

T = TypeVar("T")

WAIT = 60.0  # seconds
EVERY = 0.05  # seconds between two looks


async def wait_until(
    condition: Callable[[], T | Awaitable[T]],
    what: str,
    *,
    timeout: float = WAIT,
    every: float = EVERY,
    ignore: tuple[type[BaseException], ...] = (),
    detail: Callable[[], object] | None = None,
) -> T:
    """Poll `condition` (a function, or a coroutine function) until it returns a truthy value,
    and return that value. An exception in `ignore` counts as "not yet"; any other propagates
    (a process that exited fails at once)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        last: object = None
        try:
            result = condition()
            if inspect.isawaitable(result):
                result = await result
            last = result
            if result:
                return result  # type: ignore[return-value]
        except ignore as error:
            last = error
        if loop.time() >= deadline:
            raise AssertionError(_timed_out(what, timeout, last, detail))
        await asyncio.sleep(every)


def wait_until_blocking(
    condition: Callable[[], T],
    what: str,
    *,
    timeout: float = WAIT,
    every: float = EVERY,
    ignore: tuple[type[BaseException], ...] = (),
    detail: Callable[[], object] | None = None,
) -> T:
    """`wait_until` for code outside an event loop: sleeps the thread between two looks."""
    deadline = time.monotonic() + timeout
    while True:
        last: object = None
        try:
            result = condition()
            last = result
            if result:
                return result
        except ignore as error:
            last = error
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out(what, timeout, last, detail))
        time.sleep(every)


def _timed_out(what: str, timeout: float, last: object, detail: Callable[[], object] | None) -> str:
    message = f"timed out after {timeout:g} s waiting for {what} (last seen: {last!r})"
    if detail is not None:
        message += f"\n{detail()}"
    return message
