"""The hashes that identify a mailbox (or a domain) without its clear text."""

from __future__ import annotations

import hashlib
import hmac

# One normalisation for the whole relay: the engine classifies and the store hashes the
# same form of an address (trimmed, lower case, IDN domain as A-label, needless quotes
# removed; `+tags` and dots kept, RULES.md §5).
from proxy.policy.address import normalise_address, normalise_domain

__all__ = [
    "address_hash",
    "domain_hash",
    "hmac_hex",
    "keyed_sha256",
    "normalise_address",
    "normalise_domain",
    "sha256_hash",
    "suppression_domains",
]


def hmac_hex(key: bytes, value: str) -> str:
    """HMAC-SHA256 (hex) of an already normalised value."""
    return hmac.digest(key, value.encode("utf-8"), "sha256").hex()


def address_hash(key: bytes, address: str) -> str:
    """HMAC-SHA256 (hex) of the normalised address: what the suppression list stores."""
    return hmac_hex(key, normalise_address(address))


def domain_hash(key: bytes, domain: str) -> str:
    """HMAC-SHA256 (hex) of the normalised domain, for domain-wide suppressions.

    The `@` prefix keeps a domain's hash distinct from any address's hash.
    """
    return hmac_hex(key, "@" + normalise_domain(domain.lstrip("@")))


def suppression_domains(domain: str) -> tuple[str, ...]:
    """A normalised domain and its parents down to two labels, the domains whose suppression
    covers it: `sales.acme.fr` -> (`sales.acme.fr`, `acme.fr`). A bare top-level domain is never
    one (a suppression of `fr` would be a mistake, not an objection)."""
    labels = domain.split(".")
    if len(labels) < 2:
        return (domain,)
    return tuple(".".join(labels[i:]) for i in range(len(labels) - 1))


def sha256_hash(address: str) -> str:
    """Plain SHA-256 (hex) of the normalised address, as other tools export opt-out lists."""
    return hashlib.sha256(normalise_address(address).encode("utf-8")).hexdigest()


def keyed_sha256(key: bytes, sha256_hex: str) -> str:
    """What the suppression list stores for an imported SHA-256 (another tool's opt-out list):
    the HMAC of that hex digest, so the list holds no unkeyed hash anyone could test
    candidate addresses against. Lookups key `sha256_hash(address)` the same way."""
    return hmac_hex(key, sha256_hex.lower())
