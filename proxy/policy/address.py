"""Address normalisation shared by classification, lookups and suppression hashes.

One canonical form, so that `Marie@Example.COM`, `marie@example.com.` and the IDN forms
`jürgen@müller.de` / `jürgen@xn--mller-kva.de` meet in the register and the suppression list.
Sub-address tags and dots are kept (RULES.md §5): `a+x@` and `a@` may be different people.
"""

from __future__ import annotations

import re
import unicodedata

import idna

__all__ = ["domain_of", "local_part_of", "normalise_address", "normalise_domain", "split_address"]

# RFC 5322 dot-atom text: a quoted local part made only of these needs no quotes.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_NEEDS_ESCAPE = re.compile(r'(["\\])')


def normalise_domain(domain: str) -> str:
    """Lower-case ASCII (IDNA A-label) form of a domain; IP literals and junk only lower-cased."""
    text = domain.strip().rstrip(".")
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFC", text)
    try:
        return idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError:
        return text.lower()


def _normalise_local(local: str) -> str:
    if len(local) >= 2 and local[0] == '"' and local[-1] == '"':
        inner = re.sub(r"\\(.)", r"\1", local[1:-1])
        quoted = '"' + _NEEDS_ESCAPE.sub(r"\\\1", inner) + '"'
        local = inner if _DOT_ATOM.match(inner) else quoted
    if local.isascii():
        return local.lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", local).lower())


def split_address(address: str) -> tuple[str, str]:
    """(local part, domain) as given, split at the last `@`; ("text", "") when there is none."""
    text = address.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    local, sep, domain = text.rpartition("@")
    if not sep:
        return text, ""
    return local, domain


def normalise_address(address: str) -> str:
    """The lookup form: trimmed, lower case, IDN domain as A-label, needless quotes removed."""
    local, domain = split_address(address)
    if not domain:  # not a mailbox address: trimmed and lower-cased, idempotently
        at = "@" if address.strip().rstrip(">").rstrip().endswith("@") else ""
        return local.strip().lower() + at
    return f"{_normalise_local(local)}@{normalise_domain(domain)}"


def local_part_of(normalised: str) -> str:
    """Local part of an already normalised address."""
    return normalised.rpartition("@")[0]


def domain_of(normalised: str) -> str:
    """Domain of an already normalised address ("" when there is none)."""
    return normalised.rpartition("@")[2] if "@" in normalised else ""
