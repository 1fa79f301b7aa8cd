"""Kind and country of a recipient (RULES.md §3), failing closed to the strictest answer."""

from __future__ import annotations

from proxy.model import Contact, Kind
from proxy.policy.address import domain_of, local_part_of, normalise_address
from proxy.policy.countries import STRICT, canonical_country
from proxy.policy.policy_file import Policy

__all__ = [
    "base_local_part",
    "classify",
    "classify_normalised",
    "country_of_normalised",
    "is_freemail",
    "normalise_address",
    "resolve_country",
]

# Top-level domains that look like country codes but are sold as generic names; an address
# there says nothing about where its owner lives.
_GENERIC_CCTLDS = frozenset({"io", "co", "me", "tv", "ai", "fm", "ws", "cc", "eu"})


def base_local_part(normalised: str) -> str:
    """Local part without its +tag and quotes: `noreply+x@` is still `noreply`."""
    local = local_part_of(normalised).strip('"')
    return local.split("+", 1)[0]


def is_freemail(domain: str, policy: Policy) -> bool:
    """Whether a normalised domain (or a parent of it) is a free-mail/ISP domain."""
    freemail = policy.compiled.freemail
    labels = domain.split(".")
    return any(".".join(labels[i:]) in freemail for i in range(len(labels) - 1))


def classify(address: str, contact: Contact | None, policy: Policy) -> Kind:
    """b2c / b2b / generic per RULES.md §3: free-mail beats the register, which beats guesses."""
    return classify_normalised(normalise_address(address), contact, policy)


def classify_normalised(normalised: str, contact: Contact | None, policy: Policy) -> Kind:
    """`classify` for an address already in `normalise_address` form (the engine's hot path)."""
    freemail = is_freemail(domain_of(normalised), policy)
    if freemail and policy.classification.freemail_is_b2c:
        return Kind.B2C
    if contact is not None and contact.kind is not None:
        return contact.kind
    if freemail:
        return Kind.B2C
    if base_local_part(normalised) in policy.compiled.role_local_parts:
        return Kind.GENERIC
    return policy.classification.unknown_kind


def resolve_country(address: str, contact: Contact | None) -> str:
    """Register country, else the ccTLD (`.uk` -> UK), else STRICT; canonical upper case."""
    return country_of_normalised(normalise_address(address), contact)


def country_of_normalised(normalised: str, contact: Contact | None) -> str:
    """`resolve_country` for an address already in `normalise_address` form."""
    if contact is not None and contact.country:
        country = canonical_country(contact.country)
        if country:
            return country
    tld = domain_of(normalised).rpartition(".")[2]
    if len(tld) == 2 and tld.isalpha() and tld not in _GENERIC_CCTLDS:
        return canonical_country(tld)
    return STRICT
