"""The copy the upstream received, read as a mailbox provider would (headers, parts, links),
and the mail a recipient sends back: shared by the end-to-end tests."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from tests.conftest import Received
from tests.e2e.conftest import FullRelay, mailbox, make_message

__all__ = ["body_text", "deliver_to", "mailto_parts", "objection", "parse", "unsubscribe_links"]


def parse(received: Received) -> EmailMessage:
    """The received bytes as an EmailMessage (modern policy)."""
    message = email.message_from_bytes(received.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def unsubscribe_links(message: EmailMessage) -> tuple[str, str]:
    """(https URL, mailto URI) from the one List-Unsubscribe header."""
    [header] = message.get_all("List-Unsubscribe") or []
    links = re.findall(r"<([^>]+)>", str(header))
    [url] = [link for link in links if link.startswith("https://")]
    [mailto] = [link for link in links if link.startswith("mailto:")]
    return url, mailto


def body_text(message: EmailMessage, subtype: str) -> str:
    """The text of the body part of `subtype` ("plain", "html"), LF line ends."""
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, subtype
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


async def deliver_to(relay: FullRelay, address: str, **message: object) -> EmailMessage:
    """Send a message to `address` through the relay; the copy the upstream received."""
    result = await relay.send(address, make_message(address, **message))  # type: ignore[arg-type]
    assert result.accepted, result
    return parse(mailbox(relay.delivered, address)[-1])


def mailto_parts(mailto: str) -> tuple[str, str]:
    """`mailto:addr?subject=...` -> (address, decoded subject)."""
    parts = urlsplit(mailto)
    query = dict(pair.split("=", 1) for pair in parts.query.split("&"))
    return parts.path, unquote(query["subject"])


def objection(to: str, subject: str, from_: str = "marie@gmail.com") -> bytes:
    """The mail a recipient sends to a List-Unsubscribe mailto address."""
    return make_message(to, from_=from_, subject=subject, text="Unsubscribe me\n", html=None)
