"""The relay's keyed hashes of addresses and domains, cached, and the check of a given hash."""

from __future__ import annotations

from functools import lru_cache, partial

from proxy.store.hashing import (
    address_hash,
    domain_hash,
    keyed_sha256,
    sha256_hash,
    suppression_domains,
)

__all__ = ["Hasher", "check_hex"]


class Hasher:
    """Hashes under one secret key. They are pure functions of key and value (no register
    fact): the relay hashes each recipient several times per message (lookup, token, audit),
    once is enough."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the hash key must not be empty")
        self.key = key
        self.address = lru_cache(maxsize=4096)(partial(address_hash, key))
        self.domain = lru_cache(maxsize=4096)(partial(domain_hash, key))
        self.imported = lru_cache(maxsize=4096)(self._imported)

    def sha256_key(self, sha256_hex: str) -> str:
        """What an imported SHA-256 of an address is stored as (keyed, see hashing)."""
        return keyed_sha256(self.key, sha256_hex)

    def _imported(self, address: str) -> str:
        """The stored form of an imported SHA-256 list's entry for this (normal) address."""
        return keyed_sha256(self.key, sha256_hash(address))

    def domains_of(self, email: str) -> tuple[str, ...]:
        """Hashes of the address's domain and of each parent domain: a domain suppression of
        `acme.fr` covers `sales.acme.fr` (see `suppression_domains`)."""
        return tuple(self.domain(d) for d in suppression_domains(email.rpartition("@")[2]))


def check_hex(value: str) -> str:
    """A hash given by a caller (CLI, token, import), checked and in lower case."""
    value = value.strip().lower()
    if len(value) != 64 or any(char not in "0123456789abcdef" for char in value):
        raise ValueError("a hash must be 64 hexadecimal characters (SHA-256)")
    return value
