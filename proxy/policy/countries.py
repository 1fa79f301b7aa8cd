"""The shipped country profiles of RULES.md §2, as frozen data the policy file may override."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

__all__ = [
    "COUNTRY_ALIASES",
    "SHIPPED_PROFILES",
    "STRICT",
    "CountryProfile",
    "Regime",
    "SoftOptinExtra",
    "canonical_country",
]

STRICT = "STRICT"

# Codes that name the same profile; the register and ccTLDs may use either.
COUNTRY_ALIASES: dict[str, str] = {"GB": "UK"}


class Regime(StrEnum):
    """Whether a kind of address needs prior consent in a country."""

    OPT_IN = "opt-in"
    # b2b named addresses: allowed without consent when the offer concerns the person's job;
    # generic addresses: allowed without consent.
    OPT_OUT = "opt-out"


class SoftOptinExtra(StrEnum):
    """The national condition added to the common soft opt-in conditions (for reasons/explain).

    Only SALE_WINDOW and CURRENT_CUSTOMER change the computation (a shorter purchase window);
    SAME_PRODUCT and COMPLETED_SALE are already implied by the common conditions as the register
    models them (exact product family bought, a recorded purchase date), and NATIONAL_LIST is
    enforced by the `suppressed` rule through the `national:<CC>` suppression scope.
    """

    NONE = "none"
    SALE_WINDOW = "sale-window"  # IE: a sale within the last 12 months
    CURRENT_CUSTOMER = "current-customer"  # IT: current customers only
    NATIONAL_LIST = "national-list"  # AT: not on the ECG list
    SAME_PRODUCT = "same-product"  # DK: corresponding products only
    COMPLETED_SALE = "completed-sale"  # NL: a completed sale


@dataclass(frozen=True, slots=True)
class CountryProfile:
    """What one country's law requires; every field is a policy default, overridable."""

    code: str
    soft_optin: bool = True
    soft_optin_extra: SoftOptinExtra = SoftOptinExtra.NONE
    soft_optin_window_months: int | None = None  # None: the retention window only
    b2b: Regime = Regime.OPT_IN
    generic: Regime = Regime.OPT_IN
    # Consumers may not be prospected for these sectors from this date (FR, loi 2025-594).
    sector_ban_since: date | None = None
    # Message categories that count as advertising even from a transactional sender
    # (DE: review/satisfaction requests).
    advertising_categories: frozenset[str] = field(default_factory=frozenset)
    # False where asking for consent by email is itself advertising (AT): no re-permission
    # message to a stale prospect.
    repermission_allowed: bool = True


def _profiles() -> dict[str, CountryProfile]:
    out = Regime.OPT_OUT
    extra = SoftOptinExtra
    rows = (
        CountryProfile(
            "FR",
            b2b=out,
            generic=out,
            sector_ban_since=date(2025, 7, 1),
        ),
        CountryProfile(
            "DE",
            advertising_categories=frozenset({"review", "satisfaction", "feedback"}),
        ),
        CountryProfile("IT", soft_optin_extra=extra.CURRENT_CUSTOMER, soft_optin_window_months=12),
        CountryProfile("ES"),
        CountryProfile("BE", generic=out),
        CountryProfile("NL", soft_optin_extra=extra.COMPLETED_SALE),
        CountryProfile("LU"),
        CountryProfile(
            "AT",
            soft_optin_extra=extra.NATIONAL_LIST,
            advertising_categories=frozenset({"consent-request", "repermission"}),
            repermission_allowed=False,
        ),
        CountryProfile("PL", soft_optin=False),
        CountryProfile("PT", soft_optin_extra=extra.NATIONAL_LIST, generic=out),
        CountryProfile(
            "IE",
            soft_optin_extra=extra.SALE_WINDOW,
            soft_optin_window_months=12,
            b2b=out,
            generic=out,
        ),
        CountryProfile("SE", generic=out),  # b2b uncertain: strict default
        CountryProfile("DK", soft_optin_extra=extra.SAME_PRODUCT),
        CountryProfile("FI", b2b=out, generic=out),
        CountryProfile("CZ"),
        CountryProfile("UK", b2b=out, generic=out),
        CountryProfile("CH"),
        CountryProfile(STRICT),
    )
    return {row.code: row for row in rows}


SHIPPED_PROFILES: dict[str, CountryProfile] = _profiles()


def canonical_country(code: str) -> str:
    """Upper-case a country code and fold aliases (GB -> UK); "" stays ""."""
    upper = code.strip().upper()
    return COUNTRY_ALIASES.get(upper, upper)
