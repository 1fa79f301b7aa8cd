"""Header field folding, the relay's footer marker, and header-block editing on raw bytes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Sequence

from proxy.mime.memo import per_message
from proxy.mime.pieces import has_bare_cr, line_pieces
from proxy.mime.tree import Entity

__all__ = [
    "MARKER_HEADER",
    "MAX_LINE",
    "body_digest",
    "build_header_block",
    "fold",
    "has_marker",
    "has_valid_marker",
    "marker_value",
]

MARKER_HEADER = "X-Prospect-Relay-Footer"
MAX_LINE = 998  # RFC 5322 2.1.1, octets without the line ending
_WHITESPACE = frozenset(b" \t\n\r\x0b\x0c")  # what bytes.rstrip() removes
_SOFT_LIMIT = 78
_CHARSET = re.compile(rb'(;\s*charset\s*=\s*)("[^"]*"|[^;\s]*)', re.IGNORECASE)


def fold(name: bytes, value: bytes, eol: bytes) -> bytes:
    """`name: value` folded at spaces so lines stay within 78 octets where a space allows.

    A single word longer than a line is kept whole on its own line (never split inside).
    """
    words = value.split()
    lines: list[bytes] = []
    line = name + b":"
    for word in words:
        if len(line) + 1 + len(word) > _SOFT_LIMIT and line.strip() != name + b":":
            lines.append(line)
            line = b" " + word
        else:
            line += b" " + word
    lines.append(line)
    return eol.join(lines) + eol


def _refold_if_long(raw: bytes, eol: bytes) -> bytes:
    """Refold a field with a physical line over 998 octets (other fields stay as they are)."""
    if all(len(line.rstrip(b"\r")) <= MAX_LINE for line in raw.split(b"\n")):
        return raw
    name, _, value = raw.partition(b":")
    return fold(name, value, eol)


def body_digest(body: bytes) -> bytes:
    """SHA-256 of a body as any relay on the way would pass it: line endings and trailing
    white space do not count (an MTA may turn LF into CRLF). Hashed piece by piece
    (proxy/mime/pieces.py): `body.replace(...).rstrip()` made two copies in two long C calls.
    A piece whose every CR starts a CRLF (the usual case) drops its CRs with `translate`,
    which with the search for a bare CR costs half of `replace` (a two-octet search)."""
    end = len(body)
    while end and body[end - 1] in _WHITESPACE:
        end -= 1
    digest = hashlib.sha256()
    for piece in line_pieces(body, end=end):
        if not has_bare_cr(piece):
            digest.update(piece.translate(None, b"\r"))
        else:
            digest.update(piece.replace(b"\r\n", b"\n"))
    return digest.digest()


def marker_value(key: bytes, message_id: str, digest: bytes, recipient: str = "") -> str:
    """Marker bound by an HMAC to the Message-ID, the footed body's digest and the recipient
    whose footer it is: a sending tool cannot forge "footed", a marker copied onto another
    body does not count, nor does a whole copy replayed to another recipient."""
    data = b"\x00".join(
        (
            b"prospect-relay/footer-marker/v2",
            message_id.strip().encode(),
            digest,
            recipient.strip().lower().encode("utf-8", "surrogateescape"),
        )
    )
    mac = hmac.new(key, data, "sha256")
    return "v2 " + base64.urlsafe_b64encode(mac.digest()[:16]).rstrip(b"=").decode("ascii")


@per_message(16)
def _body_digest_at(message: bytes, start: int, end: int) -> bytes:
    """One digest per message, however many recipients' markers are checked against it."""
    return body_digest(message[start:end])


def has_marker(root: Entity) -> bool:
    """Whether the message carries a marker field at all (valid or not)."""
    return any(item.key == MARKER_HEADER.lower() for item in root.fields)


def has_valid_marker(message: bytes, root: Entity, key: bytes, recipient: str = "") -> bool:
    """True when the message carries this relay's marker for its Message-ID, its body and
    `recipient`."""
    found = [item for item in root.fields if item.key == MARKER_HEADER.lower()]
    if not found:
        return False
    digest = _body_digest_at(message, root.body_start, root.end)
    expected = marker_value(key, root.get("message-id") or "", digest, recipient)
    return any(hmac.compare_digest(item.value.strip(), expected) for item in found)


def _set_charset_utf8(raw: bytes, eol: bytes) -> bytes:
    replaced, count = _CHARSET.subn(rb"\1utf-8", raw, count=1)
    if count:
        return replaced
    return raw.rstrip(b"\r\n") + b"; charset=utf-8" + eol


def build_header_block(
    message: bytes,
    entity: Entity,
    eol: bytes,
    *,
    drop: Callable[[str], bool] = lambda key: False,
    cte: str | None = None,
    relabel_utf8: bool = False,
    refold: bool = False,
    extra: Sequence[bytes] = (),
    body_follows: bool = False,
) -> bytes:
    """The entity's header block with fields dropped, edited or added; others byte-identical.

    `body_follows`: a new body will be written after this block, so it needs a blank line
    even if the original had neither one nor a body.
    """
    out: list[bytes] = []
    seen_type = seen_cte = False
    for item in entity.fields:
        if drop(item.key):
            continue
        raw = message[item.start : item.end]
        if not raw.endswith(b"\n"):
            raw += eol
        if item.key == "content-type" and relabel_utf8 and not seen_type:
            raw = _set_charset_utf8(raw, eol)
            seen_type = True
        elif item.key == "content-transfer-encoding" and cte is not None:
            if seen_cte:
                continue
            raw = b"Content-Transfer-Encoding: " + cte.encode("ascii") + eol
            seen_cte = True
        elif refold:
            raw = _refold_if_long(raw, eol)
        out.append(raw)
    if relabel_utf8 and not seen_type:
        out.append(
            b"Content-Type: " + entity.content_type.encode("ascii") + b"; charset=utf-8" + eol
        )
    if cte is not None and not seen_cte:
        out.append(b"Content-Transfer-Encoding: " + cte.encode("ascii") + eol)
    out.extend(extra)
    block = b"".join(out)
    has_body = entity.body_start < entity.end or body_follows
    if entity.body_start == entity.header_end and has_body and block:
        block += eol  # the original had no blank line before its body: one is needed now
    return block
