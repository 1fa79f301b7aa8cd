"""An independent reader of delivered copies: what a person sees, and whether the footer is there.

Written apart from proxy.mime (no import from it): the stdlib `email` parser reads the MIME
tree; a reader sees one alternative of each multipart/alternative (any of them: every one
must hold the footer), every inline text part of other multiparts one after the other, the
root of a multipart/related, and nothing of attachments or attached messages. HTML goes
through `html.parser`: comments, script/style/head/title/template and elements hidden by
`hidden`, `display:none` or `visibility:hidden` show nothing, nor does anything after an
unterminated comment or tag.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser

__all__ = ["FooterExpectation", "View", "footer_problems", "reader_views"]

_MAX_VIEWS = 64
_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()  # noqa: SIM905
)
_INVISIBLE_TAGS = frozenset({"script", "style", "head", "title", "template"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


@dataclass(frozen=True)
class View:
    """What one reader sees: the text, and the links it can click."""

    text: str
    links: frozenset[str] = field(default_factory=frozenset)
    html: bool = False

    def __add__(self, other: View) -> View:
        return View(
            self.text + "\n" + other.text, self.links | other.links, self.html or other.html
        )


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.chunks: list[str] = []
        self.links: set[str] = set()

    @property
    def hidden(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        hidden = (
            self.hidden
            or tag in _INVISIBLE_TAGS
            or "hidden" in values
            or bool(_HIDDEN_STYLE.search(values.get("style") or ""))
        )
        if tag == "a" and not hidden and values.get("href"):
            self.links.add(values["href"] or "")
        if tag in ("br", "p", "div", "tr", "li"):
            self.chunks.append("\n")
        if tag not in _VOID:
            self.stack.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.chunks.append(data)


def visible_html(document: str) -> View:
    parser = _Visible()
    parser.feed(document)  # no close(): an unterminated comment or tag shows nothing
    return View("".join(parser.chunks), frozenset(parser.links), html=True)


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "us-ascii"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("latin-1")


def _views(part: Message) -> list[View]:
    ctype = part.get_content_type()
    if part.get_content_maintype() == "message":
        return []  # an attached message is another message, not this one's text
    if part.is_multipart():
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if ctype == "multipart/alternative":
            return [view for child in children for view in _views(child)][:_MAX_VIEWS]
        if ctype in ("multipart/related", "multipart/signed"):
            return _views(children[0]) if children else []
        if ctype == "multipart/encrypted":
            return []
        combined: list[View] = []
        for child in children:
            seen = _views(child)
            if seen:
                combined = seen if not combined else [a + b for a in combined for b in seen]
                combined = combined[:_MAX_VIEWS]
        return combined
    if part.get_content_disposition() == "attachment" or part.get_filename():
        return []
    if ctype == "text/plain":
        return [View(_text_of(part))]
    if ctype == "text/html":
        return [visible_html(_text_of(part))]
    return []


def reader_views(raw: bytes) -> list[View]:
    """Every way a reader may see the message (one per combination of alternatives)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    return _views(message)


def _squash(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class FooterExpectation:
    """The footer elements every view must show."""

    phrases: tuple[str, ...]  # identity, commercial nature, data source (as rendered text)
    unsubscribe_url: str


_URL_END = re.compile(r"(\s|$)")


def footer_problems(raw: bytes, expected: FooterExpectation) -> list[str]:
    """What a reader would miss, per view; [] when every view shows the whole footer."""
    views = reader_views(raw)
    if not views:
        return ["no view shows any text"]
    problems: list[str] = []
    for index, view in enumerate(views):
        text = _squash(view.text)
        for phrase in expected.phrases:
            if _squash(phrase) not in text:
                problems.append(f"view {index}: {phrase!r} not visible")
        url = expected.unsubscribe_url
        if url in view.links:
            continue  # a visible link (HTML)
        at = view.text.find(url)
        if at < 0:
            problems.append(f"view {index}: no visible unsubscribe link or URL")
            continue
        while at >= 0:  # a text URL must end cleanly (a client would link `TOKEN.`)
            end = at + len(url)
            bracketed = view.text[at - 1 : at] == "<" and view.text[end : end + 1] == ">"
            if not _URL_END.match(view.text, end) and not bracketed:
                problems.append(f"view {index}: the URL is followed by {view.text[end]!r}")
            at = view.text.find(url, end)
    return problems
