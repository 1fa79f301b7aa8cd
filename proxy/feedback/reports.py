"""Reading bounces (RFC 3464 DSNs, and common non-standard ones) and complaints (RFC 5965
ARF) that come back to the relay. Pure and bounded: only the first `max_bytes` of a report
are parsed (the status parts come first; what follows is the copy of the original), and the
callers run this off the event loop.

Nothing here decides whose address it is: the caller matches what a report says against
the address hash that the signed return path (or the copy's signed unsubscribe token)
names, and never takes an address from a report on its own word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message

__all__ = ["Complaint", "DeliveryStatus", "parse_bounce", "parse_complaint"]

_ENHANCED = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_BASIC = re.compile(r"\b([45])\d\d[ -]")
_MAX_MULTIPARTS = 16  # a DSN or ARF report has 1 to 3; a forwarded copy adds a few
_TEXT_SCAN = 16_384  # characters of a non-standard bounce's text searched for a status


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """One recipient's block of a DSN (or what a non-standard bounce says)."""

    recipient: str | None  # Final-Recipient / Original-Recipient address, if given
    action: str  # failed | delayed | delivered | relayed | expanded
    status: str  # RFC 3463 code, e.g. "5.1.1"
    diagnostic: str  # Diagnostic-Code, or the line the code was found in (short)


@dataclass(frozen=True, slots=True)
class Complaint:
    """An ARF report: its type and the returned copy's header text (to find our tokens)."""

    feedback_type: str  # abuse | fraud | virus | other | not-spam | ...
    original_headers: str


def _parse(raw: bytes, max_bytes: int) -> Message | None:
    """The report's MIME tree, or None when it cannot be a real report. The stdlib parser
    checks every line against every open boundary (quadratic in the nesting), so a report
    with more multipart levels than any MTA writes is not parsed at all."""
    head = raw[:max_bytes]
    if head.lower().count(b"boundary=") > _MAX_MULTIPARTS:
        return None
    try:
        return message_from_bytes(head, policy=email_policy.compat32)
    except (RecursionError, ValueError, LookupError):
        return None


def _address(value: str | None) -> str | None:
    """`rfc822; user@example.com` -> user@example.com."""
    if not value:
        return None
    address = value.partition(";")[2].strip() if ";" in value else value.strip()
    return address.strip("<>").strip() or None


def _short(text: str) -> str:
    return " ".join(text.split())[:200]


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):  # the email package splits delivery-status into blocks
        return [block for block in payload if isinstance(block, Message)]
    return []


def parse_bounce(raw: bytes, max_bytes: int) -> tuple[list[DeliveryStatus], str]:
    """The per-recipient statuses of a bounce, and the text in which to look for the
    relay's own tokens (the returned copy's headers, or the whole text)."""
    message = _parse(raw, max_bytes)
    if message is None:
        return [], ""
    statuses: list[DeliveryStatus] = []
    returned: list[str] = []
    texts: list[str] = []
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in ("message/delivery-status", "message/global-delivery-status"):
            for block in _status_blocks(part)[1:]:  # the first block is per-message
                status = _ENHANCED.search(str(block.get("Status", "")))
                if status is None:
                    continue
                statuses.append(
                    DeliveryStatus(
                        recipient=_address(block.get("Final-Recipient"))
                        or _address(block.get("Original-Recipient")),
                        action=str(block.get("Action", "")).strip().lower(),
                        status=status.group(1),
                        diagnostic=_short(str(block.get("Diagnostic-Code", ""))),
                    )
                )
        elif content_type in ("text/rfc822-headers", "message/rfc822"):
            returned.append(part.as_string())
        elif content_type == "text/plain" and len(texts) < 4:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                texts.append(payload[:_TEXT_SCAN].decode("utf-8", "replace"))
    if not statuses:  # non-standard: the first status code its text gives, best effort
        statuses = _from_text("\n".join(texts))
    return statuses, "\n".join(returned) or "\n".join(texts)


def _from_text(text: str) -> list[DeliveryStatus]:
    for line in text.splitlines():
        enhanced = _ENHANCED.search(line)
        if enhanced is not None and not enhanced.group(1).startswith("2."):
            return [DeliveryStatus(None, "failed", enhanced.group(1), _short(line))]
    for line in text.splitlines():
        basic = _BASIC.search(line)
        if basic is not None:
            return [DeliveryStatus(None, "failed", f"{basic.group(1)}.0.0", _short(line))]
    return []


def parse_complaint(raw: bytes, max_bytes: int) -> Complaint | None:
    """The ARF report of a message/feedback-report part, or None if it is not one."""
    message = _parse(raw, max_bytes)
    if message is None:
        return None
    feedback_type: str | None = None
    returned: list[str] = []
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/feedback-report":
            fields = part.get_payload()
            block = fields[0] if isinstance(fields, list) and fields else None
            if isinstance(block, Message):
                feedback_type = str(block.get("Feedback-Type", "")).strip().lower() or None
                original = block.get("Original-Mail-From")
                if original:
                    returned.append(f"Return-Path: {original}")
        elif content_type in ("text/rfc822-headers", "message/rfc822"):
            returned.append(part.as_string())
    if feedback_type is None:
        return None
    return Complaint(feedback_type, "\n".join(returned))
