"""Turn database failures of the operations queries into `StoreUnavailable` (one line)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import SQLAlchemyError

from proxy.errors import StoreUnavailable

__all__ = ["store_errors"]


@contextmanager
def store_errors(what: str) -> Iterator[None]:
    """The CLI prints `StoreUnavailable` as one line; a driver traceback helps nobody there."""
    try:
        yield
    except (SQLAlchemyError, OSError) as exc:
        cause = getattr(exc, "orig", None) or exc
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise StoreUnavailable(f"{what}: {first}") from exc
