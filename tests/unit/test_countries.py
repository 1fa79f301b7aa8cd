"""The country table of RULES.md §2, row by row, as shipped and as overridden."""

from __future__ import annotations

from datetime import date

import pytest

from proxy.policy.countries import (
    SHIPPED_PROFILES,
    STRICT,
    Regime,
    SoftOptinExtra,
    canonical_country,
)
from tests.unit.policy_factory import POLICY, make_policy

IN, OUT = Regime.OPT_IN, Regime.OPT_OUT
E = SoftOptinExtra

# country, soft opt-in, extra, window months, b2b named, generic
TABLE = [
    ("FR", True, E.NONE, None, OUT, OUT),
    ("DE", True, E.NONE, None, IN, IN),
    ("IT", True, E.CURRENT_CUSTOMER, 12, IN, IN),
    ("ES", True, E.NONE, None, IN, IN),
    ("BE", True, E.NONE, None, IN, OUT),
    ("NL", True, E.COMPLETED_SALE, None, IN, IN),
    ("LU", True, E.NONE, None, IN, IN),
    ("AT", True, E.NATIONAL_LIST, None, IN, IN),
    ("PL", False, E.NONE, None, IN, IN),
    ("PT", True, E.NATIONAL_LIST, None, IN, OUT),
    ("IE", True, E.SALE_WINDOW, 12, OUT, OUT),
    ("SE", True, E.NONE, None, IN, OUT),
    ("DK", True, E.SAME_PRODUCT, None, IN, IN),
    ("FI", True, E.NONE, None, OUT, OUT),
    ("CZ", True, E.NONE, None, IN, IN),
    ("UK", True, E.NONE, None, OUT, OUT),
    ("CH", True, E.NONE, None, IN, IN),
    (STRICT, True, E.NONE, None, IN, IN),
]


@pytest.mark.parametrize(("code", "soft", "extra", "window", "b2b", "generic"), TABLE)
def test_shipped_row(
    code: str, soft: bool, extra: SoftOptinExtra, window: int | None, b2b: Regime, generic: Regime
) -> None:
    profile = POLICY.profile(code)
    assert profile.code == code
    assert profile.soft_optin is soft
    assert profile.soft_optin_extra is extra
    assert profile.soft_optin_window_months == window
    assert profile.b2b is b2b
    assert profile.generic is generic


def test_table_covers_every_shipped_profile() -> None:
    assert {row[0] for row in TABLE} == set(SHIPPED_PROFILES)


def test_national_extras() -> None:
    assert POLICY.profile("FR").sector_ban_since == date(2025, 7, 1)
    assert "review" in POLICY.profile("DE").advertising_categories
    assert "consent-request" in POLICY.profile("AT").advertising_categories
    assert not POLICY.profile("AT").repermission_allowed
    others = [c for c in SHIPPED_PROFILES if c not in ("FR",)]
    assert all(POLICY.profile(c).sector_ban_since is None for c in others)
    assert all(POLICY.profile(c).repermission_allowed for c in others if c != "AT")


@pytest.mark.parametrize(("raw", "canonical"), [("gb", "UK"), ("GB", "UK"), (" fr ", "FR")])
def test_aliases(raw: str, canonical: str) -> None:
    assert canonical_country(raw) == canonical


def test_unknown_and_missing_countries_are_strict() -> None:
    assert POLICY.profile("US") is POLICY.profile(STRICT)
    assert POLICY.profile("") is POLICY.profile(STRICT)


def test_override_changes_only_the_written_keys() -> None:
    policy = make_policy(
        countries={"SE": {"b2b": "opt-out"}, "IE": {"soft_optin_window_months": 0}}
    )
    se = policy.profile("SE")
    assert se.b2b is OUT and se.generic is OUT and se.soft_optin
    assert policy.profile("IE").soft_optin_window_months is None
    assert POLICY.profile("SE").b2b is IN  # the shipped data is untouched


def test_override_gb_key_applies_to_uk() -> None:
    policy = make_policy(countries={"GB": {"b2b": "opt-in"}})
    assert policy.profile("UK").b2b is IN


def test_new_country_starts_from_strict() -> None:
    policy = make_policy(countries={"NO": {"generic": "opt-out"}})
    profile = policy.profile("NO")
    assert profile.code == "NO" and profile.generic is OUT and profile.b2b is IN


def test_sector_ban_can_be_removed() -> None:
    policy = make_policy(countries={"FR": {"sector_ban_since": None}})
    assert policy.profile("FR").sector_ban_since is None
