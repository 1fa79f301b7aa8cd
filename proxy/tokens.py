"""Signed, compact, expiring unsubscribe tokens for the List-Unsubscribe URL and mailto.

Why not itsdangerous: its JSON + timestamp form is about twice as long. This token is a packed
binary record (version, issue day, address hash, language, scope, controller, campaign) followed
by a 128-bit truncated HMAC-SHA256, in unpadded URL-safe base64: about 100 characters for
usual values, so it fits in a URL path segment and in a Subject line without any escaping.

It does NOT fit in an RFC 5321 local part (64 octets): the 32-byte address hash alone takes
43 characters. The mailto form therefore carries the token in the Subject
(`mailto:unsubscribe@relay.example?subject=unsubscribe%20<token>`), which mail clients
copy into the message they send; `TokenSigner.find` pulls it back out of the received
Subject (or of a `unsubscribe+<token>` local part, if another tool ever builds one).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from proxy.errors import TokenError

__all__ = ["GLOBAL_SCOPE", "TokenSigner", "UnsubscribeToken", "mailto_uri"]

GLOBAL_SCOPE = "global"
_VERSION = 1
_EPOCH = date(2020, 1, 1)
_MAC_BYTES = 16
_DOMAIN_SEPARATOR = b"prospect-relay/unsubscribe-token/v1\x00"
_NONE = 0xFF  # length byte that encodes "no campaign"
_MAX_FIELD = 0xFE
_CANDIDATE = re.compile(rb"[A-Za-z0-9_-]{40,}")
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class UnsubscribeToken:
    """What an unsubscribe link proves: which address hash objects, to what, and when issued."""

    address_hash: str  # hex HMAC of the normalised address (proxy.store.hashing.address_hash)
    scope: str  # "global" or "controller:<id>"
    controller: str  # controller id in the policy
    language: str  # page language, e.g. "fr"
    issued: date
    campaign: str | None = None


def _pack_text(value: str, what: str) -> bytes:
    raw = value.encode("utf-8")
    if len(raw) > _MAX_FIELD:
        raise ValueError(f"token {what} is longer than {_MAX_FIELD} bytes")
    return bytes([len(raw)]) + raw


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class _Reader:
    """Cursor over the packed payload; every short read is a malformed token."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, count: int) -> bytes:
        end = self._pos + count
        if end > len(self._data):
            raise TokenError("malformed unsubscribe token")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def text(self, *, optional: bool = False) -> str | None:
        length = self.take(1)[0]
        if optional and length == _NONE:
            return None
        if length > _MAX_FIELD:
            raise TokenError("malformed unsubscribe token")
        try:
            return self.take(length).decode("utf-8")
        except UnicodeDecodeError:
            raise TokenError("malformed unsubscribe token") from None

    def done(self) -> bool:
        return self._pos == len(self._data)


class TokenSigner:
    """Signs with the first key, verifies with any (key rotation without broken links)."""

    def __init__(self, keys: Sequence[bytes], max_age_days: int) -> None:
        if not keys or any(not key for key in keys):
            raise ValueError("TokenSigner needs at least one non-empty key")
        if max_age_days < 1:
            raise ValueError("max_age_days must be at least 1")
        self._keys = tuple(keys)
        self._max_age = timedelta(days=max_age_days)

    def _mac(self, key: bytes, body: bytes) -> bytes:
        return hmac.new(key, _DOMAIN_SEPARATOR + body, hashlib.sha256).digest()[:_MAC_BYTES]

    def sign(self, token: UnsubscribeToken) -> str:
        """The URL-safe string for `token`; ValueError if a field cannot be represented."""
        try:
            digest = bytes.fromhex(token.address_hash)
        except ValueError:
            raise ValueError("address_hash must be hexadecimal") from None
        if not digest or len(digest) > _MAX_FIELD:
            raise ValueError("address_hash has an invalid length")
        day = (token.issued - _EPOCH).days
        if not 0 <= day <= 0xFFFF:
            raise ValueError("issued date out of the representable range")
        body = b"".join(
            (
                bytes([_VERSION]),
                day.to_bytes(2, "big"),
                bytes([len(digest)]) + digest,
                _pack_text(token.language, "language"),
                _pack_text(token.scope, "scope"),
                _pack_text(token.controller, "controller"),
                bytes([_NONE])
                if token.campaign is None
                else _pack_text(token.campaign, "campaign"),
            )
        )
        return _b64(body + self._mac(self._keys[0], body))

    def verify(self, s: str, *, today: date | None = None) -> UnsubscribeToken:
        """Decode and check `s`; TokenError if forged, truncated, expired or malformed."""
        if not isinstance(s, str) or not s or len(s) > 1024 or not _is_b64url(s):
            raise TokenError("malformed unsubscribe token")
        try:
            raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
        except (binascii.Error, ValueError):
            raise TokenError("malformed unsubscribe token") from None
        if _b64(raw) != s:  # unused low bits set: another spelling of the same token
            raise TokenError("malformed unsubscribe token")
        if len(raw) <= _MAC_BYTES + 1:
            raise TokenError("malformed unsubscribe token")
        body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not any(hmac.compare_digest(mac, self._mac(key, body)) for key in self._keys):
            raise TokenError("unsubscribe token signature does not match")
        token = _decode_body(body)
        if (today or date.today()) - token.issued > self._max_age:
            raise TokenError("unsubscribe token has expired")
        return token

    def find(self, text: str, *, today: date | None = None) -> UnsubscribeToken:
        """The first valid token inside free text (a Subject, a `unsubscribe+<t>` local part)."""
        last_error = TokenError("no unsubscribe token found")
        for match in _CANDIDATE.finditer(text.encode("ascii", "ignore")):
            try:
                return self.verify(match.group().decode("ascii"), today=today)
            except TokenError as exc:
                last_error = exc
        raise last_error


def _is_b64url(s: str) -> bool:
    return _ALPHABET.fullmatch(s) is not None


def _decode_body(body: bytes) -> UnsubscribeToken:
    reader = _Reader(body)
    if reader.take(1)[0] != _VERSION:
        raise TokenError("unsupported unsubscribe token version")
    issued = _EPOCH + timedelta(days=int.from_bytes(reader.take(2), "big"))
    digest = reader.take(reader.take(1)[0])
    language = reader.text()
    scope = reader.text()
    controller = reader.text()
    campaign = reader.text(optional=True)
    if not reader.done() or not digest or language is None or scope is None or not controller:
        raise TokenError("malformed unsubscribe token")
    return UnsubscribeToken(
        address_hash=digest.hex(),
        scope=scope,
        controller=controller,
        language=language,
        issued=issued,
        campaign=campaign,
    )


def mailto_uri(local_part: str, domain: str, signed: str) -> str:
    """The List-Unsubscribe mailto: the token rides in the Subject (see the module docstring)."""
    return f"mailto:{local_part}@{domain}?subject=unsubscribe%20{signed}"
