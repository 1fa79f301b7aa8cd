"""Append a footer to one text/plain or text/html body, keeping its charset readable.

Byte-level where possible: when the footer fits the part's charset (or, in HTML, can be
written as character references), the original octets are kept and only the footer is
inserted. A plain-text part whose charset cannot hold the footer is transcoded to UTF-8 and
relabelled. The transfer encoding is kept, except that 7bit data that gained 8-bit octets or
any line over 998 octets switches to quoted-printable.
"""

from __future__ import annotations

import binascii
import codecs
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from proxy.mime.htmlplace import html_spot
from proxy.mime.pieces import base64_body, line_pieces, qp_body
from proxy.mime.tree import Entity, decode_transfer

__all__ = ["PartEdit", "foot_part", "footer_alternative"]

_PROBE = "</body>\nA=~+"
_RAW_CTES = frozenset({"7bit", "8bit", "binary", ""})


@dataclass(frozen=True, slots=True)
class PartEdit:
    """The new body of a part, plus the header changes it needs."""

    body: bytes
    cte: str | None = None  # new Content-Transfer-Encoding, when it changed
    relabel_utf8: bool = False  # Content-Type charset becomes utf-8


@lru_cache(maxsize=64)
def _codec(charset: str) -> str | None:
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


@lru_cache(maxsize=64)
def _ascii_compatible(codec: str) -> bool:
    """ASCII octets mean ASCII characters, so octets can be inserted without decoding."""
    try:
        return _PROBE.encode(codec) == _PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        return False


def _line_ending(data: bytes, default: bytes) -> bytes:
    newline = data.find(b"\n")
    if newline < 0:
        return default
    return b"\r\n" if newline > 0 and data[newline - 1] == 0x0D else b"\n"


def _place(body: bytes, footer: bytes, html: bool, eol: bytes) -> tuple[bytes, int] | None:
    """Body with the footer at the end, or for HTML where proxy.mime.htmlplace finds a
    visible spot (None when there is none), and how many leading octets of `body` it kept
    as they were. `body` is in an ASCII-compatible encoding."""
    if html:
        spot = html_spot(body.decode("latin-1"))  # octets <-> characters one to one
        if spot is None:
            return None
        idx = spot.offset
        closing = spot.closing.encode("ascii")
        if idx < len(body):
            return body[:idx] + closing + footer + eol + body[idx:], idx
        lead = body if not body or body.endswith(b"\n") else body + eol
        return lead + closing + footer + eol, len(body)
    if not body:
        return footer + eol, 0
    # One copy of the body (each `+` would make one), and `isspace` stops at the first
    # visible octet where `strip` would copy it all.
    gap = eol if not body.isspace() and not html else b""
    placed = b"".join((body, b"" if body.endswith(b"\n") else eol, gap, footer, eol))
    return placed, len(body)


def _ascii_fold(text: str) -> str:
    """Accents dropped ("é" -> "e"): readable in any ASCII-compatible charset."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _decode_text(data: bytes, codec: str | None) -> str | None:
    """Strict decode; ASCII-labelled (or unlabelled) 8-bit text is usually UTF-8."""
    for candidate in (codec, "utf-8"):
        if candidate is None:
            continue
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    return None


@dataclass(frozen=True, slots=True)
class _Inserted:
    payload: bytes  # the part's new octets (before its transfer encoding)
    relabel_utf8: bool
    kept: int  # leading octets of the old octets `payload` starts with, unchanged


def _insert(data: bytes, footer: str, html: bool, charset: str, eol: bytes) -> _Inserted | None:
    """The part's octets with the footer, or None when the part cannot be edited safely."""
    codec = _codec(charset)
    footer = footer.replace("\r\n", "\n").replace("\n", eol.decode("ascii"))
    if codec is not None and not _ascii_compatible(codec):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            return None
        placed = _place(text.encode("utf-8"), footer.encode("utf-8"), html, eol)
        if placed is None:
            return None
        return _Inserted(placed[0].decode("utf-8").encode(codec), False, 0)
    target = codec or "ascii"
    try:
        encoded = footer.encode(target)
    except UnicodeEncodeError:
        pass
    else:
        return _kept(_place(data, encoded, html, eol))
    if html:
        return _kept(_place(data, footer.encode(target, "xmlcharrefreplace"), html, eol))
    readable = _decode_text(data, codec)
    if readable is not None:
        placed = _place(readable.encode("utf-8"), footer.encode("utf-8"), html, eol)
        return None if placed is None else _Inserted(placed[0], True, 0)
    return _kept(_place(data, _ascii_fold(footer).encode(target, "replace"), html, eol))


