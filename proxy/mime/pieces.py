"""Byte transforms over a whole message, in pieces.

A C call over a 25 MB message (a regular expression, `bytes.replace`, `bytes.split`) holds the
GIL from start to end: run on the event loop, or in a worker thread (proxy/offload.py), it
stalls every session for 30-300 ms. Cut after a line feed every MB or so, each piece is a short
call and the loop gets its turn between two; no line ending and no line start is ever split.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["PIECE", "line_pieces"]

PIECE = 1 << 20  # octets


def line_pieces(data: bytes, piece: int = PIECE, end: int | None = None) -> Iterator[bytes]:
    """`data[:end]` in pieces of about `piece` octets, each ending after a line feed (but the
    last); up to `piece` octets, one piece: `data` itself when it is all of it (no copy)."""
    stop = len(data) if end is None else end
    start = 0
    while start < stop:
        cut = data.find(b"\n", start + piece, stop) + 1 or stop
        yield data[start:cut]
        start = cut
