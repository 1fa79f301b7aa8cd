"""Header field folding, the relay's footer marker, and header-block editing on raw bytes."""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Callable, Sequence

from proxy.mime.tree import Entity

__all__ = [
    "MARKER_HEADER",
    "MAX_LINE",
    "build_header_block",
    "fold",
    "has_valid_marker",
    "marker_value",
]

MARKER_HEADER = "X-Prospect-Relay-Footer"
MAX_LINE = 998  # RFC 5322 2.1.1, octets without the line ending
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


def marker_value(key: bytes, message_id: str) -> str:
    """Marker bound to the Message-ID by an HMAC, so a sending tool cannot forge "footed"."""
    mac = hmac.new(key, b"prospect-relay/footer-marker\x00" + message_id.strip().encode(), "sha256")
    return "v1 " + base64.urlsafe_b64encode(mac.digest()[:16]).rstrip(b"=").decode("ascii")


def has_valid_marker(root: Entity, key: bytes) -> bool:
    """True when the message carries this relay's marker for its own Message-ID."""
    expected = marker_value(key, root.get("message-id") or "")
    return any(
        item.key == MARKER_HEADER.lower() and hmac.compare_digest(item.value.strip(), expected)
        for item in root.fields
    )


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
