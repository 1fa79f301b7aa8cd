"""Byte-offset map of a MIME message: where each entity's header fields and body lie.

The rewriter edits only the byte ranges it must (a few text bodies, some header fields) and
copies every other byte, so attachments, signatures and unknown parts stay identical. The
`email` package cannot do that: it refolds headers and re-encodes parts when it serialises.
Parsing never raises; a malformed structure degrades into leaves that are left alone.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.utils import unquote

from proxy.mime.memo import per_message
from proxy.mime.pieces import unbase64, unqp

__all__ = [
    "FROZEN_TYPES",
    "Entity",
    "HeaderField",
    "boundary_of",
    "decode_transfer",
    "detect_eol",
    "header_fields",
    "iter_visible_text",
    "parse",
]

_FIELD_NAME = re.compile(rb"[!-9;-~]+")
MAX_DEPTH = 40  # nesting below this is not parsed (the deeper part stays opaque)
MAX_ENTITIES = 10_000  # entities parsed per message; the rest of the structure stays opaque
# The email package's parameter parser re-counts quotes from the start of the value for every
# `;` (quadratic): it only reads values it can finish in bounded time; others are opaque.
_EMAIL_MAX_VALUE = 8_192
_EMAIL_MAX_SEMICOLONS = 64
# Parts whose bytes are covered by a signature or are ciphertext: never edited.
FROZEN_TYPES = frozenset(
    {
        "multipart/signed",
        "multipart/encrypted",
        "application/pkcs7-mime",
        "application/x-pkcs7-mime",
    }
)
_BODY_TEXT = frozenset({"text/plain", "text/html"})


@dataclass(frozen=True, slots=True)
class HeaderField:
    """One header field with its folded lines, as offsets into the message."""

    name: str  # as written
    start: int
    end: int  # just after the last line's line ending
    value: str  # unfolded, latin-1 decoded (content headers are ASCII; others decode later)

    @property
    def key(self) -> str:
        return self.name.lower()


@dataclass(slots=True)
class Entity:
    """A message or body part: header fields, body range and, for multiparts, children."""

    header_start: int
    header_end: int  # where the blank line (or the body, if none) starts
    body_start: int
    end: int
    fields: tuple[HeaderField, ...]
    content_type: str = "text/plain"
    charset: str | None = None
    cte: str = "7bit"
    disposition: str | None = None
    has_filename: bool = False
    children: list[Entity] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        """The unfolded value of the first field called `name` (case-insensitive)."""
        key = name.lower()
        for item in self.fields:
            if item.key == key:
                return item.value
        return None

    @property
    def is_attachment(self) -> bool:
        return self.disposition == "attachment" or self.has_filename


def detect_eol(data: bytes) -> bytes:
    """The message's line ending: CRLF when its first line ends so, else LF."""
    newline = data.find(b"\n")
    if newline > 0 and data[newline - 1] == 0x0D:
        return b"\r\n"
    return b"\n" if newline >= 0 else b"\r\n"


def _parse_fields(data: bytes, pos: int, limit: int) -> tuple[list[HeaderField], int, int]:
    """Header fields from `pos`; returns (fields, header_end, body_start)."""
    fields: list[HeaderField] = []
    name: bytes | None = None
    start = pos
    lines: list[bytes] = []

    def close(at: int) -> None:
        if name is not None:
            value = b" ".join(part.strip(b" \t") for part in lines).strip()
            fields.append(HeaderField(name.decode("latin-1"), start, at, value.decode("latin-1")))

    p = pos
    while p < limit:
        newline = data.find(b"\n", p, limit)
        line_end = limit if newline < 0 else newline + 1
        content = data[p:line_end].rstrip(b"\r\n")
        if not content:
            close(p)
            return fields, p, line_end
        if content[0] in b" \t":
            if name is None:
                return fields, p, p
            lines.append(content)
        else:
            colon = content.find(b":")
            if colon <= 0 or not _FIELD_NAME.fullmatch(content, 0, colon):
                close(p)
                return fields, p, p
            close(p)
            name, start, lines = content[:colon], p, [content[colon + 1 :]]
        p = line_end
    close(limit)
    return fields, limit, limit


