"""Apply one recipient's rewrite: footer in every visible text body, List-Unsubscribe headers.

Only the byte ranges that change are replaced (see proxy.mime.tree): attachments, inline
images, signed or encrypted structures and attached messages keep every octet. A message
that already carries this relay's marker (bound to its Message-ID) is not footed again, so
rewrite(rewrite(m)) == rewrite(m). Rewriting invalidates an incoming DKIM signature: sign
afterwards (proxy.mime.dkim), never before.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.mime.headers import (
    MARKER_HEADER,
    MAX_LINE,
    build_header_block,
    fold,
    has_valid_marker,
    marker_value,
)
from proxy.mime.mentions import check_required_mentions
from proxy.mime.textpart import PartEdit, foot_part, footer_part
from proxy.mime.tree import (
    FROZEN_TYPES,
    Entity,
    boundary_of,
    detect_eol,
    iter_visible_text,
    parse,
)

__all__ = [
    "MARKER_HEADER",
    "QUEUE_HEADER",
    "RewriteInstructions",
    "check_required_mentions",
    "rewrite",
]

QUEUE_HEADER = "X-Prospect-Relay-Queue-Id"
_LIST_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})
_OWN_HEADERS = frozenset({MARKER_HEADER.lower(), QUEUE_HEADER.lower()})


def _check_header_text(name: str, value: str, limit: int = MAX_LINE - 40) -> None:
    if not value.isascii() or any(char in value for char in "\r\n\t <>") or len(value) > limit:
        raise ValueError(f"{name} must be short printable ASCII without spaces or brackets")


@dataclass(frozen=True, slots=True)
class RewriteInstructions:
    """What to change in one recipient's copy; footers are already rendered."""

    footer_text: str = ""
    footer_html: str = ""
    list_unsubscribe_url: str | None = None  # https://.../u/<token>
    list_unsubscribe_mailto: str | None = None  # mailto:...?subject=unsubscribe%20<token>
    queue_id: str | None = None  # value of the X-Prospect-Relay-Queue-Id trace header
    remove_headers: tuple[str, ...] = ("X-Prospect-*",)  # exact names, or prefixes ending "*"
    marker_key: bytes = b""  # the relay secret: binds the footer marker to the Message-ID
    # visible-recipients split: To/Cc replaced by this one address (one copy per recipient)
    visible_recipient: str | None = None

    def __post_init__(self) -> None:
        if bool(self.footer_text) != bool(self.footer_html):
            raise ValueError("footer_text and footer_html must be given together")
        for name in ("list_unsubscribe_url", "list_unsubscribe_mailto", "queue_id"):
            value = getattr(self, name)
            if value is not None:
                _check_header_text(name, value)
        if self.visible_recipient is not None and any(
            char in self.visible_recipient for char in "\r\n<>"
        ):
            raise ValueError("visible_recipient must be one address without brackets")

    def removes(self, key: str) -> bool:
        """True for header names (lower case) this rewrite drops before adding its own."""
        if key in _LIST_HEADERS:  # replaced only when this copy gets links of its own
            return bool(self.list_unsubscribe_url or self.list_unsubscribe_mailto)
        if key in _OWN_HEADERS:
            return True
        if self.visible_recipient is not None and key in ("to", "cc"):
            return True
        for pattern in self.remove_headers:
            lowered = pattern.lower()
            if key.startswith(lowered[:-1]) if lowered.endswith("*") else key == lowered:
                return True
        return False


def _new_headers(
    plan: RewriteInstructions, footed: bool, message_id: str, eol: bytes
) -> list[bytes]:
    headers: list[bytes] = []
    if plan.visible_recipient is not None:
        headers.append(b"To: <" + plan.visible_recipient.encode("utf-8") + b">" + eol)
    links = [
        f"<{link}>" for link in (plan.list_unsubscribe_url, plan.list_unsubscribe_mailto) if link
    ]
    if links:
        headers.append(fold(b"List-Unsubscribe", ", ".join(links).encode("ascii"), eol))
    if plan.list_unsubscribe_url:
        headers.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" + eol)
    if footed:
        value = marker_value(plan.marker_key, message_id).encode("ascii")
        headers.append(MARKER_HEADER.encode("ascii") + b": " + value + eol)
    if plan.queue_id:
        headers.append(QUEUE_HEADER.encode("ascii") + b": " + plan.queue_id.encode("ascii") + eol)
    return headers


def _footer_part(root: Entity, plan: RewriteInstructions, eol: bytes) -> tuple[int, bytes] | None:
    """Where and what to insert: a footer part for a multipart/mixed with no text body."""
    if root.content_type != "multipart/mixed" or not root.children:
        return None
    boundary = boundary_of(root)
    if boundary is None:
        return None
    return root.children[-1].end, eol + b"--" + boundary + eol + footer_part(plan.footer_text, eol)


def rewrite(message: bytes, plan: RewriteInstructions) -> bytes:
    """The recipient's copy of `message`, rewritten per `plan`; never raises on bad MIME."""
    eol = detect_eol(message)
    root = parse(message)
    footed = has_valid_marker(root, plan.marker_key)
    edits: list[tuple[int, int, bytes]] = []
    root_edit: PartEdit | None = None
    if plan.footer_text and not footed:
        for part in iter_visible_text(root):
            footer = plan.footer_html if part.content_type == "text/html" else plan.footer_text
            edit = foot_part(message, part, footer, eol)
            if edit is None:
                continue
            footed = True
            if part is root:
                root_edit = edit
                continue
            if edit.cte or edit.relabel_utf8:
                block = build_header_block(
                    message,
                    part,
                    eol,
                    cte=edit.cte,
                    relabel_utf8=edit.relabel_utf8,
                    body_follows=True,
                )
                edits.append((part.header_start, part.header_end, block))
            edits.append((part.body_start, part.end, edit.body))
        if not footed and root.content_type not in FROZEN_TYPES:
            added = _footer_part(root, plan, eol)
            if added is not None:
                edits.append((added[0], added[0], added[1]))
                footed = True
    header = build_header_block(
        message,
        root,
        eol,
        drop=plan.removes,
        cte=root_edit.cte if root_edit else None,
        relabel_utf8=root_edit.relabel_utf8 if root_edit else False,
        refold=True,
        extra=_new_headers(plan, footed, root.get("message-id") or "", eol),
        body_follows=root_edit is not None,
    )
    edits.append((root.header_start, root.header_end, header))
    if root_edit is not None:  # after the header edit: both may start at the same offset
        edits.append((root.body_start, root.end, root_edit.body))
    edits.sort(key=lambda edit: edit[0])  # stable: equal offsets keep the order above
    out: list[bytes] = []
    cursor = 0
    for start, end, replacement in edits:
        out.append(message[cursor:start])
        out.append(replacement)
        cursor = end
    out.append(message[cursor:])
    return b"".join(out)
