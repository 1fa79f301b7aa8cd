"""Classification, country resolution and address normalisation edge cases (RULES.md §3)."""

from __future__ import annotations

import pytest

from proxy.model import Contact, Kind
from proxy.policy.classify import (
    classify,
    is_freemail,
    normalise_address,
    resolve_country,
)
from tests.unit.policy_factory import POLICY, make_policy, refused_as_operational


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Marie@Example.COM", "marie@example.com"),
        ("  marie@example.com  ", "marie@example.com"),
        ("<marie@example.com>", "marie@example.com"),
        ("marie@example.com.", "marie@example.com"),
        ("Jo.Doe+News@Example.com", "jo.doe+news@example.com"),  # tags and dots are kept
        ("jürgen@Müller.de", "jürgen@xn--mller-kva.de"),
        ("jürgen@xn--mller-kva.de", "jürgen@xn--mller-kva.de"),
        ("info@straße.de", "info@xn--strae-oqa.de"),  # IDNA 2008: ß is kept
        ('"john.doe"@example.com', "john.doe@example.com"),  # needless quotes dropped
        ('"John Doe"@example.com', '"john doe"@example.com'),
        ('"a@b"@example.com', '"a@b"@example.com'),  # split at the last @
        ('"a\\"b"@example.com', '"a\\"b"@example.com'),
        ("no-at-sign", "no-at-sign"),
    ],
)
def test_normalise_address(raw: str, normalised: str) -> None:
    assert normalise_address(raw) == normalised
    assert normalise_address(normalised) == normalised  # idempotent


def test_plus_tag_is_a_different_mailbox() -> None:
    assert normalise_address("a+x@example.com") != normalise_address("a@example.com")


@pytest.mark.parametrize(
    ("address", "register_kind", "expected"),
    [
        ("marie@gmail.com", None, Kind.B2C),
        ("MARIE@GMAIL.COM", None, Kind.B2C),
        ("marie+promo@gmail.com", None, Kind.B2C),
        ("bob.plumbing@gmail.com", Kind.B2B, Kind.B2C),  # free-mail beats the register
        ("plombier@orange.fr", Kind.B2B, Kind.B2C),  # French ISP
        ("x@wanadoo.fr", None, Kind.B2C),
        ("x@sfr.fr", None, Kind.B2C),  # missing from the PyPI list, shipped addition
        ("x@t-online.de", None, Kind.B2C),
        ("x@libero.it", None, Kind.B2C),
        ("x@skynet.be", None, Kind.B2C),
        ("x@mail.orange.fr", None, Kind.B2C),  # subdomain of an ISP domain
        ("info@gmail.com", None, Kind.B2C),  # a role part at free-mail is still private
        ("contact@acme.fr", None, Kind.GENERIC),
        ("Contact@ACME.fr", None, Kind.GENERIC),
        ("info+fr@acme.fr", None, Kind.GENERIC),
        ('"info"@acme.fr', None, Kind.GENERIC),
        ("vertrieb@firma.de", None, Kind.GENERIC),
        ("commande@boutique.fr", None, Kind.GENERIC),
        ("contact@acme.fr", Kind.B2B, Kind.B2B),  # the register wins over the role guess
        ("jean.dupont@acme.fr", None, Kind.B2C),  # unknown -> strictest
        ("jean.dupont@acme.fr", Kind.B2B, Kind.B2B),
        ("jean.dupont@acme.fr", Kind.GENERIC, Kind.GENERIC),
        ("jürgen@müller.de", Kind.B2B, Kind.B2B),
    ],
)
def test_classify(address: str, register_kind: Kind | None, expected: Kind) -> None:
    record = Contact(email=address, kind=register_kind) if register_kind else None
    assert classify(address, record, POLICY) is expected


def test_unknown_kind_is_a_policy_choice() -> None:
    policy = make_policy(classification={"unknown_kind": "b2b"})
    assert classify("jean.dupont@acme.fr", None, policy) is Kind.B2B


def test_freemail_additions_and_exclusions() -> None:
    policy = make_policy(
        classification={"freemail_additions": ["MonFai.example"], "freemail_exclusions": ["gmx.de"]}
    )
    assert classify("a@monfai.example", None, policy) is Kind.B2C
    assert not is_freemail("gmx.de", policy)
    assert is_freemail("gmx.de", POLICY)


def test_idn_freemail_addition_matches_both_forms() -> None:
    policy = make_policy(classification={"freemail_additions": ["pöst.example"]})
    assert classify("a@xn--pst-sna.example", None, policy) is Kind.B2C
    assert classify("a@PÖST.example", None, policy) is Kind.B2C


def test_role_parts_extend_the_shipped_list() -> None:
    policy = make_policy(classification={"role_local_parts": ["Devis"]})
    assert classify("devis@acme.fr", None, policy) is Kind.GENERIC
    assert classify("info@acme.fr", None, policy) is Kind.GENERIC


@pytest.mark.parametrize(
    ("address", "operational"),
    [
        ("postmaster@acme.fr", True),
        ("PostMaster@acme.fr", True),
        ("abuse@acme.fr", True),
        ("no-reply@acme.fr", True),
        ("noreply+bounce-1@acme.fr", True),
        ('"mailer-daemon"@acme.fr', True),
        ("bounces@acme.fr", True),
        ("unsubscribe@acme.fr", True),
        ("root@acme.fr", True),
        ("rooted@acme.fr", False),
        ("info@acme.fr", False),
        ("jean@acme.fr", False),
    ],
)
def test_operational_mailboxes(address: str, operational: bool) -> None:
    assert refused_as_operational(address) is operational


@pytest.mark.parametrize(
    ("address", "register_country", "expected"),
    [
        ("a@acme.fr", None, "FR"),
        ("a@ACME.FR", None, "FR"),
        ("a@firm.co.uk", None, "UK"),
        ("a@firm.gb", None, "UK"),
        ("a@firma.de", None, "DE"),
        ("a@gmail.com", None, "STRICT"),
        ("a@example.net", None, "STRICT"),
        ("a@agency.eu", None, "STRICT"),
        ("a@startup.io", None, "STRICT"),
        ("a@firma.jp", None, "JP"),  # a country without a profile: STRICT rules apply
        ("a@gmail.com", "fr", "FR"),  # the register wins, any case
        ("a@gmail.com", "GB", "UK"),
        ("a@acme.fr", "DE", "DE"),
        ("a@acme.fr", " ", "FR"),
        ("a@xn--mller-kva.de", None, "DE"),
        ("no-domain", None, "STRICT"),
    ],
)
def test_resolve_country(address: str, register_country: str | None, expected: str) -> None:
    record = Contact(email=address, country=register_country) if register_country else None
    assert resolve_country(address, record) == expected


def test_unlisted_country_gets_strict_profile() -> None:
    assert POLICY.profile("JP") is POLICY.profile("STRICT")
