"""The signed VERP return path: `bounces+<token>@<bounce domain>` names one address hash.

The token is the recipient's 32-byte keyed address hash followed by a 48-bit truncated
HMAC-SHA256 (its own domain separator, so no other token of the relay verifies here), in
unpadded URL-safe base64: 51 characters, so `bounces+<token>` stays within the 64 octets
RFC 5321 allows a local part. It carries no date: a bounce may come back days later, and
all it can do is suppress the very address it names. Base64 is case-sensitive; MTAs keep
the case of a local part (RFC 5321 2.4), and a lower-cased token simply fails to verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

__all__ = ["TOKEN_LENGTH", "ReturnPath"]

_DOMAIN_SEPARATOR = b"prospect-relay/return-path/v1\x00"
_HASH_BYTES = 32
_MAC_BYTES = 6
TOKEN_LENGTH = 51  # ceil((32 + 6) * 4 / 3)
_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")


class ReturnPath:
    """Builds and reads `<local>+<token>@<domain>` addresses."""

    def __init__(self, key: bytes, local_part: str, domain: str) -> None:
        if not key:
            raise ValueError("the return path key must not be empty")
        self._key = key
        self.local_part = local_part.lower()
        self.domain = domain.lower()

    def _mac(self, digest: bytes) -> bytes:
        return hmac.new(self._key, _DOMAIN_SEPARATOR + digest, hashlib.sha256).digest()[:_MAC_BYTES]

    def address(self, address_hash: str) -> str:
        digest = bytes.fromhex(address_hash)
        if len(digest) != _HASH_BYTES:
            raise ValueError("address_hash must be 64 hexadecimal characters")
        token = base64.urlsafe_b64encode(digest + self._mac(digest)).rstrip(b"=").decode()
        return f"{self.local_part}+{token}@{self.domain}"

    def is_mailbox(self, address: str) -> bool:
        """`<local>+anything@<domain>`: ours to answer (a bad token is refused, not relayed)."""
        local, _, domain = address.rpartition("@")
        return domain.lower() == self.domain and local.lower().startswith(self.local_part + "+")

    def verify(self, address: str) -> str | None:
        """The address hash this return path names, or None for a forged or garbled one."""
        if not self.is_mailbox(address):
            return None
        token = address.rpartition("@")[0][len(self.local_part) + 1 :]
        if not _TOKEN.fullmatch(token):
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=")
        except (binascii.Error, ValueError):
            return None
        digest, mac = raw[:_HASH_BYTES], raw[_HASH_BYTES:]
        if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, self._mac(digest)):
            return None
        return digest.hex()
