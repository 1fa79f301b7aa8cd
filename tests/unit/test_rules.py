"""Table-driven tests of every rule of RULES.md §4 at its edges (today = 2026-12-01)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest

from proxy.model import (
    Action,
    Basis,
    ConsentMethod,
    ConsentState,
    Kind,
    SourceKind,
    Stage,
)
from proxy.policy.policy_file import Policy
from proxy.policy.rules import RULES
from proxy.policy.rules.suppression import Suppressed
from tests.unit.policy_factory import (
    POLICY,
    POLICY_DATA,
    consented,
    contact,
    customer,
    make_policy,
    message,
    prospect,
    run,
    suppression,
)

MARIE = "marie@gmail.com"
PAUL = "paul.martin@acme-industrie.fr"
RUN = {"product": "running"}
FIN = {"targets": ("finance",)}
STALE = {"collected_at": date(2021, 5, 1), "last_interaction": date(2022, 1, 15)}


def _scraped_policy(*countries: str) -> Policy:
    controllers = dict(POLICY_DATA["controllers"])
    controllers["acme"] = {**controllers["acme"], "scraped_b2b_countries": list(countries)}
    return make_policy(controllers=controllers)


SCRAPED_FR = _scraped_policy("FR")
SCRAPED_FR_DE = _scraped_policy("FR", "DE")
FRESH_CONSENT = {
    "consent": ConsentState.GRANTED,
    "consent_at": date(2026, 11, 2),
    "consent_method": ConsentMethod.CHECKBOX,
    "consent_proof": "form-log-9",
}


@dataclass(frozen=True)
class Case:
    cid: str
    address: str
    record: Any
    msg: dict[str, Any]
    action: Action
    hit: str | None = None  # a rule that must be among the findings
    absent: tuple[str, ...] = ()  # rules that must not be among the findings
    recipient: dict[str, Any] = field(default_factory=dict)
    policy: Policy = POLICY
    today: date = date(2026, 12, 1)
    code: str | None = None  # reason code of the `hit` finding


def _case_id(case: Case) -> str:
    return case.cid


CASES = [
    # --- suppressed --------------------------------------------------------------------------
    Case("supp-global", MARIE, consented(MARIE), {}, Action.REJECT, "suppressed",
         recipient={"suppressions": (suppression("global"),)}, code="suppression.global"),
    Case("supp-own-controller", MARIE, consented(MARIE), {}, Action.REJECT, "suppressed",
         recipient={"suppressions": (suppression("controller:acme"),)},
         code="suppression.controller"),
    Case("supp-other-controller-ignored", MARIE, consented(MARIE), {}, Action.REWRITE,
         absent=("suppressed",), recipient={"suppressions": (suppression("controller:sister"),)}),
    Case("supp-beats-customer", MARIE, customer(MARIE), RUN, Action.REJECT, "suppressed",
         recipient={"suppressions": (suppression("global"),)}),
    Case("supp-domain-wide", PAUL, prospect(PAUL), FIN, Action.REJECT, "suppressed",
         recipient={"suppressions": (suppression("global", domain_wide=True),)}),
    Case("supp-national-at-soft-optin", "max@aon.at", customer("max@aon.at", country="AT"),
         RUN, Action.REJECT, "suppressed",
         recipient={"suppressions": (suppression("national:AT"),)}, code="suppression.national"),
    Case("supp-national-at-consent-ok", "max@aon.at", consented("max@aon.at", country="AT"),
         {}, Action.REWRITE, absent=("suppressed",),
         recipient={"suppressions": (suppression("national:AT"),)}),
    Case("supp-national-other-country", "max@aon.at", customer("max@aon.at", country="AT"),
         RUN, Action.REWRITE, absent=("suppressed",),
         recipient={"suppressions": (suppression("national:PT"),)}),
    # national lists with an unknown country (issue 13.3): every list applies
    Case("supp-national-unknown-country", "max@firma.com", customer("max@firma.com", country=None),
         RUN, Action.REJECT, "suppressed",
         recipient={"suppressions": (suppression("national:AT"),)},
         code="suppression.national-unknown-country"),
    Case("supp-national-unknown-country-pt", "geral@empresa.com",
         prospect("geral@empresa.com", kind=Kind.GENERIC, country=None), FIN, Action.REJECT,
         "suppressed", recipient={"suppressions": (suppression("national:PT"),)},
         code="suppression.national-unknown-country"),
    Case("supp-national-unknown-country-consent-ok", "max@firma.com",
         consented("max@firma.com", country=None), {}, Action.REWRITE, absent=("suppressed",),
         recipient={"suppressions": (suppression("national:AT"),)}),
    Case("supp-national-known-other-country-ignored", "max@firma.com",
         customer("max@firma.com", country="FR"), RUN, Action.REWRITE, absent=("suppressed",),
         recipient={"suppressions": (suppression("national:AT"),)}),
    Case("supp-national-pt-generic", "geral@empresa.pt",
         contact("geral@empresa.pt", kind=Kind.GENERIC, source="site", country="PT"),
         {}, Action.REJECT, "suppressed",
         recipient={"suppressions": (suppression("national:PT"),)}),
    Case("supp-national-gb-alias", "info@firm.co.uk",
         contact("info@firm.co.uk", source="site", source_kind=SourceKind.PUBLIC),
         {}, Action.REJECT, "suppressed",
         recipient={"suppressions": (suppression("national:GB"),)}),
    Case("supp-transactional-global-ignored", MARIE, None, {"mail_from": "alerts@acme.fr"},
         Action.FORWARD, "not-commercial", absent=("suppressed",),
         recipient={"suppressions": (suppression("global"),)}),
    Case("supp-transactional-own-list", MARIE, None, {"mail_from": "alerts@acme.fr"},
         Action.REJECT, "suppressed",
         recipient={"suppressions": (suppression("controller:acme"),)}),
    # --- not-commercial ----------------------------------------------------------------------
    Case("tx-domain-sender", MARIE, None, {"mail_from": "x@notify.acme.fr"}, Action.FORWARD,
         "not-commercial"),
    Case("tx-auth-user", MARIE, None, {"mail_from": "x@acme.fr", "auth_user": "billing"},
         Action.FORWARD, "not-commercial"),
    Case("tx-upper-case-sender", MARIE, None, {"mail_from": "ALERTS@Acme.FR"}, Action.FORWARD,
         "not-commercial"),
    Case("tx-header-from-not-trusted", MARIE, None, {"from_address": "alerts@acme.fr"},
         Action.REJECT, absent=("not-commercial",)),
    Case("tx-de-review-is-advertising", "hans@gmx.de", contact("hans@gmx.de", country="DE"),
         {"mail_from": "alerts@acme.fr", "category": "review"}, Action.REJECT, "b2c-no-consent",
         absent=("not-commercial",)),
    Case("tx-fr-review-is-transactional", MARIE, None,
         {"mail_from": "alerts@acme.fr", "category": "review"}, Action.FORWARD,
         "not-commercial"),
    Case("tx-at-consent-request-is-advertising", "max@aon.at",
         contact("max@aon.at", country="AT"),
         {"mail_from": "alerts@acme.fr", "category": "consent-request"}, Action.REJECT,
         "b2c-no-consent"),
    # --- objected / operational-address ------------------------------------------------------
    Case("objected-withdrawn", MARIE, consented(MARIE, consent=ConsentState.WITHDRAWN), {},
         Action.REJECT, "objected", code="objection.withdrawn"),
    Case("objected-refused", MARIE, customer(MARIE, marketing_refused=True), RUN,
         Action.REJECT, "objected", code="objection.refused"),
    Case("objected-transactional-still-sent", MARIE,
         consented(MARIE, consent=ConsentState.WITHDRAWN), {"mail_from": "alerts@acme.fr"},
         Action.FORWARD, absent=("objected",)),
    Case("operational-postmaster", "postmaster@client.fr", prospect("postmaster@client.fr"),
         FIN, Action.REJECT, "operational-address"),
    Case("operational-tag-and-case", "NoReply+x@Client.fr", prospect("noreply+x@client.fr"),
         FIN, Action.REJECT, "operational-address"),
    Case("operational-mailer-daemon", "mailer-daemon@client.fr",
         prospect("mailer-daemon@client.fr"), FIN, Action.REJECT, "operational-address"),
    Case("operational-policy-addition", "robot@client.fr", prospect("robot@client.fr"), FIN,
         Action.REJECT, "operational-address",
         policy=make_policy(classification={"operational_local_parts": ["robot"]})),
    Case("operational-role-is-not", "info@client.fr",
         contact("info@client.fr", source="site", source_kind=SourceKind.PUBLIC), {},
         Action.REWRITE, absent=("operational-address",)),
    # --- consent-invalid / b2c-no-consent ----------------------------------------------------
    Case("consent-pre-ticked", MARIE, consented(MARIE, consent_method=ConsentMethod.PRE_TICKED),
         {}, Action.REJECT, "consent-invalid", code="consent.pre-ticked"),
    Case("consent-terms", MARIE, consented(MARIE, consent_method=ConsentMethod.TERMS), {},
         Action.REJECT, "consent-invalid", code="consent.terms"),
    Case("consent-no-proof", MARIE, consented(MARIE, consent_proof=None), {}, Action.REJECT,
         "consent-invalid", code="consent.no-proof"),
    Case("consent-blank-proof", MARIE, consented(MARIE, consent_proof="  "), {}, Action.REJECT,
         "consent-invalid", code="consent.no-proof"),
    Case("consent-other-controller", MARIE, consented(MARIE, consent_controller="sister"), {},
         Action.REJECT, "consent-invalid", code="consent.other-controller"),
    Case("consent-default-controller", MARIE, consented(MARIE, consent_controller=None), {},
         Action.REWRITE, absent=("consent-invalid",)),
    Case("consent-none-controller-for-sister", MARIE, consented(MARIE, consent_controller=None),
         {"from_address": "news@sister.fr"}, Action.REJECT, "consent-invalid",
         code="consent.other-controller"),
    Case("consent-partner-not-named", MARIE,
         consented(MARIE, source_kind=SourceKind.PARTNER, partner_named=False), {},
         Action.REJECT, "consent-invalid", code="consent.partner-not-named"),
    Case("consent-partner-unknown-naming", MARIE,
         consented(MARIE, source_kind=SourceKind.PARTNER), {}, Action.REJECT, "consent-invalid"),
    Case("consent-partner-named", MARIE,
         consented(MARIE, source_kind=SourceKind.PARTNER, partner_named=True), {},
         Action.REWRITE, "first-contact-notice", absent=("consent-invalid",)),
    # indirect consent (issue 13.1): partner AND broker, or a third-party collector
    Case("consent-broker-not-named", MARIE,
         consented(MARIE, source_kind=SourceKind.BROKER, partner_named=False), {},
         Action.REJECT, "consent-invalid", code="consent.partner-not-named"),
    Case("consent-broker-naming-unknown", MARIE,
         consented(MARIE, source_kind=SourceKind.BROKER), {}, Action.REJECT, "consent-invalid",
         code="consent.partner-not-named"),
    Case("consent-broker-named", MARIE,
         consented(MARIE, source_kind=SourceKind.BROKER, partner_named=True), {},
         Action.REWRITE, "first-contact-notice", absent=("consent-invalid",)),
    Case("consent-third-party-collector-not-named", MARIE,
         consented(MARIE, consent_controller="leadco"), {}, Action.REJECT, "consent-invalid",
         code="consent.partner-not-named"),
    Case("consent-third-party-collector-named", MARIE,
         consented(MARIE, consent_controller="leadco", partner_named=True), {},
         Action.REWRITE, absent=("consent-invalid",)),
    Case("consent-sister-named-still-other", MARIE,
         consented(MARIE, consent_controller="sister", partner_named=True), {},
         Action.REJECT, "consent-invalid", code="consent.other-controller"),
    Case("consent-event-direct-unnamed-ok", MARIE,
         consented(MARIE, source_kind=SourceKind.EVENT), {}, Action.REWRITE,
         absent=("consent-invalid",)),
    # consent without a date (issue 13.2)
    Case("consent-no-date", MARIE, consented(MARIE, consent_at=None), {}, Action.REJECT,
         "consent-invalid", code="consent.no-date"),
    Case("consent-no-date-b2b-de", "jan@firma.de",
         consented("jan@firma.de", kind=Kind.B2B, country="DE", consent_at=None), {},
         Action.REJECT, "b2b-no-consent", code="consent.no-date"),
    Case("consent-double-opt-in", MARIE,
         consented(MARIE, consent_method=ConsentMethod.DOUBLE_OPT_IN), {}, Action.REWRITE,
         absent=("consent-invalid",)),
    Case("b2c-unknown-recipient", "someone@unknown.example", None,
         {"source": "fair"}, Action.REJECT, "b2c-no-consent"),
    Case("b2c-freemail-beats-register-b2b", "boss@orange.fr",
         prospect("boss@orange.fr", kind=Kind.B2B), FIN, Action.REJECT, "b2c-no-consent"),
    Case("b2c-switch-off-freemail-rule", "boss@orange.fr",
         prospect("boss@orange.fr", kind=Kind.B2B), FIN, Action.REWRITE,
         absent=("b2c-no-consent",),
         policy=make_policy(classification={"freemail_is_b2c": False})),
    # --- soft-optin / customer-inactive / third-party-offer ----------------------------------
    Case("soft-satisfied", MARIE, customer(MARIE), RUN, Action.REWRITE, "soft-optin"),
    Case("soft-product-case", MARIE, customer(MARIE), {"product": "Running"}, Action.REWRITE,
         "soft-optin"),
    Case("soft-campaign-product", MARIE, customer(MARIE), {"campaign_id": "running-2026"},
         Action.REWRITE, "soft-optin"),
    Case("soft-other-product", MARIE, customer(MARIE), {"product": "ski"}, Action.REJECT,
         "b2c-no-consent", code="soft-optin.other-product"),
    Case("soft-no-product", MARIE, customer(MARIE), {}, Action.REJECT, "b2c-no-consent",
         code="soft-optin.no-product"),
    Case("soft-not-direct", MARIE, customer(MARIE, source_kind=SourceKind.EVENT), RUN,
         Action.REJECT, "b2c-no-consent", code="soft-optin.not-direct"),
    Case("soft-no-sale-date", MARIE, customer(MARIE, last_purchase=None), RUN, Action.REJECT,
         "b2c-no-consent", code="soft-optin.no-sale-date"),
    Case("soft-objection-unknown", MARIE, customer(MARIE, objection_offered=None), RUN,
         Action.REJECT, "b2c-no-consent", code="soft-optin.no-objection-offered"),
    Case("soft-other-controller", MARIE, customer(MARIE, consent_controller="sister"), RUN,
         Action.REJECT, "b2c-no-consent", code="soft-optin.other-controller"),
    Case("soft-pl-never", "jan@wp.pl", customer("jan@wp.pl", country="PL"), RUN,
         Action.REJECT, "b2c-no-consent", code="soft-optin.not-allowed"),
    Case("soft-dk-same-product", "ole@mail.dk", customer("ole@mail.dk", country="DK"), RUN,
         Action.REWRITE, "soft-optin"),
    Case("soft-dk-other-product", "ole@mail.dk", customer("ole@mail.dk", country="DK"),
         {"product": "hiking"}, Action.REJECT, "b2c-no-consent"),
    Case("soft-nl-completed-sale", "jan@ziggo.nl",
         customer("jan@ziggo.nl", country="NL", last_purchase=None), RUN, Action.REJECT,
         "b2c-no-consent", code="soft-optin.no-sale-date"),
    Case("inactive-fr-at-boundary", MARIE, customer(MARIE, last_purchase=date(2023, 12, 1)),
         RUN, Action.REWRITE, "soft-optin"),
    Case("inactive-fr-day-before", MARIE, customer(MARIE, last_purchase=date(2023, 11, 30)),
         RUN, Action.REJECT, "customer-inactive", absent=("b2c-no-consent",)),
    Case("inactive-ie-at-boundary", "sean@eircom.net",
         customer("sean@eircom.net", country="IE", last_purchase=date(2025, 12, 1)), RUN,
         Action.REWRITE, "soft-optin"),
    Case("inactive-ie-day-before", "sean@eircom.net",
         customer("sean@eircom.net", country="IE", last_purchase=date(2025, 11, 30)), RUN,
         Action.REJECT, "customer-inactive"),
    Case("inactive-it-current-customer", "gino@libero.it",
         customer("gino@libero.it", country="IT", last_purchase=date(2025, 6, 1)), RUN,
         Action.REJECT, "customer-inactive"),
    Case("inactive-it-recent", "gino@libero.it",
         customer("gino@libero.it", country="IT", last_purchase=date(2026, 6, 1)), RUN,
         Action.REWRITE, "soft-optin"),
    Case("inactive-consent-still-valid", MARIE,
         consented(MARIE, customer_of=("running",), last_purchase=date(2020, 1, 1),
                   objection_offered=True), RUN, Action.REWRITE,
         absent=("customer-inactive",)),
    Case("third-party-with-consent-ok", MARIE, consented(MARIE), {"partner_offers": True},
         Action.REWRITE, absent=("third-party-offer",)),
    Case("third-party-soft", MARIE, customer(MARIE), {**RUN, "partner_offers": True},
         Action.REJECT, "third-party-offer"),
    # --- b2b-no-consent / b2b-not-relevant ---------------------------------------------------
    Case("b2b-de-named", "k.weber@firma.de", prospect("k.weber@firma.de", country="DE"), FIN,
         Action.REJECT, "b2b-no-consent"),
    Case("b2b-de-consent", "k.weber@firma.de",
         consented("k.weber@firma.de", kind=Kind.B2B, country="DE"), {}, Action.REWRITE,
         absent=("b2b-no-consent",)),
    Case("b2b-de-soft-optin", "k.weber@firma.de",
         customer("k.weber@firma.de", kind=Kind.B2B, country="DE"), RUN, Action.REWRITE,
         "soft-optin"),
    Case("b2b-de-inactive-customer", "k.weber@firma.de",
         customer("k.weber@firma.de", kind=Kind.B2B, country="DE",
                  last_purchase=date(2022, 1, 1)), RUN, Action.REJECT, "customer-inactive"),
    Case("b2b-be-generic-opt-out", "info@bedrijf.be",
         contact("info@bedrijf.be", source="site", source_kind=SourceKind.PUBLIC), {},
         Action.REWRITE, absent=("b2b-no-consent",)),
    Case("b2b-be-named-opt-in", "an@bedrijf.be", prospect("an@bedrijf.be", country="BE"), FIN,
         Action.REJECT, "b2b-no-consent"),
    Case("b2b-pt-generic-opt-out", "geral@empresa.pt",
         contact("geral@empresa.pt", kind=Kind.GENERIC, source="site", country="PT"), {},
         Action.REWRITE),
    Case("b2b-se-named-strict", "anna@foretag.se", prospect("anna@foretag.se", country="SE"),
         FIN, Action.REJECT, "b2b-no-consent"),
    Case("b2b-unknown-country-strict", "ceo@corp.com", prospect("ceo@corp.com", country=None),
         FIN, Action.REJECT, "b2b-no-consent"),
    Case("b2b-generic-unknown-country-strict", "info@corp.com",
         contact("info@corp.com", source="site"), {}, Action.REJECT, "b2b-no-consent"),
    Case("b2b-uk-relevant", "tom@firm.co.uk", prospect("tom@firm.co.uk", country=None), FIN,
         Action.REWRITE, absent=("b2b-not-relevant",)),
    Case("b2b-ie-not-relevant", "aoife@firm.ie", prospect("aoife@firm.ie", country="IE"),
         {"targets": ("it",)}, Action.REJECT, "b2b-not-relevant", code="b2b.not-relevant"),
    Case("b2b-fi-relevant", "mika@yritys.fi", prospect("mika@yritys.fi", country="FI"), FIN,
         Action.REWRITE),
    Case("b2b-no-targets", PAUL, prospect(PAUL), {}, Action.REJECT, "b2b-not-relevant",
         code="b2b.no-targets"),
    Case("b2b-no-job", PAUL, prospect(PAUL, job_function=None), FIN, Action.REJECT,
         "b2b-not-relevant", code="b2b.no-job-function"),
    Case("b2b-job-case", PAUL, prospect(PAUL, job_function="Finance"), FIN, Action.REWRITE,
         absent=("b2b-not-relevant",)),
    Case("b2b-campaign-targets", PAUL, prospect(PAUL, job_function="facilities"),
         {"campaign_id": "lunch"}, Action.REWRITE, absent=("b2b-not-relevant",)),
    Case("b2b-header-targets-override", PAUL, prospect(PAUL),
         {"campaign_id": "lunch", "targets": ("finance",)}, Action.REWRITE),
    Case("b2b-consent-no-relevance-needed", PAUL, consented(PAUL, kind=Kind.B2B), {},
         Action.REWRITE, absent=("b2b-not-relevant",)),
    # --- stale-prospect ----------------------------------------------------------------------
    Case("stale-at-boundary", PAUL, prospect(PAUL, collected_at=date(2023, 12, 1)), FIN,
         Action.REWRITE, absent=("stale-prospect",)),
    Case("stale-day-before", PAUL, prospect(PAUL, collected_at=date(2023, 11, 30)), FIN,
         Action.REJECT, "stale-prospect", code="retention.stale"),
    Case("stale-refreshed-by-interaction", PAUL,
         prospect(PAUL, collected_at=date(2021, 1, 1), last_interaction=date(2025, 1, 1)), FIN,
         Action.REWRITE, absent=("stale-prospect",)),
    # a fresh consent restarts the window (issue 13.9), boundaries as for collection
    Case("stale-refreshed-by-consent", PAUL, prospect(PAUL, **STALE, **FRESH_CONSENT), FIN,
         Action.REWRITE, absent=("stale-prospect",)),
    Case("stale-consent-at-boundary", PAUL,
         prospect(PAUL, **STALE, **{**FRESH_CONSENT, "consent_at": date(2023, 12, 1)}), FIN,
         Action.REWRITE, absent=("stale-prospect",)),
    Case("stale-consent-day-before", PAUL,
         prospect(PAUL, **STALE, **{**FRESH_CONSENT, "consent_at": date(2023, 11, 30)}), FIN,
         Action.REJECT, "stale-prospect", code="retention.stale"),
    Case("stale-pre-ticked-consent-restarts-nothing", PAUL,
         prospect(PAUL, **STALE, **{**FRESH_CONSENT, "consent_method": ConsentMethod.PRE_TICKED}),
         FIN, Action.REJECT, "stale-prospect", code="retention.stale"),
    Case("stale-refreshed-by-purchase", PAUL,
         prospect(PAUL, **STALE, last_purchase=date(2025, 6, 1)), FIN, Action.REWRITE,
         absent=("stale-prospect",)),
    Case("stale-repermission-once", PAUL, prospect(PAUL, **STALE),
         {**FIN, "repermission": True}, Action.REWRITE, "stale-prospect",
         code="retention.repermission"),
    Case("stale-repermission-used", PAUL, prospect(PAUL, **STALE),
         {**FIN, "repermission": True}, Action.REJECT, "stale-prospect",
         recipient={"repermission_at": datetime(2026, 1, 1)}, code="retention.repermission-used"),
    Case("stale-at-repermission-forbidden", "max@firma.at",
         consented("max@firma.at", kind=Kind.B2B, country="AT", **STALE,
                   consent_at=date(2021, 5, 1)),
         {"repermission": True}, Action.REJECT, "stale-prospect",
         code="retention.repermission-forbidden"),
    Case("stale-customer-not-prospect", MARIE,
         customer(MARIE, collected_at=date(2019, 1, 1)), RUN, Action.REWRITE,
         absent=("stale-prospect",)),
    Case("stale-former-customer", PAUL,
         prospect(PAUL, customer_of=("x",), last_purchase=date(2022, 1, 1), **STALE), FIN,
         Action.REJECT, "stale-prospect"),
    Case("stale-no-dates", PAUL, prospect(PAUL, collected_at=None), FIN, Action.REWRITE,
         absent=("stale-prospect",)),
    # --- sector-ban --------------------------------------------------------------------------
    Case("sector-fr-consumer", MARIE, consented(MARIE), {"category": "energy-renovation"},
         Action.REJECT, "sector-ban"),
    Case("sector-fr-campaign-category", MARIE, consented(MARIE),
         {"campaign_id": "running-2026", "category": "Home-Adaptation"}, Action.REJECT,
         "sector-ban"),
    Case("sector-before-law", MARIE, consented(MARIE), {"category": "energy-renovation"},
         Action.REWRITE, absent=("sector-ban",), today=date(2025, 6, 30)),
    Case("sector-law-first-day", MARIE, consented(MARIE), {"category": "energy-renovation"},
         Action.REJECT, "sector-ban", today=date(2025, 7, 1)),
    # a past purchase is not a contract in progress (issue 13.4): only contract_until is
    Case("sector-recent-purchase-is-no-contract", MARIE,
         consented(MARIE, customer_of=("insulation",), last_purchase=date(2026, 1, 1)),
         {"category": "energy-renovation"}, Action.REJECT, "sector-ban", code="sector.banned"),
    Case("sector-contract-in-progress", MARIE,
         consented(MARIE, contract_until=date(2027, 6, 30)), {"category": "energy-renovation"},
         Action.REWRITE, "sector-ban", code="sector.contract-in-progress"),
    Case("sector-contract-ends-today", MARIE, consented(MARIE, contract_until=date(2026, 12, 1)),
         {"category": "home-adaptation"}, Action.REWRITE, "sector-ban",
         code="sector.contract-in-progress"),
    Case("sector-contract-ended-yesterday", MARIE,
         consented(MARIE, contract_until=date(2026, 11, 30)), {"category": "home-adaptation"},
         Action.REJECT, "sector-ban", code="sector.banned"),
    Case("sector-contract-with-sister", MARIE,
         consented(MARIE, contract_until=date(2027, 1, 1)),
         {"category": "energy-renovation", "from_address": "news@sister.fr"}, Action.REJECT,
         "sector-ban", code="sector.banned"),
    Case("sector-b2b-allowed", PAUL, prospect(PAUL), {**FIN, "category": "energy-renovation"},
         Action.REWRITE, absent=("sector-ban",)),
    Case("sector-de-consumer-allowed", "hans@gmx.de", consented("hans@gmx.de", country="DE"),
         {"category": "energy-renovation"}, Action.REWRITE, absent=("sector-ban",)),
    # --- source-unknown / scraped-source -----------------------------------------------------
    Case("source-kind-unknown", PAUL, prospect(PAUL, source_kind=SourceKind.UNKNOWN), FIN,
         Action.REJECT, "source-unknown", code="source.unknown-kind"),
    Case("source-missing", "info@acme-industrie.fr", None, {}, Action.REJECT, "source-unknown",
         code="source.missing"),
    Case("source-from-header", "info@acme-industrie.fr", None, {"source": "annuaire pro"},
         Action.REWRITE, absent=("source-unknown",)),
    Case("source-from-campaign", "info@acme-industrie.fr", None, {"campaign_id": "lunch"},
         Action.REWRITE, absent=("source-unknown",)),
    Case("source-scraped", PAUL, prospect(PAUL, source_kind=SourceKind.SCRAPED), FIN,
         Action.REJECT, "scraped-source"),
    # the documented switch (issue 13.10): b2b/generic only, per controller and country
    Case("scraped-b2b-relaxed-fr", PAUL, prospect(PAUL, source_kind=SourceKind.SCRAPED), FIN,
         Action.REWRITE, "scraped-source", code="source.scraped-allowed", policy=SCRAPED_FR),
    Case("scraped-generic-relaxed-fr", "info@acme-industrie.fr",
         contact("info@acme-industrie.fr", source="annuaire", source_kind=SourceKind.SCRAPED),
         {}, Action.REWRITE, "scraped-source", code="source.scraped-allowed",
         policy=SCRAPED_FR),
    Case("scraped-relaxed-notice-still-due", PAUL, prospect(PAUL, source_kind=SourceKind.SCRAPED),
         FIN, Action.REWRITE, "first-contact-notice", policy=SCRAPED_FR),
    Case("scraped-consumer-never-relaxed", MARIE,
         consented(MARIE, source_kind=SourceKind.SCRAPED), {}, Action.REJECT, "scraped-source",
         code="source.scraped", policy=SCRAPED_FR),
    Case("scraped-freemail-b2b-is-consumer", "bob.pro@orange.fr",
         prospect("bob.pro@orange.fr", source_kind=SourceKind.SCRAPED), FIN, Action.REJECT,
         "scraped-source", code="source.scraped", policy=SCRAPED_FR),
    Case("scraped-other-country-not-relaxed", "jan@firma.be",
         prospect("jan@firma.be", country="BE", kind=Kind.GENERIC,
                  source_kind=SourceKind.SCRAPED), {}, Action.REJECT, "scraped-source",
         code="source.scraped", policy=SCRAPED_FR),
    Case("scraped-other-controller-not-relaxed", PAUL,
         prospect(PAUL, source_kind=SourceKind.SCRAPED), {**FIN, "from_address": "x@sister.fr"},
         Action.REJECT, "scraped-source", code="source.scraped", policy=SCRAPED_FR),
    Case("scraped-relaxed-de-still-needs-consent", "jan@firma.de",
         prospect("jan@firma.de", country="DE", source_kind=SourceKind.SCRAPED), FIN,
         Action.REJECT, "b2b-no-consent", policy=SCRAPED_FR_DE),
    # --- sender-not-allowed ------------------------------------------------------------------
    Case("sender-no-from", MARIE, consented(MARIE), {"from_address": None}, Action.REJECT,
         "sender-not-allowed"),
    Case("sender-subdomain", MARIE, consented(MARIE), {"from_address": "n@news.acme.fr"},
         Action.REWRITE, absent=("sender-not-allowed",)),
    Case("sender-upper-case", MARIE, consented(MARIE), {"from_address": "News@ACME.FR"},
         Action.REWRITE, absent=("sender-not-allowed",)),
    Case("sender-other-controller-than-campaign", MARIE, consented(MARIE),
         {"campaign_id": "running-2026", "from_address": "n@sister.fr"}, Action.REJECT,
         "sender-not-allowed"),
    Case("sender-lookalike", MARIE, consented(MARIE), {"from_address": "n@acme.fr.evil.example"},
         Action.REJECT, "sender-not-allowed"),
    # --- deceptive-subject -------------------------------------------------------------------
    Case("subject-unpaid", MARIE, consented(MARIE), {"subject": "Unpaid invoice #123"},
         Action.REJECT, "deceptive-subject", code="subject.deceptive"),
    Case("subject-facture", MARIE, consented(MARIE), {"subject": "Votre facture impayée"},
         Action.REJECT, "deceptive-subject"),
    Case("subject-fake-re-first", MARIE, consented(MARIE), {"subject": "RE: notre échange"},
         Action.REJECT, "deceptive-subject", code="subject.fake-reply"),
    Case("subject-fake-tr-first", MARIE, consented(MARIE), {"subject": "TR : offre"},
         Action.REJECT, "deceptive-subject"),
    Case("subject-re-not-first", MARIE, consented(MARIE), {"subject": "Re: notre échange"},
         Action.REWRITE, absent=("deceptive-subject",),
         recipient={"first_message_at": datetime(2026, 1, 1)}),
    Case("subject-plain", MARIE, consented(MARIE), {"subject": "Reduced prices on shoes"},
         Action.REWRITE, absent=("deceptive-subject",)),
    # --- visible-recipients ------------------------------------------------------------------
    Case("visible-one", MARIE, consented(MARIE), {"visible_recipients": 1}, Action.REWRITE,
         absent=("visible-recipients",)),
    Case("visible-many", MARIE, consented(MARIE), {"visible_recipients": 3}, Action.REJECT,
         "visible-recipients"),
    Case("visible-split", MARIE, consented(MARIE), {"visible_recipients": 3}, Action.REWRITE,
         "visible-recipients", policy=make_policy(visible_recipients="split")),
    # --- cannot-add-footer / footer / first-contact-notice / list-unsubscribe ----------------
    Case("signed-compliant", MARIE, consented(MARIE),
         {"signed_or_encrypted": True, "has_unsubscribe_link": True,
          "has_source_statement": True}, Action.REWRITE, "list-unsubscribe",
         absent=("footer", "cannot-add-footer")),
    Case("signed-missing-mentions", MARIE, consented(MARIE), {"signed_or_encrypted": True},
         Action.REJECT, "cannot-add-footer", code="footer.signed-missing"),
    Case("signed-needs-notice", PAUL, prospect(PAUL),
         {**FIN, "signed_or_encrypted": True, "has_unsubscribe_link": True,
          "has_source_statement": True}, Action.REJECT, "cannot-add-footer",
         code="footer.signed-notice"),
    Case("signed-policy-reject", MARIE, consented(MARIE),
         {"signed_or_encrypted": True, "has_unsubscribe_link": True,
          "has_source_statement": True}, Action.REJECT, "cannot-add-footer",
         policy=make_policy(signed_messages="reject")),
    Case("require-mode-missing", MARIE, consented(MARIE), {"has_unsubscribe_link": True},
         Action.REJECT, "footer", policy=make_policy(footer_mode="require"),
         code="footer.missing"),
    Case("require-mode-present", MARIE, consented(MARIE),
         {"has_unsubscribe_link": True, "has_source_statement": True}, Action.REWRITE,
         "list-unsubscribe", absent=("footer",), policy=make_policy(footer_mode="require")),
    Case("already-footed", MARIE, consented(MARIE), {"already_footed": True}, Action.REWRITE,
         "list-unsubscribe", absent=("footer",)),
    Case("notice-direct-never", MARIE, consented(MARIE), {}, Action.REWRITE, "footer",
         absent=("first-contact-notice",)),
    Case("notice-event-first", PAUL, prospect(PAUL), FIN, Action.REWRITE,
         "first-contact-notice"),
    Case("notice-source-kind-missing", "info@acme-industrie.fr", None, {"source": "annuaire"},
         Action.REWRITE, "first-contact-notice"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule_case(case: Case) -> None:
    decision = run(
        case.address,
        case.record,
        message(**case.msg),
        policy=case.policy,
        today=case.today,
        **case.recipient,
    )
    assert decision.action is case.action, decision.findings
    if case.hit is not None:
        assert case.hit in decision.rule_ids, decision.findings
        if case.code is not None:
            found = next(f for f in decision.findings if f.rule == case.hit)
            assert found.reason_code == case.code
    for rule in case.absent:
        assert rule not in decision.rule_ids, decision.findings


def test_every_rule_is_described_and_frozen() -> None:
    for rule in RULES:
        assert rule.description and rule.stage in (Stage.RCPT, Stage.DATA)
        with pytest.raises(AttributeError):
            rule.extra = 1  # type: ignore[attr-defined]
    assert Suppressed.stage is Stage.RCPT


def test_every_rule_is_exercised_by_a_case() -> None:
    hit = {case.hit for case in CASES}
    assert {rule.name for rule in RULES} <= hit


def test_visible_split_sets_the_plan() -> None:
    decision = run(
        MARIE, consented(MARIE), message(visible_recipients=2),
        policy=make_policy(visible_recipients="split"),
    )  # fmt: skip
    assert decision.rewrite is not None and decision.rewrite.split_recipients


def test_signed_compliant_plan_does_not_touch_the_body() -> None:
    decision = run(
        MARIE,
        consented(MARIE),
        message(signed_or_encrypted=True, has_unsubscribe_link=True, has_source_statement=True),
    )
    assert decision.rewrite is not None
    assert not decision.rewrite.footer and not decision.rewrite.first_contact_notice
    assert decision.rewrite.list_unsubscribe


def test_consent_basis_beats_soft_optin() -> None:
    record = consented(MARIE, customer_of=("running",), last_purchase=date(2026, 1, 1),
                       objection_offered=True)  # fmt: skip
    decision = run(MARIE, record, message(product="running", partner_offers=True))
    assert decision.basis is Basis.CONSENT
    assert decision.action is Action.REWRITE