# The common shape of a Content-Type: `type/subtype` and plain `name=value` parameters (a
# token or a quoted string without escapes), ASCII only. Anything else (RFC 2231 names,
# escapes, comments, oddities) goes through the email package, whose reading is the reference.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM = r"""\s*;\s*([!#$%&'+.^_`|~0-9A-Za-z-]+)\s*=\s*("[^"\\]*"|[^\s;"\\()]+)"""
# `\s*(?:;\s*)?` at the end, not `\s*;?\s*`: two adjacent `\s*` backtrack quadratically.
_SIMPLE_TYPE = re.compile(rf"({_TOKEN}/{_TOKEN})((?:{_PARAM})*)\s*(?:;\s*)?")
_SIMPLE_PARAM = re.compile(_PARAM)
_SIMPLE_DISPOSITION = re.compile(r"[A-Za-z-]+\s*")


def _simple_params(value: str) -> tuple[str, dict[str, str]] | None:
    """(lower-case type, {name: unquoted value, first wins}) for a simple header, else None."""
    match = _SIMPLE_TYPE.fullmatch(value) if value.isascii() else None
    if match is None:
        return None
    params: dict[str, str] = {}
    for name, raw in _SIMPLE_PARAM.findall(match.group(2)):
        params.setdefault(name.lower(), unquote(raw))
    return match.group(1).lower(), params


def _describe_simple(entity: Entity, default_type: str) -> bool:
    """The fast reading of `_describe` for simple headers; False when it does not apply."""
    content_type = disposition = None
    for item in entity.fields:
        if item.key == "content-type" and content_type is None:
            content_type = item.value
        elif item.key == "content-disposition" and disposition is None:
            disposition = item.value
    if disposition is not None and not _SIMPLE_DISPOSITION.fullmatch(disposition):
        return False  # parameters (a file name) or oddities: the email package reads them
    if content_type is None:
        entity.content_type, entity.charset = default_type, None
    else:
        parsed = _simple_params(content_type)
        if parsed is None or "name" in parsed[1]:
            return False
        entity.content_type = parsed[0]
        charset = parsed[1].get("charset")
        entity.charset = charset.lower() if charset is not None else None
    entity.disposition = disposition.strip().lower() if disposition is not None else None
    entity.has_filename = False
    return True


def _describe(entity: Entity, default_type: str) -> None:
    """Fill the content attributes from the fields, with RFC 2045/2046 defaults."""
    if not _describe_simple(entity, default_type):
        _describe_with_email(entity, default_type)
    cte = entity.get("content-transfer-encoding")
    entity.cte = cte.strip().lower() if cte else "7bit"


def _email_can_read(value: str) -> bool:
    return len(value) <= _EMAIL_MAX_VALUE and value.count(";") <= _EMAIL_MAX_SEMICOLONS


def _describe_with_email(entity: Entity, default_type: str) -> None:
    probe = Message()
    probe.set_default_type(default_type)
    for item in entity.fields:
        if item.key in ("content-type", "content-disposition"):
            if not _email_can_read(item.value):
                entity.content_type = "application/octet-stream"  # unreadable: opaque
                return
            probe[item.name] = item.value
    try:
        entity.content_type = probe.get_content_type()
        entity.charset = probe.get_content_charset()
        entity.disposition = probe.get_content_disposition()
        entity.has_filename = bool(probe.get_filename() or probe.get_param("name"))
    except (LookupError, ValueError, TypeError, AttributeError):
        entity.content_type = "application/octet-stream"  # unreadable: treat as opaque


def boundary_of(entity: Entity) -> bytes | None:
    """The multipart boundary as bytes, or None when missing or unusable."""
    content_type = entity.get("content-type")
    parsed = _simple_params(content_type) if content_type is not None else None
    if parsed is not None:
        boundary: str | None = parsed[1].get("boundary")
        # The email package unquotes twice (get_param, then collapse_rfc2231_value).
        boundary = unquote(boundary).rstrip() if boundary is not None else None
    else:
        boundary = _boundary_with_email(entity)
    if not boundary or len(boundary) > 200:
        return None
    try:
        return boundary.encode("ascii")
    except UnicodeEncodeError:
        return None


def _boundary_with_email(entity: Entity) -> str | None:
    probe = Message()
    for item in entity.fields:
        if item.key == "content-type":
            if not _email_can_read(item.value):
                return None
            probe[item.name] = item.value
            break
    try:
        return probe.get_boundary()
    except (LookupError, ValueError, TypeError, AttributeError):
        return None


