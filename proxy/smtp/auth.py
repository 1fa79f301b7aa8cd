"""SMTP AUTH credentials: password hashing for `[smtp.users]` and their verification.

Hash format (what `prospect-relay hash-password` prints):
`scrypt$<n>$<r>$<p>$<salt, base64>$<key, base64>` with hashlib.scrypt and a 16-byte random
salt; the defaults (n=2**14, r=8, p=1) cost ~30-60 ms of CPU. Verification runs in a worker
thread so AUTH never blocks the event loop, and a successful verification is remembered (as
an HMAC under a per-process random key, never the password) so a sending tool that opens a
new connection per message pays the scrypt cost once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Authenticator", "PasswordHash", "hash_password", "verify_password"]

_SCHEME = "scrypt"
_DEFAULT_N = 2**14
_DEFAULT_R = 8
_DEFAULT_P = 1
_KEY_LEN = 32
_CACHE_SIZE = 1024
_MAXMEM = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PasswordHash:
    n: int
    r: int
    p: int
    salt: bytes
    key: bytes

    @classmethod
    def parse(cls, encoded: str) -> PasswordHash:
        """Read the stored form; ValueError says what is wrong (for check-config)."""
        parts = encoded.split("$")
        if len(parts) != 6 or parts[0] != _SCHEME:
            raise ValueError("not a password hash; create one with `prospect-relay hash-password`")
        try:
            n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
            salt = base64.b64decode(parts[4], validate=True)
            key = base64.b64decode(parts[5], validate=True)
        except ValueError:
            raise ValueError("malformed scrypt hash") from None
        if n < 2 or n & (n - 1) or r < 1 or p < 1 or len(salt) < 8 or len(key) < 16:
            raise ValueError("scrypt parameters out of range")
        return cls(n, r, p, salt, key)

    def encode(self) -> str:
        salt = base64.b64encode(self.salt).decode()
        key = base64.b64encode(self.key).decode()
        return f"{_SCHEME}${self.n}${self.r}${self.p}${salt}${key}"

    def matches(self, password: bytes) -> bool:
        derived = hashlib.scrypt(
            password,
            salt=self.salt,
            n=self.n,
            r=self.r,
            p=self.p,
            maxmem=_MAXMEM,
            dklen=len(self.key),
        )
        return hmac.compare_digest(derived, self.key)


def hash_password(password: str, *, n: int = _DEFAULT_N, r: int = _DEFAULT_R) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=_DEFAULT_P, dklen=_KEY_LEN)
    return PasswordHash(n, r, _DEFAULT_P, salt, key).encode()


def verify_password(password: str, encoded: str) -> bool:
    return PasswordHash.parse(encoded).matches(password.encode())


def _dummy_like(hashes: Iterable[PasswordHash]) -> PasswordHash:
    """A hash of a random password with the users' most common scrypt parameters.

    Unknown users are checked against it, so an unknown name costs what a known one costs
    and the answer's timing does not tell which names exist.
    """
    shapes = Counter((h.n, h.r, h.p, len(h.salt), len(h.key)) for h in hashes)
    n, r, p, salt_len, key_len = (
        shapes.most_common(1)[0][0] if shapes else (_DEFAULT_N, _DEFAULT_R, _DEFAULT_P, 16, 32)
    )
    salt = secrets.token_bytes(salt_len)
    key = hashlib.scrypt(
        secrets.token_bytes(16), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=key_len
    )
    return PasswordHash(n, r, p, salt, key)


class Authenticator:
    """Checks SMTP AUTH credentials against the configured users."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = {name: PasswordHash.parse(encoded) for name, encoded in users.items()}
        self._dummy = _dummy_like(self._users.values())
        self._cache_key = secrets.token_bytes(32)
        self._verified: OrderedDict[bytes, None] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return bool(self._users)

    async def authenticate(self, username: str, password: bytes) -> bool:
        token = hmac.new(
            self._cache_key, username.encode() + b"\0" + password, hashlib.sha256
        ).digest()
        if token in self._verified:
            self._verified.move_to_end(token)
            return True
        stored = self._users.get(username)
        ok = await asyncio.to_thread((stored or self._dummy).matches, password)
        if not (ok and stored is not None):
            return False
        self._verified[token] = None
        if len(self._verified) > _CACHE_SIZE:
            self._verified.popitem(last=False)
        return True
