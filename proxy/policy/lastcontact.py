"""The one definition of a contact's last contact (RULES.md §5), shared by the engine's
`stale-prospect` rule and the retention purge, so a contact the relay may still mail is never
purged and a purged contact could not have been mailed.

The prospect window runs from the last contact that came from the person: collection, an
interaction (a click, a reply, an order, a form; never an open), a purchase, and a fresh
consent. A consent counts only while it stands (granted) and only when it was an act of the
person: a pre-ticked box or accepted terms of use are not (CNIL; PERFORMECLIC).
"""

from __future__ import annotations

from datetime import date

from proxy.model import ConsentMethod, ConsentState, Contact

__all__ = ["CONSENT_DATE", "NOT_AN_ACT", "PERSON_DATES", "consent_counts", "last_contact"]

# Contact fields that always date a contact from the person.
PERSON_DATES: tuple[str, ...] = ("collected_at", "last_interaction", "last_purchase")
# The consent date, which counts when `consent_counts` says so.
CONSENT_DATE = "consent_at"
# Consent methods that are no act of the person: their date restarts nothing.
NOT_AN_ACT: frozenset[ConsentMethod] = frozenset({ConsentMethod.PRE_TICKED, ConsentMethod.TERMS})


def consent_counts(contact: Contact) -> bool:
    """Whether the contact's consent date is a contact from the person."""
    return contact.consent is ConsentState.GRANTED and contact.consent_method not in NOT_AN_ACT


def last_contact(contact: Contact) -> date | None:
    """The latest date the person was in touch; None when the register has no date at all."""
    dates = [getattr(contact, name) for name in PERSON_DATES]
    if consent_counts(contact):
        dates.append(contact.consent_at)
    known = [day for day in dates if day is not None]
    return max(known) if known else None