def _delimiter_at(data: bytes, idx: int, start: int, dash: bytes) -> tuple[bool, int] | None:
    """(is_close, line_end) when a boundary delimiter line starts at idx, else None."""
    if idx != start and data[idx - 1] != 0x0A:
        return None
    p = idx + len(dash)
    newline = data.find(b"\n", p)
    line_end = len(data) if newline < 0 else newline + 1
    rest = data[p:line_end].rstrip(b"\r\n")
    is_close = rest.startswith(b"--")
    if is_close:
        rest = rest[2:]
    if rest.strip(b" \t"):
        return None
    return is_close, line_end


def _split(data: bytes, start: int, end: int, boundary: bytes) -> list[tuple[int, int]] | None:
    """Byte ranges of a multipart body's parts, or None if no delimiter is found."""
    dash = b"--" + boundary
    ranges: list[tuple[int, int]] = []
    part_start: int | None = None
    p = start
    while p < end:
        idx = data.find(dash, p, end)
        if idx < 0:
            break
        found = _delimiter_at(data, idx, start, dash)
        if found is None:
            p = idx + len(dash)
            continue
        is_close, line_end = found
        line_end = min(line_end, end)
        if part_start is not None:
            part_end = idx
            if part_end > part_start and data[part_end - 1] == 0x0A:
                part_end -= 1
                if part_end > part_start and data[part_end - 1] == 0x0D:
                    part_end -= 1
            ranges.append((part_start, max(part_start, part_end)))
        if is_close:
            return ranges
        part_start = line_end
        p = line_end
    if part_start is None:
        return None
    ranges.append((part_start, end))
    return ranges


def _parse_entity(
    data: bytes, start: int, end: int, default_type: str, depth: int, seen: list[int]
) -> Entity:
    """One entity and its children; `seen` counts the entities parsed so far (a budget)."""
    fields, header_end, body_start = _parse_fields(data, start, end)
    entity = Entity(start, header_end, body_start, end, tuple(fields))
    _describe(entity, default_type)
    seen[0] += 1
    if (
        entity.content_type.startswith("multipart/")
        and depth < MAX_DEPTH
        and seen[0] <= MAX_ENTITIES
    ):
        boundary = boundary_of(entity)
        ranges = _split(data, body_start, end, boundary) if boundary else None
        if ranges is None:
            entity.content_type = "application/octet-stream"  # broken multipart: opaque
        else:
            child_default = (
                "message/rfc822" if entity.content_type == "multipart/digest" else "text/plain"
            )
            for s, e in ranges:
                if seen[0] > MAX_ENTITIES:
                    break
                entity.children.append(_parse_entity(data, s, e, child_default, depth + 1, seen))
    return entity


def header_fields(data: bytes) -> tuple[HeaderField, ...]:
    """The top-level header fields only, without walking the body."""
    return tuple(_parse_fields(data, 0, len(data))[0])


@per_message(16)
def parse(data: bytes) -> Entity:
    """The entity tree of a whole message; never raises on malformed input.

    Once per message (proxy/mime/memo.py): the relay reads one message's facts and then
    rewrites a copy per recipient, all from the same bytes object. Callers treat the tree
    as read-only.
    """
    return _parse_entity(data, 0, len(data), "text/plain", 0, [0])


def iter_visible_text(root: Entity, *, include_signed: bool = False) -> Iterator[Entity]:
    """Inline text/plain and text/html leaves a reader sees as the message body.

    Skipped: attachments (disposition attachment or a file name), anything inside a signed or
    encrypted structure (editing would break it), and attached messages (message/rfc822 is
    another message, shown as such; footing it would falsify what was forwarded).
    `include_signed` also yields the readable content of multipart/signed, for inspection.
    """
    stack = [root]
    while stack:
        entity = stack.pop()
        if entity.content_type in FROZEN_TYPES:
            if include_signed and entity.content_type == "multipart/signed" and entity.children:
                stack.append(entity.children[0])
            continue
        if entity.children:
            stack.extend(reversed(entity.children))
        elif entity.content_type in _BODY_TEXT and not entity.is_attachment:
            yield entity


def decode_transfer(body: bytes, cte: str) -> bytes | None:
    """The body's octets after its Content-Transfer-Encoding; None for unknown encodings."""
    if cte in ("7bit", "8bit", "binary", ""):
        return body
    if cte == "quoted-printable":
        return unqp(body)
    if cte == "base64":
        try:
            return unbase64(body)
        except binascii.Error:
            return None
    return None
