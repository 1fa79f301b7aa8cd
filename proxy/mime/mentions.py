"""Find the required mentions a message already carries (for `require` mode, signed mail).

A heuristic over the readable text bodies in French, English and German: an unsubscribe
wording near a link, a statement of where the address was obtained, and a statement that
the message is commercial. The relay's own footer satisfies all three.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass

from proxy.mime.memo import per_message
from proxy.mime.tree import Entity, decode_transfer, iter_visible_text, parse

__all__ = [
    "Mentions",
    "check_required_mentions",
    "find_mentions",
    "message_mentions",
    "readable_text",
    "strip_tags",
]

# Mentions sit in a header bar or a footer: each part is searched in its first and last
# 16k characters only, which bounds the cost on the relay's hot path whatever the size.
_EDGE = 16_384
_EDGE_OCTETS = 4 * _EDGE
_LINK = re.compile(r"(?:https?://|mailto:)[^\s\"'<>]+")
_UNSUBSCRIBE = re.compile(
    r"unsubscribe|opt[ -]?out|d[ée]sinscri|d[ée]sabonn|ne plus recevoir|abmelden|abbestellen"
    r"|austragen|widerspr|opposer",
)
_SOURCE = re.compile(
    r"obtained your|got your (?:e-?mail|address)|where we obtained|source of your|data source"
    r"|your address (?:was|comes)|origine de votre|source de vos|provenance|obtenu votre"
    r"|obtenu vos|(?:obtenue?s?|collect[ée]e?s?|recueillie?s?)"
    r"\s+(?:lors|aupr[èe]s|via|sur|par|dans)"
    r"|herkunft|erhalten ihre|datenquelle"
    r"|quelle ihrer",
)
_COMMERCIAL = re.compile(
    r"commercial|advertis|marketing|prospect|publicit|promotion|werbung|werbe|kommerziell"
    r"|direktwerbung",
)
_RAW_OPEN = re.compile(r"<(?:style|script)\b", re.IGNORECASE)
_RAW_CLOSE = re.compile(r"</(?:style|script)\s*>", re.IGNORECASE)
_HREF = re.compile(r"""href\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_WINDOW = 300


@dataclass(frozen=True, slots=True)
class Mentions:
    unsubscribe_link: bool
    source_statement: bool
    commercial_statement: bool


def _part_text(message: bytes, part: Entity) -> str:
    data = decode_transfer(message[part.body_start : part.end], part.cte)
    if data is None:
        return ""
    if len(data) > 2 * _EDGE_OCTETS:  # cut before decoding: a character is at most 4 octets
        data = data[:_EDGE_OCTETS] + b"\n" + data[-_EDGE_OCTETS:]
    try:
        text = data.decode(part.charset or "utf-8", "replace")
    except LookupError:
        text = data.decode("utf-8", "replace")
    if len(text) > 2 * _EDGE:
        text = text[:_EDGE] + "\n" + text[-_EDGE:]
    if part.content_type == "text/html":
        # Keep hrefs as text so "unsubscribe" anchor text stays near its link.
        text = _HREF.sub(r"> \1 <", text)
        text = html.unescape(strip_tags(text))
    return text


def strip_tags(text: str) -> str:
    """Each tag replaced by a space, style and script elements dropped whole; one pass.

    (The regex `<[^>]*>` rescans to the end of the text from every `<` of a run that has no
    `>`: 33,000 `<` took seconds.) A `<` with no `>` after it, and everything after it, is
    text; so is an unclosed style or script opener's content, as browsers show it.
    """
    out: list[str] = []
    closer: re.Match[str] | None = None  # the next raw-text closer, reused while ahead
    closers_left = True
    position = 0
    while True:
        start = text.find("<", position)
        if start < 0:
            break
        out.append(text[position:start])
        if closers_left and _RAW_OPEN.match(text, start):
            if closer is None or closer.start() < start:
                closer = _RAW_CLOSE.search(text, start)
                closers_left = closer is not None
            if closer is not None:
                out.append(" ")
                position = closer.end()
                continue
        end = text.find(">", start)
        if end < 0:
            position = start
            break
        out.append(" ")
        position = end + 1
    out.append(text[position:])
    return "".join(out)


def readable_text(message: bytes, root: Entity | None = None) -> str:
    """The text a reader sees (signed content included), each part cut to its edges."""
    root = root or parse(message)
    texts: list[str] = []
    for part in iter_visible_text(root, include_signed=True):
        texts.append(_part_text(message, part))
    return "\n".join(texts)


def _near(links: list[int], position: int) -> bool:
    index = bisect.bisect_left(links, position - _WINDOW)
    return index < len(links) and links[index] <= position + _WINDOW


def find_mentions(text: str) -> Mentions:
    """Which mentions `text` carries; an unsubscribe wording counts only near a link."""
    text = text.lower()  # the patterns are lower case: much faster than IGNORECASE
    links = [match.start() for match in _LINK.finditer(text)]
    unsubscribe = any(_near(links, match.start()) for match in _UNSUBSCRIBE.finditer(text))
    return Mentions(
        unsubscribe_link=unsubscribe,
        source_statement=_SOURCE.search(text) is not None,
        commercial_statement=_COMMERCIAL.search(text) is not None,
    )


@per_message(16)
def message_mentions(message: bytes) -> Mentions:
    """The mentions of a whole message, once per message (proxy/mime/memo.py): a worker
    thread reads a large message ahead of the decision step (mime.limits.check_and_read)."""
    return find_mentions(readable_text(message))


def check_required_mentions(message: bytes) -> list[str]:
    """Missing mentions: "unsubscribe-link", "source-statement", "commercial-statement"."""
    found = message_mentions(message)
    missing = []
    if not found.unsubscribe_link:
        missing.append("unsubscribe-link")
    if not found.source_statement:
        missing.append("source-statement")
    if not found.commercial_statement:
        missing.append("commercial-statement")
    return missing
