"""Which text parts of a message carry the footer, or whether the message must be wrapped.

A reader sees one alternative of each `multipart/alternative` and, elsewhere, every inline
text part one after the other (in `multipart/related` only the root part). So the footer goes
once at the end of what each reader sees: in the last text part of a mixed sequence, and in
every alternative of an alternative group. That is one footer per alternative, not per text
part (10,000 tiny text parts get one footer, not 10,000).

When no text part can carry it (an attached or digest message alone, a single PDF or
calendar invite, a broken multipart, an unknown transfer encoding, HTML that ends inside a
comment) the message is wrapped: a `multipart/mixed` of the original entity and a footer part.
Only a message whose own content headers contradict each other (two different Content-Type
or Content-Transfer-Encoding fields: readers disagree on what the body is) is refused.

The layout depends on the message alone, not on the footer: it is computed once per message
(cached) and tells the decision what every recipient's copy will carry before any is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from proxy.mime.memo import per_message
from proxy.mime.textpart import foot_part
from proxy.mime.tree import FROZEN_TYPES, Entity, detect_eol, parse

__all__ = ["FooterLayout", "Placement", "footer_layout"]

_MAX_ALTERNATIVES = 8  # footed alternatives per message; beyond that the message is wrapped
_TEXT = frozenset({"text/plain", "text/html"})
_PROBE = "x"


class Placement(StrEnum):
    """How a copy carries its footer."""

    PARTS = "parts"  # appended to existing text parts
    WRAPPED = "wrapped"  # the message wrapped with a footer part
    REFUSED = "refused"  # cannot be placed: the recipient is refused (cannot-add-footer)


@dataclass(frozen=True, slots=True)
class FooterLayout:
    placement: Placement
    targets: tuple[Entity, ...] = ()  # the text parts footed (PARTS)
    reason: str = ""  # why the message is wrapped or refused

    def describe(self) -> str:
        """Short text for the record: where the footer went."""
        if self.placement is Placement.PARTS:
            count = len(self.targets)
            return f"in {count} text part{'s' if count > 1 else ''}"
        if self.placement is Placement.WRAPPED:
            return f"in a part of its own ({self.reason})"
        return self.reason


class _Unfootable(Exception):
    """A text part a reader sees cannot carry the footer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _carries(message: bytes, part: Entity, eol: bytes) -> bool:
    return foot_part(message, part, _PROBE, eol) is not None


def _targets(message: bytes, entity: Entity, eol: bytes) -> list[Entity]:
    """The parts to foot so that every view of `entity` ends with the footer; [] when it
    shows no text; _Unfootable when it shows text that cannot carry the footer."""
    kind = entity.content_type
    if kind.startswith("message/"):
        return []  # an attached message is not this message's text
    if kind in FROZEN_TYPES:  # readable, but editing would break the signature
        raise _Unfootable(f"signed or encrypted content ({kind})")
    if not entity.children:
        if kind not in _TEXT or entity.is_attachment:
            return []
        if not _carries(message, entity, eol):
            what = "HTML with no visible end" if kind == "text/html" else "undecodable text"
            raise _Unfootable(f"{what} ({entity.cte or '7bit'} {kind})")
        return [entity]
    if kind == "multipart/alternative":
        found: list[Entity] = []
        for child in entity.children:
            found.extend(_targets(message, child, eol))
        if len(found) > _MAX_ALTERNATIVES:
            raise _Unfootable(f"more than {_MAX_ALTERNATIVES} alternatives")
        return found
    if kind == "multipart/related":
        return _targets(message, entity.children[0], eol)
    for child in reversed(entity.children):
        found = _targets(message, child, eol)
        if found:
            return found
    return []


def _wrap_refusal(root: Entity) -> str | None:
    """Why the message is too broken to foot or wrap safely, or None."""
    for name in ("content-type", "content-transfer-encoding"):
        values = {item.value.strip().lower() for item in root.fields if item.key == name}
        if len(values) > 1:
            return f"conflicting {name} header fields"
    return None


@per_message(16)
def footer_layout(message: bytes) -> FooterLayout:
    """Where this message's footer goes (cached: one computation per message)."""
    root = parse(message)
    eol = detect_eol(message)
    refusal = _wrap_refusal(root)
    if refusal is not None:  # readers disagree on what the body is: nothing is safe
        return FooterLayout(Placement.REFUSED, reason=f"the message is ambiguous: {refusal}")
    try:
        targets = _targets(message, root, eol)
        reason = f"no text part ({root.content_type})"
    except _Unfootable as exc:
        targets, reason = [], exc.reason
    if targets:
        return FooterLayout(Placement.PARTS, tuple(targets))
    return FooterLayout(Placement.WRAPPED, reason=reason)
