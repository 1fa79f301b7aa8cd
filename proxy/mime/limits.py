"""Structural limits on a received message, checked at end of DATA before anything reads it.

A peer controls every byte of the message, and the public unsubscribe mailbox takes mail
from any network: the limits bound what the readers after this one (facts, mention scan,
rewriting, DKIM) can be asked to do. The check itself is one pass over the cached tree
(`proxy.mime.tree.parse`, linear and bounded to `MAX_ENTITIES` entities and `MAX_DEPTH`
levels), which those readers then reuse. `check_and_read` also runs those readers ahead,
for a large message in a worker thread (proxy/offload.py), so the event loop only finds them
in their caches.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.mime.header_text import decode_words
from proxy.mime.headers import MAX_LINE, has_marker, has_valid_marker
from proxy.mime.layout import footer_layout
from proxy.mime.mentions import message_mentions
from proxy.mime.tree import Entity, parse

__all__ = [
    "MAX_CAMPAIGN_OCTETS",
    "ContentLimits",
    "LimitExceeded",
    "check_and_read",
    "check_limits",
]

# The campaign id goes into every unsubscribe token (at most 254 octets) and into the audit
# trail's 200-character column: a longer one is refused, never cut (it names the campaign).
MAX_CAMPAIGN_OCTETS = 200


@dataclass(frozen=True, slots=True)
class ContentLimits:
    max_header_size: int  # octets in one entity's header section (the message's or a part's)
    max_mime_parts: int  # body parts, containers included, the message itself excluded
    max_mime_depth: int  # multipart levels (a multipart inside a multipart is 2)


@dataclass(frozen=True, slots=True)
class LimitExceeded:
    """Which limit the message broke, for the reply and the record."""

    limit: str  # header-line | header-size | mime-parts | mime-depth | campaign-header
    text: str  # names the limit; safe to send in a reply

    @property
    def reason_code(self) -> str:
        return f"limit.{self.limit}"


def _long_line(message: bytes, entity: Entity) -> bool:
    block = message[entity.header_start : entity.header_end]
    return any(len(line.rstrip(b"\r")) > MAX_LINE for line in block.split(b"\n"))


def _campaign_too_long(message: bytes, root: Entity) -> bool:
    for item in root.fields:
        if item.key == "x-prospect-campaign":
            raw = message[item.start : item.end].partition(b":")[2]
            value = decode_words(" ".join(raw.decode("utf-8", "replace").split()))
            return len(value.strip().encode("utf-8")) > MAX_CAMPAIGN_OCTETS
    return False


def check_limits(message: bytes, limits: ContentLimits) -> LimitExceeded | None:
    """The first limit `message` exceeds, or None."""
    root = parse(message)
    parts = 0
    stack: list[tuple[Entity, int]] = [(root, 0)]
    while stack:
        entity, depth = stack.pop()
        if entity.header_end - entity.header_start > limits.max_header_size:
            return LimitExceeded(
                "header-size", f"header section over {limits.max_header_size} octets"
            )
        if _long_line(message, entity):
            return LimitExceeded(
                "header-line", f"header line over {MAX_LINE} octets (RFC 5322 2.1.1)"
            )
        if entity.children:
            depth += 1
            if depth > limits.max_mime_depth:
                return LimitExceeded(
                    "mime-depth", f"MIME nesting deeper than {limits.max_mime_depth} levels"
                )
            parts += len(entity.children)
            if parts > limits.max_mime_parts:
                return LimitExceeded("mime-parts", f"more than {limits.max_mime_parts} MIME parts")
            stack.extend((child, depth) for child in entity.children)
    if _campaign_too_long(message, root):
        return LimitExceeded(
            "campaign-header", f"X-Prospect-Campaign over {MAX_CAMPAIGN_OCTETS} octets"
        )
    return None


def check_and_read(message: bytes, limits: ContentLimits, *, footer: bool) -> LimitExceeded | None:
    """`check_limits`, then, within the limits, the readers of the decision step whose cost
    grows with the message (each runs once per message, proxy/mime/memo.py): the tree, the
    mentions and, when a copy may carry a footer (`footer`: some recipient is not the
    relay's own mailbox), where the footer goes and the digest of a marked body."""
    exceeded = check_limits(message, limits)
    if exceeded is None:
        message_mentions(message)
        if footer:
            footer_layout(message)
            root = parse(message)
            if has_marker(root):  # the body digest each recipient's marker is checked against
                has_valid_marker(message, root, b"")
    return exceeded
