"""Address normalisation and the hashes that identify a mailbox without its clear text."""

from __future__ import annotations

import hashlib
import hmac

__all__ = [
    "address_hash",
    "domain_hash",
    "hmac_hex",
    "normalise_address",
    "normalise_domain",
    "sha256_hash",
]


def normalise_domain(domain: str) -> str:
    """Lower-case ASCII form of a domain: an IDN becomes its punycode (xn--) labels.

    So `bücher.example` and `xn--bcher-kva.example` hash the same. A domain that IDNA cannot
    encode is kept lower-cased (it cannot receive mail, but it must still hash stably).
    """
    domain = domain.strip().rstrip(".").lower()
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def normalise_address(address: str) -> str:
    """Trimmed, lower-cased address with a punycode domain; `+tags` and dots are kept.

    RULES.md §5: the suppression list recognises exactly what the person gave, so
    `Jo.Doe+news@Example.COM` and `jo.doe+news@example.com` are one mailbox but
    `jodoe@example.com` is another.
    """
    address = address.strip()
    if address.startswith("<") and address.endswith(">"):
        address = address[1:-1].strip()
    local, at, domain = address.rpartition("@")
    if not at:
        return address.lower()
    return f"{local.lower()}@{normalise_domain(domain)}"


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


def sha256_hash(address: str) -> str:
    """Plain SHA-256 (hex) of the normalised address, as other tools export opt-out lists."""
    return hashlib.sha256(normalise_address(address).encode("utf-8")).hexdigest()
