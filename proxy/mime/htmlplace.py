"""Where an HTML footer goes so a reader sees it: found with the `html.parser` tokenizer.

A byte search for `</body>` is fooled by markup: `Offer!<!-- </body>` puts the footer inside
a comment, an unclosed `<div style="display:none">` hides it, a `</body>` inside a script is
no end tag at all. The tokenizer sees the document as a browser's tokenizer does: the footer
goes before the last real `</body>` (else `</html>`, else the end), after end tags that close
every element still open there, and a document that ends inside a comment, a tag or a
raw-text element (script, style, textarea, title) is refused: nothing appended could show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from proxy.mime.memo import per_message

__all__ = ["HtmlSpot", "html_spot"]

# Elements without an end tag: never left "open".
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
_NOT_CLOSED = frozenset({"html", "body"})  # the footer belongs inside these
_RAW_TEXT = frozenset({"script", "style", "textarea", "title"})
_TAG_NAME = re.compile(r"[a-z][a-z0-9-]*")  # others are not elements a browser keeps open


@dataclass(frozen=True, slots=True)
class HtmlSpot:
    """Insert `closing` then the footer at character `offset`."""

    offset: int
    closing: str


class _Tokens(HTMLParser):
    """Tracks the open elements and the offsets of `</body>` and `</html>` end tags."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self._line_starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                self._line_starts.append(index + 1)
        self.open: list[str] = []
        self.body_end: tuple[int, tuple[str, ...]] | None = None
        self.html_end: tuple[int, tuple[str, ...]] | None = None

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        return None  # `<div/>` opens nothing in HTML, but treat it as empty either way

    def handle_endtag(self, tag: str) -> None:
        if tag in ("body", "html"):
            spot = (self._offset(), tuple(self.open))
            if tag == "body":
                self.body_end = spot
            else:
                self.html_end = spot
            return
        if tag in self.open:
            index = len(self.open) - 1 - self.open[::-1].index(tag)
            del self.open[index:]


@per_message(8, drawn=True)
def html_spot(text: str) -> HtmlSpot | None:
    """Where the footer goes in this HTML document, or None when no placement is visible.

    Once per part (proxy/mime/memo.py): every recipient's copy of a message has the same
    HTML part.
    """
    tokens = _Tokens(text)
    tokens.feed(text)
    if tokens.cdata_elem is not None or tokens.rawdata.startswith("<"):
        return None  # the document ends inside a script/style, a comment or a tag
    spot = tokens.body_end or tokens.html_end
    if spot is None:
        offset, still_open = len(text), tuple(tokens.open)
    else:
        offset, still_open = spot
    if any(tag in _RAW_TEXT for tag in still_open):
        return None  # an unclosed textarea/title swallows what follows as text
    closing = "".join(
        f"</{tag}>"
        for tag in reversed(still_open)
        if tag not in _NOT_CLOSED and _TAG_NAME.fullmatch(tag)
    )
    return HtmlSpot(offset, closing)
