"""Byte transforms over a whole message, in pieces.

A C call over a 25 MB message (a regular expression, `bytes.replace`, `bytes.split`) holds the
GIL from start to end: run on the event loop, or in a worker thread (proxy/offload.py), it
stalls every session for 30-300 ms. Cut after a line feed every MB or so, each piece is a short
call and the loop gets its turn between two; no line ending and no line start is ever split.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

__all__ = ["PIECE", "base64_body", "has_bare_cr", "line_pieces", "qp_body", "unbase64", "unqp"]

PIECE = 1 << 20  # octets
_B64_IN = 57 * 18_396  # octets per piece: a whole number of 76-character base64 lines (~1 MB)
_B64_OUT = 4 * 262_144  # base64 characters per piece: a whole number of quanta (1 MB)
_NOT_BASE64 = b" \t\r\n="
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BARE_CR = re.compile(rb"\r(?!\n)")


def line_pieces(data: bytes, piece: int = PIECE, end: int | None = None) -> Iterator[bytes]:
    """`data[:end]` in pieces of about `piece` octets, each ending after a line feed (but the
    last); up to `piece` octets, one piece: `data` itself when it is all of it (no copy)."""
    stop = len(data) if end is None else end
    start = 0
    while start < stop:
        cut = data.find(b"\n", start + piece, stop) + 1 or stop
        yield data[start:cut]
        start = cut


def has_bare_cr(data: bytes) -> bool:
    """Whether a CR stands anywhere but before a LF: the regular expression jumps from CR to
    CR, cheaper than counting CRLFs (a two-octet search is slow in CPython)."""
    return _BARE_CR.search(data) is not None


def qp_body(payload: bytes, eol: bytes, piece: int = PIECE) -> bytes:
    """Quoted-printable text body with `eol` line endings (a CR alone is `=0D`), encoded a
    line piece at a time: quoted-printable works line by line, so the pieces' encodings put
    end to end are the whole's."""
    canonical = [part.replace(b"\r\n", b"\n") for part in line_pieces(payload, piece)]
    if any(b"\r\n" in part for part in canonical):
        # A CR before a line end (from CR CR LF): b2a_qp then picks CRLF line ends from the
        # first line of its input, so only the whole gives the whole's answer.
        canonical = [b"".join(canonical)]
    return b"".join(
        binascii.b2a_qp(part, quotetabs=False, istext=True, header=False)
        .replace(b"\r", b"=0D")
        .replace(b"\n", eol)
        for part in canonical
    )


def base64_body(payload: bytes, eol: bytes, piece: int = _B64_IN) -> bytes:
    """Base64 in 76-character lines ending with `eol`, a whole number of lines at a time."""
    piece = max(57, piece - piece % 57)
    return b"".join(
        base64.encodebytes(payload[start : start + piece]).replace(b"\n", eol)
        for start in range(0, len(payload), piece)
    )


def unqp(body: bytes, piece: int = PIECE) -> bytes:
    """Quoted-printable decoded a line piece at a time (an escape or a soft line break never
    spans a line feed, so no piece cuts one)."""
    return b"".join(binascii.a2b_qp(part) for part in line_pieces(body, piece))


def unbase64(body: bytes, piece: int = _B64_OUT) -> bytes:
    """Base64 decoded leniently (whitespace and padding ignored, a dangling sextet dropped), a
    whole number of quanta at a time. Raises binascii.Error as a2b_base64 does."""
    parts = [part.translate(None, _NOT_BASE64) for part in line_pieces(body, piece)]
    clean = b"".join(parts)
    if len(clean) % 4 == 1:
        clean = clean[:-1]  # a dangling sextet carries no whole octet
    clean += b"=" * (-len(clean) % 4)
    piece = max(4, piece - piece % 4)
    if any(part.translate(None, _BASE64_ALPHABET) for part in parts):
        piece = max(4, len(clean))  # a2b_base64 skips such characters: decode it whole
    return b"".join(
        binascii.a2b_base64(clean[start : start + piece]) for start in range(0, len(clean), piece)
    )
