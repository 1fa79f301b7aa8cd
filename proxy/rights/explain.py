"""The facts of "why am I receiving this?", computed from the send record and the register.

Pure: the web handler loads the contact and the send record, this module decides what to
show. The legal basis comes from the audit record written when the message was sent
(`BasisSource.RECORDED`); only when that record is gone (audit retention) is it recomputed
from the register as it stands today, and labelled so (`BasisSource.RECOMPUTED`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from proxy.model import Basis, ConsentState, Contact, Kind
from proxy.policy.derive import months_before
from proxy.policy.policy_file import Retention
from proxy.rights.detail import parse_detail
from proxy.store.rights import SentRecord

__all__ = ["BasisSource", "Explanation", "deletion_date", "explain"]


class BasisSource(StrEnum):
    RECORDED = "recorded"  # the audit record of the message
    RECOMPUTED = "recomputed"  # the register today (the record is past its retention)
    UNKNOWN = "unknown"  # neither: nothing to show


@dataclass(frozen=True, slots=True)
class Explanation:
    """What the page shows about one message; no clear-text address, nobody else's data."""

    in_register: bool
    country: str | None  # the contact's, for the supervisory authority to name
    source: str | None
    collected_at: date | None
    basis: Basis
    basis_source: BasisSource
    sent_at: datetime | None
    detail: dict[str, str]  # consent_at, consent_method, product, customer_of, job, targets
    deletion: date | None


def _months_after(day: date, months: int) -> date:
    return months_before(day, -months)


def deletion_date(contact: Contact, retention: Retention) -> date | None:
    """The day the retention purge may remove this contact (`prospect-relay purge`).

    The purge's own condition (proxy.store.purge): every known date past its window; the
    last purchase counts for the longer of both windows. No date at all: never purged.
    """
    ends = [
        _months_after(day, retention.prospect_months)
        for day in (contact.collected_at, contact.last_interaction, contact.consent_at)
        if day is not None
    ]
    if contact.last_purchase is not None:
        window = max(retention.prospect_months, retention.customer_months)
        ends.append(_months_after(contact.last_purchase, window))
    return max(ends) if ends else None


def _recomputed(contact: Contact | None) -> tuple[Basis, dict[str, str]]:
    """The basis the register could support today, in the engine's order of preference."""
    if contact is None:
        return Basis.NONE, {}
    if contact.consent is ConsentState.GRANTED:
        detail = {}
        if contact.consent_at is not None:
            detail["consent_at"] = contact.consent_at.isoformat()
        if contact.consent_method is not None:
            detail["consent_method"] = contact.consent_method.value
        return Basis.CONSENT, detail
    if contact.customer_of:
        return Basis.SOFT_OPTIN, {"customer_of": ", ".join(contact.customer_of)}
    if contact.kind is Kind.B2B and contact.job_function:
        return Basis.B2B_RELEVANCE, {"job_function": contact.job_function}
    return Basis.NONE, {}


def explain(
    contact: Contact | None,
    sent: SentRecord | None,
    retention: Retention,
    *,
    campaign_source: str | None = None,
) -> Explanation:
    """`campaign_source`: the campaign's preset data source, shown when the register has none."""
    if sent is not None:
        basis, detail, origin = sent.basis, parse_detail(sent.basis_detail), BasisSource.RECORDED
    else:
        basis, detail = _recomputed(contact)
        origin = BasisSource.RECOMPUTED if basis is not Basis.NONE else BasisSource.UNKNOWN
    return Explanation(
        in_register=contact is not None,
        country=contact.country if contact is not None else None,
        source=(contact.source if contact is not None else None) or campaign_source,
        collected_at=contact.collected_at if contact is not None else None,
        basis=basis,
        basis_source=origin,
        sent_at=sent.created_at if sent is not None else None,
        detail=detail,
        deletion=deletion_date(contact, retention) if contact is not None else None,
    )