def _kept(placed: tuple[bytes, int] | None) -> _Inserted | None:
    """An insertion into the part's own octets: they are kept up to the footer's place."""
    return None if placed is None else _Inserted(placed[0], False, placed[1])


def _needs_qp(payload: bytes, cte: str) -> bool:
    if cte in ("7bit", "") and not payload.isascii():
        return True
    # A line over 998 octets (RFC 5322 2.1.1), a 1 MB piece at a time (one split of a 25 MB
    # part held the GIL for 0.1 s); a regular expression costs five times the split.
    return any(max(map(len, piece.split(b"\n"))) > 998 for piece in line_pieces(payload))


def foot_part(message: bytes, part: Entity, footer: str, eol: bytes) -> PartEdit | None:
    """The edit that adds `footer` to `part`, or None if its encoding is not understood."""
    raw = message[part.body_start : part.end]
    data = decode_transfer(raw, part.cte)
    if data is None:
        return None
    inserted = _insert(
        data,
        footer,
        part.content_type == "text/html",
        part.charset or "us-ascii",
        _line_ending(data, eol),
    )
    if inserted is None:
        return None
    payload, relabel = inserted.payload, inserted.relabel_utf8
    cte = part.cte
    if cte in _RAW_CTES:
        if _needs_qp(payload, cte):
            return PartEdit(qp_body(payload, eol), "quoted-printable", relabel)
        return PartEdit(payload, None, relabel)
    if cte == "quoted-printable":
        return PartEdit(_qp_tail_edit(raw, data, inserted, eol), None, relabel)
    return PartEdit(base64_body(payload, eol), None, relabel)


def _qp_tail_edit(raw: bytes, data: bytes, inserted: _Inserted, eol: bytes) -> bytes:
    """The quoted-printable body of `inserted.payload`: the part's own encoded lines up to a
    line end before the footer's place, then only the rest encoded again.

    `binascii.b2a_qp` costs about 30 ns per octet, most of the work of footing a campaign
    message (a 100 KB one spent ~1.5 ms re-encoding text it did not change), while the footer
    goes at or near the end. Quoted-printable decodes line by line (an escape or a soft line
    break never spans a line feed), so the encoded lines before a cut made just after a line
    feed still decode to the same octets, and the encoded rest starts a line of its own. The
    cut moves back by doubling steps (a few C calls, whatever the lines), and past
    `_TAIL_LIMIT` octets the whole part is encoded again, as before.
    """
    after = len(data) - inserted.kept  # decoded octets from the footer's place to the end
    if after == 0 and raw.endswith(b"\n"):
        return raw + qp_body(inserted.payload[len(data) :], eol)
    step = _FIRST_STEP
    while step <= _TAIL_LIMIT:
        cut = raw.rfind(b"\n", 0, max(len(raw) - step, 0)) + 1
        tail = len(binascii.a2b_qp(raw[cut:]))
        if tail >= after or cut == 0:
            return raw[:cut] + qp_body(inserted.payload[len(data) - tail :], eol)
        step *= 2
    return qp_body(inserted.payload, eol)


_FIRST_STEP = 256  # octets of encoded text the first cut goes back
_TAIL_LIMIT = 64 * 1024  # octets of encoded text walked back before encoding the whole part


def _utf8_part(content_type: bytes, text: str, eol: bytes) -> bytes:
    return (
        b"Content-Type: " + content_type + b"; charset=utf-8" + eol
        + b"Content-Transfer-Encoding: quoted-printable" + eol
        + eol
        + qp_body(text.replace("\r\n", "\n").encode("utf-8"), eol)
    )  # fmt: skip


def footer_alternative(text: str, html: str, boundary: bytes, eol: bytes) -> bytes:
    """A whole `multipart/alternative` part (headers and body): the footer in text and HTML,
    for a message wrapped because none of its own parts could carry it."""
    page = "<!DOCTYPE html>\n<html><body>\n" + html + "\n</body></html>\n"
    return (
        b'Content-Type: multipart/alternative; boundary="' + boundary + b'"' + eol
        + eol
        + b"--" + boundary + eol
        + _utf8_part(b"text/plain", text + "\n", eol) + eol
        + b"--" + boundary + eol
        + _utf8_part(b"text/html", page, eol) + eol
        + b"--" + boundary + b"--"
    )  # fmt: skip
