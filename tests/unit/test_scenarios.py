"""Every scenario of RULES.md §6 (today = 2026-12-01) on the pure engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest

from proxy.model import Action, Basis, ConsentMethod, Kind, SourceKind, Stage
from tests.unit.policy_factory import (
    consented,
    contact,
    customer,
    message,
    prospect,
    run,
    stale_prospect,
    suppression,
)

MARIE = "marie@gmail.com"
PAUL = "paul.martin@acme-industrie.fr"
RUN = {"campaign_id": "running-2026", "product": "running"}


@dataclass(frozen=True)
class Scenario:
    sid: str
    address: str
    record: Any
    msg: dict[str, Any]
    action: Action
    rule: str | None = None  # the deciding rule
    basis: Basis | None = None
    also: tuple[str, ...] = ()  # other rule IDs that must be among the findings
    recipient: dict[str, Any] = field(default_factory=dict)


SCENARIOS = [
    Scenario("S1", MARIE, consented(MARIE), {}, Action.REWRITE, "footer", Basis.CONSENT),
    Scenario(
        "S2",
        MARIE,
        consented(MARIE, consent_method=ConsentMethod.PRE_TICKED),
        {},
        Action.REJECT,
        "b2c-no-consent",
        also=("consent-invalid",),
    ),
    Scenario(
        "S3",
        MARIE,
        consented(MARIE, consent_method=ConsentMethod.TERMS),
        {},
        Action.REJECT,
        "b2c-no-consent",
        also=("consent-invalid",),
    ),
    Scenario(
        "S4",
        MARIE,
        customer(MARIE),
        RUN,
        Action.REWRITE,
        "footer",
        Basis.SOFT_OPTIN,
        also=("soft-optin",),
    ),
    Scenario(
        "S5",
        MARIE,
        customer(MARIE),
        {**RUN, "partner_offers": True},
        Action.REJECT,
        "third-party-offer",
    ),
    Scenario(
        "S6",
        MARIE,
        customer(MARIE),
        {"campaign_id": "sister-running", "from_address": "news@sister.fr"},
        Action.REJECT,
        "b2c-no-consent",
    ),
    Scenario(
        "S7",
        MARIE,
        customer(MARIE, objection_offered=False),
        RUN,
        Action.REJECT,
        "b2c-no-consent",
    ),
    Scenario(
        "S8",
        PAUL,
        prospect(PAUL),
        {"targets": ("finance",)},
        Action.REWRITE,
        "footer",
        Basis.B2B_RELEVANCE,
        recipient={"first_message_at": datetime(2026, 1, 5)},
    ),
    Scenario(
        "S9",
        PAUL,
        prospect(PAUL),
        {"campaign_id": "lunch"},
        Action.REJECT,
        "b2b-not-relevant",
    ),
    Scenario(
        "S10",
        PAUL,
        prospect(PAUL, source="bought from DataBroker Ltd", source_kind=SourceKind.BROKER),
        {"targets": ("finance",)},
        Action.REWRITE,
        "footer",
        Basis.B2B_RELEVANCE,
        also=("first-contact-notice",),
    ),
    Scenario(
        "S11",
        PAUL,
        prospect(PAUL, source=None, source_kind=SourceKind.BROKER),
        {"targets": ("finance",)},
        Action.REJECT,
        "source-unknown",
    ),
    Scenario(
        "S12",
        "contact@acme-industrie.fr",
        contact(
            "contact@acme-industrie.fr",
            source="company website",
            source_kind=SourceKind.PUBLIC,
            collected_at=date(2026, 6, 1),
        ),
        {"targets": ("purchasing",)},
        Action.REWRITE,
        "footer",
        Basis.GENERIC_OPTOUT,
    ),
    Scenario(
        "S13",
        "info@firma.de",
        contact("info@firma.de", source="Impressum", source_kind=SourceKind.PUBLIC),
        {},
        Action.REJECT,
        "b2b-no-consent",
    ),
    Scenario(
        "S14",
        "jan@wp.pl",
        customer("jan@wp.pl", country="PL"),
        RUN,
        Action.REJECT,
        "b2c-no-consent",
    ),
    Scenario(
        "S15",
        "sean@eircom.net",
        customer("sean@eircom.net", country="IE", last_purchase=date(2025, 9, 1)),
        RUN,
        Action.REJECT,
        "customer-inactive",
    ),
    Scenario(
        "S16",
        "bob.plumbing@gmail.com",
        contact(
            "bob.plumbing@gmail.com",
            kind=Kind.B2B,
            country="UK",
            source="trade directory",
            source_kind=SourceKind.PUBLIC,
            job_function="plumbing",
        ),
        {"targets": ("plumbing",)},
        Action.REJECT,
        "b2c-no-consent",
    ),
    Scenario(
        "S17",
        "info@foretag.se",
        contact("info@foretag.se", source="company website", source_kind=SourceKind.PUBLIC),
        {},
        Action.REWRITE,
        "footer",
        Basis.GENERIC_OPTOUT,
    ),
    Scenario(
        "S18",
        MARIE,
        consented(MARIE),
        {},
        Action.REJECT,
        "suppressed",
        recipient={"suppressions": (suppression("global"),)},
    ),
    Scenario(
        "S19",
        MARIE,
        consented(MARIE, source="bought list", collected_at=date(2026, 11, 1)),
        {},
        Action.REJECT,
        "suppressed",
        recipient={"suppressions": (suppression("global", created_at=datetime(2026, 3, 1)),)},
    ),
    Scenario(
        "S20",
        PAUL,
        stale_prospect(PAUL),
        {"targets": ("finance",)},
        Action.REJECT,
        "stale-prospect",
    ),
    Scenario(
        "S21-first",
        PAUL,
        stale_prospect(PAUL),
        {"targets": ("finance",), "repermission": True},
        Action.REWRITE,
        "footer",
        Basis.REPERMISSION,
        also=("stale-prospect",),
    ),
    Scenario(
        "S21-second",
        PAUL,
        stale_prospect(PAUL),
        {"targets": ("finance",), "repermission": True},
        Action.REJECT,
        "stale-prospect",
        recipient={"repermission_at": datetime(2026, 6, 1)},
    ),
    Scenario(
        "S22",
        MARIE,
        consented(MARIE),
        {"has_unsubscribe_link": False},
        Action.REWRITE,
        "footer",
        Basis.CONSENT,
        also=("list-unsubscribe",),
    ),
    Scenario(
        "S23",
        "postmaster@client.fr",
        prospect("postmaster@client.fr"),
        {"targets": ("finance",)},
        Action.REJECT,
        "operational-address",
    ),
    Scenario(
        "S24",
        MARIE,
        consented(MARIE),
        {"from_address": "news@not-acme.example"},
        Action.REJECT,
        "sender-not-allowed",
    ),
    Scenario(
        "S25",
        MARIE,
        None,
        {"mail_from": "alerts@acme.fr", "subject": "Reset your password"},
        Action.FORWARD,
        "not-commercial",
        Basis.TRANSACTIONAL,
    ),
]


@pytest.mark.parametrize("case", SCENARIOS, ids=lambda case: case.sid)
def test_scenario(case: Scenario) -> None:
    decision = run(case.address, case.record, message(**case.msg), **case.recipient)
    assert decision.action is case.action, decision.findings
    assert decision.deciding is not None
    assert decision.deciding.rule == case.rule
    if case.basis is not None:
        assert decision.basis is case.basis
    for rule in case.also:
        assert rule in decision.rule_ids


def test_s2_reason_names_the_defect() -> None:
    decision = run(MARIE, consented(MARIE, consent_method=ConsentMethod.PRE_TICKED))
    assert "pre-ticked" in decision.deciding.reason  # type: ignore[union-attr]
    assert decision.findings[0].reason_code == "consent.pre-ticked"


def test_s10_notice_plan_names_the_source_and_is_recorded() -> None:
    record = prospect(PAUL, source="bought from DataBroker Ltd", source_kind=SourceKind.BROKER)
    decision = run(PAUL, record, message(targets=("finance",)))
    assert decision.rewrite is not None
    assert decision.rewrite.first_contact_notice
    assert decision.rewrite.source == "bought from DataBroker Ltd"
    assert decision.record_first_message


def test_s10_second_message_has_no_notice() -> None:
    record = prospect(PAUL, source="bought from DataBroker Ltd", source_kind=SourceKind.BROKER)
    decision = run(
        PAUL, record, message(targets=("finance",)), first_message_at=datetime(2026, 2, 1)
    )
    assert decision.rewrite is not None
    assert not decision.rewrite.first_contact_notice
    assert not decision.record_first_message


def test_s21_first_time_is_recorded() -> None:
    record = stale_prospect(PAUL)
    decision = run(PAUL, record, message(targets=("finance",), repermission=True))
    assert decision.record_repermission


def test_s22_plan_adds_both_headers() -> None:
    decision = run(MARIE, consented(MARIE))
    assert decision.rewrite is not None
    assert decision.rewrite.list_unsubscribe and decision.rewrite.footer
    assert decision.rewrite.controller == "acme"
    assert decision.rewrite.language in ("fr", "en")


def test_s25_transactional_is_not_rewritten() -> None:
    decision = run(MARIE, None, message(mail_from="alerts@acme.fr"))
    assert decision.rewrite is None
    assert decision.rule_ids == ("not-commercial",)


@pytest.mark.parametrize(
    ("sid", "address", "record", "extra"),
    [
        ("S18", MARIE, consented(MARIE), {"suppressions": (suppression("global"),)}),
        ("S23", "postmaster@client.fr", prospect("postmaster@client.fr"), {}),
        ("S2", MARIE, consented(MARIE, consent_method=ConsentMethod.PRE_TICKED), {}),
        ("S14", "jan@wp.pl", customer("jan@wp.pl", country="PL"), {}),
        ("S13", "info@firma.de", contact("info@firma.de", source="x"), {}),
    ],
)
def test_certain_refusals_happen_at_rcpt(
    sid: str, address: str, record: Any, extra: dict[str, Any]
) -> None:
    decision = run(address, record, message(), stage=Stage.RCPT, **extra)
    assert decision.action is Action.REJECT, sid
    assert decision.stage is Stage.RCPT


@pytest.mark.parametrize(
    ("sid", "address", "record"),
    [
        ("S4", MARIE, customer(MARIE)),  # soft opt-in depends on X-Prospect-Product
        ("S8", PAUL, prospect(PAUL)),  # relevance depends on X-Prospect-Targets
        ("S11", PAUL, prospect(PAUL, source=None)),  # X-Prospect-Source may still come
        ("S20", PAUL, prospect(PAUL, collected_at=date(2021, 5, 1))),  # re-permission may come
    ],
)
def test_content_dependent_cases_pass_rcpt(sid: str, address: str, record: Any) -> None:
    decision = run(address, record, message(), stage=Stage.RCPT)
    assert decision.action is Action.FORWARD, (sid, decision.findings)
    assert decision.rewrite is None
