"""Unsubscribe tokens for tests: claims with defaults, and a valid token spelled two ways."""

from __future__ import annotations

import hashlib
from datetime import date

from proxy.tokens import TokenSigner, UnsubscribeToken

__all__ = ["HASH", "TODAY", "make_token", "non_canonical", "signed_with_spare_bits"]

TODAY = date(2026, 12, 1)
HASH = hashlib.sha256(b"marie@gmail.com").hexdigest()


def make_token(**changes: object) -> UnsubscribeToken:
    """Claims for marie@gmail.com's hash, scoped to controller acme, issued TODAY."""
    values: dict[str, object] = {
        "address_hash": HASH,
        "scope": "controller:acme",
        "controller": "acme",
        "language": "fr",
        "issued": TODAY,
        "campaign": "spring-2026",
    }
    values.update(changes)
    return UnsubscribeToken(**values)  # type: ignore[arg-type]


_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def non_canonical(token: str) -> str:
    """The same octets spelled with the last character's unused low bits set."""
    assert len(token) % 4 in (2, 3), "this length has no unused bits"
    return token[:-1] + _B64URL[_B64URL.index(token[-1]) | 1]


def signed_with_spare_bits(signer: TokenSigner, **changes: object) -> str:
    """A signed token whose last character has unused bits (the campaign sets the length)."""
    for size in range(1, 8):
        token = signer.sign(make_token(**{**changes, "campaign": "c" * size}))
        if len(token) % 4 in (2, 3) and _B64URL.index(token[-1]) % 2 == 0:
            return token
    raise AssertionError("no length with spare bits")
