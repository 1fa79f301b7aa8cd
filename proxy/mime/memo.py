"""What the readers of a message computed about it, kept while that message is processed.

A message goes through the same readers several times: the limits check, the facts, each
recipient's decision and each recipient's copy walk its MIME tree, and every copy puts the
footer where the others did. Readers decorated with `per_message` compute once per input:
up to `CACHED_MAX` octets in a small LRU cache (shared by messages: a campaign sends the same
HTML part in message after message); a larger input only inside `message_memo(message)` (the
service holds one around each transaction; the worker threads of proxy/offload.py run in its
context), where the values live in that transaction's memo and go with it. No cache holds a
25 MB message, or its HTML, after its transaction ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from typing import Concatenate, ParamSpec, TypeVar, cast

__all__ = ["CACHED_MAX", "message_memo", "per_message"]

CACHED_MAX = 1 << 20  # octets (characters for text) an LRU cache may hold per entry

P = ParamSpec("P")
R = TypeVar("R")
Text = TypeVar("Text", bytes, str)


@dataclass(slots=True)
class _Memo:
    message: bytes
    values: dict[object, object] = field(default_factory=dict)


_CURRENT: ContextVar[_Memo | None] = ContextVar("message_memo", default=None)


@contextmanager
def message_memo(message: bytes) -> Iterator[None]:
    """Readers called on `message` (or on text drawn from it) within the block share one
    computation per input; it is dropped at the end of the block."""
    token = _CURRENT.set(_Memo(message))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def per_message(
    maxsize: int, *, drawn: bool = False
) -> Callable[[Callable[Concatenate[Text, P], R]], Callable[Concatenate[Text, P], R]]:
    """Memoize a reader whose first argument is the message (or, `drawn`, a text drawn from
    the message being processed, such as an HTML part): small inputs in an LRU cache of
    `maxsize` entries, large ones in the transaction's memo (uncached outside one)."""

    def decorate(reader: Callable[Concatenate[Text, P], R]) -> Callable[Concatenate[Text, P], R]:
        cached: Callable[..., R] = lru_cache(maxsize=maxsize)(reader)

        @wraps(reader)
        def memoized(data: Text, /, *args: P.args, **kwargs: P.kwargs) -> R:
            if len(data) <= CACHED_MAX:  # also across messages: a campaign's HTML repeats
                return cached(data, *args, **kwargs)
            memo = _CURRENT.get()
            if memo is not None and (drawn or memo.message is cast(object, data)):
                key = (reader, data, args, tuple(kwargs.items()))
                if key not in memo.values:
                    memo.values[key] = reader(data, *args, **kwargs)
                return cast(R, memo.values[key])
            return reader(data, *args, **kwargs)

        return memoized

    return decorate
