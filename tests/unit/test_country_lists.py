"""Issue 13.8: the shipped address lists, a sample per profile country (RULES.md §3)."""

from __future__ import annotations

import pytest

from proxy.model import Contact, Kind
from proxy.policy import defaults
from proxy.policy.classify import classify
from proxy.policy.countries import SHIPPED_PROFILES, STRICT
from tests.unit.policy_factory import POLICY, refused_as_operational

# country -> (a consumer mailbox domain missing from the PyPI list, a role mailbox of its
# language), each classified without any register fact.
SAMPLES: dict[str, tuple[str, str]] = {
    "FR": ("sfr.fr", "comptabilite@menuiserie-dupont.fr"),
    "DE": ("tutanota.de", "buchhaltung@tischlerei-meier.de"),
    "IT": ("outlook.it", "amministrazione@ditta-rossi.it"),
    "ES": ("euskaltel.net", "pedidos@talleres-garcia.es"),
    "BE": ("hotmail.be", "verkoop@bakkerij-peeters.be"),
    "NL": ("kpnplanet.nl", "klantenservice@jansen-bv.nl"),
    "LU": ("vo.lu", "secretariat@fiduciaire-weber.lu"),
    "AT": ("liwest.at", "zentrale@bau-gruber.at"),
    "PL": ("interia.eu", "biuro@kowalski-sp.pl"),
    "PT": ("meo.pt", "geral@empresa-silva.pt"),
    "IE": ("iol.ie", "enquiries@murphy-ltd.ie"),
    "SE": ("bredband.net", "kundtjanst@andersson-ab.se"),
    "DK": ("get2net.dk", "bogholderi@jensen-aps.dk"),
    "FI": ("elisanet.fi", "asiakaspalvelu@virtanen-oy.fi"),
    "CZ": ("volny.cz", "podatelna@novak-sro.cz"),
    "UK": ("btopenworld.com", "accounts@smith-plumbing.co.uk"),
    "CH": ("swissonline.ch", "segreteria@ticino-sa.ch"),
}


def test_every_profile_country_has_a_sample_and_a_list() -> None:
    countries = set(SHIPPED_PROFILES) - {STRICT}
    assert set(SAMPLES) == countries
    assert countries <= set(defaults.FREEMAIL_BY_COUNTRY)


@pytest.mark.parametrize("country", sorted(SAMPLES))
def test_country_freemail_sample_is_a_consumer(country: str) -> None:
    domain, _ = SAMPLES[country]
    assert domain in defaults.FREEMAIL_BY_COUNTRY[country]
    # even when the register says b2b (a sole trader's private mailbox)
    assert classify(f"jean@{domain}", Contact(f"jean@{domain}", kind=Kind.B2B), POLICY) is Kind.B2C


@pytest.mark.parametrize("country", sorted(SAMPLES))
def test_country_role_sample_is_generic(country: str) -> None:
    _, address = SAMPLES[country]
    assert classify(address, None, POLICY) is Kind.GENERIC
    assert not refused_as_operational(address)


@pytest.mark.parametrize("local", ["info", "marketing", "sales", "support"])
def test_rfc2142_business_mailboxes_are_roles_not_operational(local: str) -> None:
    address = f"{local}@acme-industrie.fr"
    assert classify(address, None, POLICY) is Kind.GENERIC
    assert not refused_as_operational(address)


@pytest.mark.parametrize(
    "local",
    ["abuse", "noc", "security", "postmaster", "hostmaster", "webmaster", "www", "uucp", "ftp",
     "mailer-daemon", "no-reply", "nao-responder", "nicht-antworten", "listserv", "dmarc"],
)  # fmt: skip
def test_rfc2142_operations_mailboxes_and_no_reply_are_operational(local: str) -> None:
    assert refused_as_operational(f"{local}@acme-industrie.fr")


def test_free_and_role_lists_do_not_overlap_the_operational_one() -> None:
    assert not set(defaults.ROLE_LOCAL_PARTS) & set(defaults.OPERATIONAL_LOCAL_PARTS)
