"""Apply one recipient's rewrite: footer in every visible text body, List-Unsubscribe headers.

Only the byte ranges that change are replaced (see proxy.mime.tree): attachments, inline
images, signed or encrypted structures and attached messages keep every octet. A message
that already carries this relay's marker (bound to its Message-ID) is not footed again, so
rewrite(rewrite(m)) == rewrite(m). Rewriting invalidates an incoming DKIM signature: sign
afterwards (proxy.mime.dkim), never before.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from proxy.mime.headers import (
    MARKER_HEADER,
    MAX_LINE,
    body_digest,
    build_header_block,
    fold,
    has_valid_marker,
    marker_value,
)
from proxy.mime.layout import FooterLayout, Placement, footer_layout
from proxy.mime.mentions import check_required_mentions
from proxy.mime.textpart import PartEdit, foot_part, footer_alternative
from proxy.mime.tree import Entity, detect_eol, parse

__all__ = [
    "MARKER_HEADER",
    "QUEUE_HEADER",
    "Placement",
    "RewriteInstructions",
    "RewriteResult",
    "check_required_mentions",
    "rewrite",
    "rewrite_copy",
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
    marker_recipient: str = ""  # the envelope recipient the copy's footer is for
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


def _new_headers(plan: RewriteInstructions, eol: bytes) -> list[bytes]:
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
    if plan.queue_id:
        headers.append(QUEUE_HEADER.encode("ascii") + b": " + plan.queue_id.encode("ascii") + eol)
    return headers


def _marker(plan: RewriteInstructions, root: Entity, body: bytes, eol: bytes) -> bytes:
    message_id = root.get("message-id") or ""
    value = marker_value(plan.marker_key, message_id, body_digest(body), plan.marker_recipient)
    return MARKER_HEADER.encode("ascii") + b": " + value.encode("ascii") + eol


@dataclass(frozen=True, slots=True)
class RewriteResult:
    """The copy, and what its footer placement actually was (the record says this)."""

    message: bytes
    footer: Placement | None  # None: no footer asked, or the message already carried it
    detail: str = ""  # where it went, or why it could not be placed

    @property
    def footed(self) -> bool:
        return self.footer in (Placement.PARTS, Placement.WRAPPED)


def _part_edits(
    message: bytes, layout: FooterLayout, plan: RewriteInstructions, eol: bytes
) -> tuple[list[tuple[int, int, bytes]], PartEdit | None]:
    """Byte edits that foot the layout's text parts (the root's own edit returned apart)."""
    root = parse(message)
    edits: list[tuple[int, int, bytes]] = []
    root_edit: PartEdit | None = None
    for part in layout.targets:
        footer = plan.footer_html if part.content_type == "text/html" else plan.footer_text
        edit = foot_part(message, part, footer, eol)
        if edit is None:  # the layout probed this part: only a footer-specific failure
            raise ValueError("a text part refused the footer after accepting the probe")
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
    return edits, root_edit


def _apply(message: bytes, start: int, edits: list[tuple[int, int, bytes]]) -> bytes:
    """`message[start:]` with the (sorted, non-overlapping) edits applied."""
    out: list[bytes] = []
    cursor = start
    for begin, end, replacement in edits:
        out.append(message[cursor:begin])
        out.append(replacement)
        cursor = end
    out.append(message[cursor:])
    return b"".join(out)


def rewrite_copy(message: bytes, plan: RewriteInstructions) -> RewriteResult:
    """The recipient's copy of `message`, rewritten per `plan`, and where its footer went.

    Never raises on bad MIME: a message whose footer cannot be placed comes back unfooted
    with `footer=Placement.REFUSED` (the caller refuses the recipient, see layout.py).
    """
    eol = detect_eol(message)
    root = parse(message)
    placement: Placement | None = None
    detail = ""
    footed = has_valid_marker(message, root, plan.marker_key, plan.marker_recipient)
    if plan.footer_text and not footed:
        layout = footer_layout(message)
        placement, detail = layout.placement, layout.describe()
    if placement is Placement.WRAPPED:
        return RewriteResult(_wrapped(message, root, plan, eol), placement, detail)
    root_edit: PartEdit | None = None
    edits: list[tuple[int, int, bytes]] = []
    if placement is Placement.PARTS:
        edits, root_edit = _part_edits(message, footer_layout(message), plan, eol)
    if root_edit is not None:
        edits.append((root.body_start, root.end, root_edit.body))
    content = _apply(message, root.body_start, sorted(edits, key=lambda edit: edit[0]))
    extra = _new_headers(plan, eol)
    if placement is Placement.PARTS or (placement is None and footed):
        extra.append(_marker(plan, root, content, eol))
    header = build_header_block(
        message,
        root,
        eol,
        drop=plan.removes,
        cte=root_edit.cte if root_edit else None,
        relabel_utf8=root_edit.relabel_utf8 if root_edit else False,
        refold=True,
        extra=extra,
        body_follows=root_edit is not None,
    )
    blank = message[root.header_end : root.body_start]
    return RewriteResult(message[: root.header_start] + header + blank + content, placement, detail)


def rewrite(message: bytes, plan: RewriteInstructions) -> bytes:
    """The recipient's copy of `message` (see rewrite_copy); never raises on bad MIME."""
    return rewrite_copy(message, plan).message


_CONTENT_FIELDS = ("content-", "mime-version")


def _is_content_field(key: str) -> bool:
    return key.startswith(_CONTENT_FIELDS)


def _boundary(message: bytes) -> bytes:
    while True:
        boundary = b"=_prospect-relay-" + secrets.token_hex(10).encode("ascii")
        if boundary not in message:
            return boundary


def _wrapped(message: bytes, root: Entity, plan: RewriteInstructions, eol: bytes) -> bytes:
    """`multipart/mixed` of the original entity (its content fields and body, byte for
    byte) and a footer part (text and HTML alternatives)."""
    boundary = _boundary(message)
    inner = b"".join(
        message[item.start : item.end]
        if message[item.start : item.end].endswith(b"\n")
        else message[item.start : item.end] + eol
        for item in root.fields
        if item.key.startswith("content-")
    )
    original_body = message[root.body_start : root.end]
    content = (
        b"--" + boundary + eol
        + inner + eol
        + original_body + eol
        + b"--" + boundary + eol
        + footer_alternative(plan.footer_text, plan.footer_html, boundary + b"-f", eol)
        + eol + b"--" + boundary + b"--" + eol
    )  # fmt: skip
    mixed = [
        b"MIME-Version: 1.0" + eol,
        b'Content-Type: multipart/mixed; boundary="' + boundary + b'"' + eol,
    ]
    if root.cte in ("8bit", "binary"):
        mixed.append(b"Content-Transfer-Encoding: " + root.cte.encode("ascii") + eol)
    fields = tuple(item for item in root.fields if not _is_content_field(item.key))
    outer = Entity(root.header_start, root.header_end, root.header_end, root.header_end, fields)
    header = build_header_block(
        message,
        outer,
        eol,
        drop=plan.removes,
        refold=True,
        extra=[*mixed, *_new_headers(plan, eol), _marker(plan, root, content, eol)],
    )
    return message[: root.header_start] + header + eol + content
