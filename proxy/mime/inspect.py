"""Read the facts the compliance engine needs from a message, best effort, never raising."""

from __future__ import annotations

import logging

from proxy.mime.header_text import addresses, decode_words, strip_comments
from proxy.mime.headers import has_valid_marker
from proxy.mime.mentions import Mentions, message_mentions
from proxy.mime.tree import FROZEN_TYPES, Entity, HeaderField, parse
from proxy.model import MessageFacts

__all__ = ["MAX_SUBJECT", "read_message_facts"]

log = logging.getLogger(__name__)


Fields = dict[str, list[HeaderField]]

# The Subject the rules read: its first 1,000 characters (a reader sees far fewer). The
# policy's subject patterns run once per recipient; a 64 KB Subject to 100 recipients cost
# seconds of regex on the event loop.
MAX_SUBJECT = 1_000


def _fields(root: Entity) -> Fields:
    """The top-level fields by lower-case name, built once: a dozen headers are read."""
    by_key: Fields = {}
    for item in root.fields:
        by_key.setdefault(item.key, []).append(item)
    return by_key


def _values(message: bytes, fields: Fields, name: str) -> list[str]:
    """Every value of a header, unfolded; raw 8-bit octets are read as UTF-8 (what clients send)."""
    return [
        " ".join(
            message[item.start : item.end].partition(b":")[2].decode("utf-8", "replace").split()
        )
        for item in fields.get(name, ())
    ]


def _header(message: bytes, fields: Fields, name: str) -> str | None:
    values = _values(message, fields, name)
    return values[0] if values else None


def _decoded(value: str | None) -> str:
    """RFC 2047 encoded words decoded; undecodable words are kept as written."""
    return decode_words(value) if value else ""


def _addresses(value: str) -> list[str]:
    """The addr-specs of an address header: encoded words decoded, comments removed."""
    return addresses(strip_comments(_decoded(value)))


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() in ("yes", "true", "1", "oui", "ja")


def _text(value: str | None) -> str | None:
    cleaned = _decoded(value).strip()
    return cleaned or None


def _visible_recipients(message: bytes, fields: Fields) -> int:
    found = {
        address.lower()
        for name in ("to", "cc")
        for value in _values(message, fields, name)
        for address in _addresses(value)
    }
    return len({address for address in found if "@" in address})


def _has_frozen(root: Entity) -> bool:
    stack = [root]
    while stack:
        entity = stack.pop()
        if entity.content_type in FROZEN_TYPES:
            return True
        stack.extend(entity.children)
    return False


def read_message_facts(
    message: bytes,
    *,
    mail_from: str,
    client_ip: str,
    auth_user: str | None,
    marker_key: bytes = b"",
    scan_mentions: bool = True,
) -> MessageFacts:
    """The message's facts for the engine; malformed input gives best-effort facts.

    `marker_key` must be the key given to rewrite (RewriteInstructions.marker_key), so only
    the relay's own marker, bound to this Message-ID, counts as "already footed".
    `scan_mentions=False` skips looking for an unsubscribe link and source statement (the
    costliest step) unless the message is signed or encrypted: the rules read them only
    for such messages and in the policy's `require` footer mode.
    """
    try:
        return _read(message, mail_from, client_ip, auth_user, marker_key, scan_mentions)
    except Exception:  # best effort by contract: a parser bug must not turn into a 451 loop
        log.exception("message facts could not be read; using envelope facts only")
        return MessageFacts(mail_from=mail_from, client_ip=client_ip, auth_user=auth_user)


_NOT_SCANNED = Mentions(unsubscribe_link=False, source_statement=False, commercial_statement=False)


def _read(
    message: bytes,
    mail_from: str,
    client_ip: str,
    auth_user: str | None,
    marker_key: bytes,
    scan_mentions: bool,
) -> MessageFacts:
    root = parse(message)
    fields = _fields(root)
    from_address = next(iter(_addresses(_header(message, fields, "from") or "")), None)
    targets_raw = _decoded(_header(message, fields, "x-prospect-targets"))
    signed = _has_frozen(root)
    mentions = message_mentions(message) if scan_mentions or signed else _NOT_SCANNED
    return MessageFacts(
        mail_from=mail_from,
        client_ip=client_ip,
        auth_user=auth_user,
        from_address=from_address,
        subject=_decoded(_header(message, fields, "subject"))[:MAX_SUBJECT],
        campaign_id=_text(_header(message, fields, "x-prospect-campaign")),
        product=_text(_header(message, fields, "x-prospect-product")),
        category=_text(_header(message, fields, "x-prospect-category")),
        targets=tuple(item.strip() for item in targets_raw.split(";") if item.strip()),
        source=_text(_header(message, fields, "x-prospect-source")),
        partner_offers=_yes(_header(message, fields, "x-prospect-partner-offers")),
        repermission=_yes(_header(message, fields, "x-prospect-repermission")),
        visible_recipients=_visible_recipients(message, fields),
        signed_or_encrypted=signed,
        has_unsubscribe_link=mentions.unsubscribe_link,
        has_source_statement=mentions.source_statement,
        already_footed=has_valid_marker(message, root, marker_key),
    )
