"""RCPT refuses only what no message content could make lawful; DATA decides the rest."""

from __future__ import annotations

from datetime import date

import pytest

from proxy.model import Action, ConsentMethod, Finding, RecipientFacts, SourceKind, Stage
from proxy.policy.engine import decide, explain_lines, resolve_action
from proxy.policy.rules import RULES
from tests.unit.policy_factory import (
    POLICY,
    TODAY,
    consented,
    contact,
    customer,
    evaluation,
    make_policy,
    message,
    prospect,
    run,
    suppression,
)

MARIE = "marie@gmail.com"
PAUL = "paul.martin@acme-industrie.fr"
SINGLE = make_policy(
    controllers={
        "acme": {
            "legal_name": "Acme SAS",
            "postal_address": "1 rue de la Paix, Paris",
            "domains": ["acme.fr"],
            "privacy_url": "https://acme.fr/privacy",
        }
    },
    campaigns={},
)


def test_one_controllers_list_is_not_certain_at_rcpt_with_two_controllers() -> None:
    sup = (suppression("controller:acme"),)
    info = "info@acme-industrie.fr"
    record = contact(info, source="company website", source_kind=SourceKind.PUBLIC)
    at_rcpt = run(info, record, message(), stage=Stage.RCPT, suppressions=sup)
    assert at_rcpt.action is Action.FORWARD
    at_data = run(info, record, message(), suppressions=sup)
    assert at_data.action is Action.REJECT
    from_sister = run(info, record, message(from_address="n@sister.fr"), suppressions=sup)
    assert from_sister.action is Action.REWRITE


def test_consent_is_per_controller_so_rcpt_is_certain_for_the_other() -> None:
    sup = (suppression("controller:acme"),)
    at_rcpt = run(MARIE, consented(MARIE), message(), stage=Stage.RCPT, suppressions=sup)
    assert at_rcpt.action is Action.REJECT


def test_every_controllers_list_is_certain_at_rcpt() -> None:
    sup = (suppression("controller:acme"), suppression("controller:sister"))
    decision = run(MARIE, consented(MARIE), message(), stage=Stage.RCPT, suppressions=sup)
    assert decision.action is Action.REJECT
    assert decision.deciding is not None and decision.deciding.rule == "suppressed"


def test_single_controller_list_is_certain_at_rcpt() -> None:
    sup = (suppression("controller:acme"),)
    decision = run(
        MARIE, consented(MARIE), message(), stage=Stage.RCPT, policy=SINGLE, suppressions=sup
    )
    assert decision.action is Action.REJECT


def test_consent_to_another_controller_is_not_refused_at_rcpt() -> None:
    record = consented(MARIE, consent_controller="sister")
    assert run(MARIE, record, message(), stage=Stage.RCPT).action is Action.FORWARD
    assert run(MARIE, record, message()).action is Action.REJECT


def test_without_envelope_rcpt_keeps_transactional_possible() -> None:
    sup = (suppression("global"),)
    decision = run(MARIE, consented(MARIE), stage=Stage.RCPT, no_message=True, suppressions=sup)
    assert decision.action is Action.FORWARD
    with_envelope = run(MARIE, consented(MARIE), message(), stage=Stage.RCPT, suppressions=sup)
    assert with_envelope.action is Action.REJECT


def test_transactional_envelope_at_rcpt_passes_global_suppression() -> None:
    sup = (suppression("global"),)
    msg = message(mail_from="alerts@acme.fr")
    assert run(MARIE, None, msg, stage=Stage.RCPT, suppressions=sup).action is Action.FORWARD


def test_rcpt_decisions_carry_no_rewrite_and_no_records() -> None:
    decision = run(PAUL, prospect(PAUL), message(), stage=Stage.RCPT)
    assert decision.action is Action.FORWARD
    assert decision.rewrite is None
    assert not decision.record_first_message and not decision.record_repermission
    assert decision.stage is Stage.RCPT


def test_inactive_customer_refused_at_rcpt() -> None:
    record = customer(MARIE, last_purchase=date(2020, 1, 1))
    decision = run(MARIE, record, message(), stage=Stage.RCPT)
    assert decision.action is Action.REJECT
    assert decision.deciding is not None and decision.deciding.rule == "customer-inactive"


def test_data_without_message_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="message facts"):
        decide(RecipientFacts(address=MARIE), None, POLICY, TODAY, Stage.DATA)


def test_precedence() -> None:
    def finding(action: Action) -> Finding:
        return Finding(rule="x", action=action, reason="r")

    assert resolve_action([]) is Action.FORWARD
    assert resolve_action([finding(Action.REWRITE), finding(Action.FORWARD)]) is Action.REWRITE
    assert resolve_action([finding(Action.REWRITE), finding(Action.REJECT)]) is Action.REJECT
    assert resolve_action([finding(Action.TEMPFAIL), finding(Action.REJECT)]) is Action.TEMPFAIL


def test_all_findings_are_kept_in_rule_order() -> None:
    record = consented(MARIE, consent_method=ConsentMethod.PRE_TICKED)
    decision = run(
        "postmaster@gmail.com", record, message(subject="Unpaid invoice"),
        suppressions=(suppression("global"),),
    )  # fmt: skip
    ids = decision.rule_ids
    assert ids[:3] == ("suppressed", "operational-address", "consent-invalid")
    assert "deceptive-subject" in ids
    assert decision.deciding is not None and decision.deciding.rule == "suppressed"


def test_explain_lists_every_rule_once() -> None:
    result = evaluation(MARIE, consented(MARIE))
    lines = explain_lines(result)
    assert lines[0].startswith("decision: rewrite at data")
    assert any(line.startswith("  hit   footer") for line in lines)
    assert any(line.startswith("  miss  suppressed") for line in lines)
    assert len(result.verdicts) == len(RULES)


def test_facts_name_what_was_used_without_the_address() -> None:
    decision = run(PAUL, prospect(PAUL), message(targets=("finance",), campaign_id="x"))
    facts = decision.facts
    assert facts["kind"] == "b2b" and facts["country"] == "FR" and facts["basis"] == "b2b-relevance"
    assert facts["targets"] == "finance" and facts["job_function"] == "finance"
    assert len(facts["policy_version"]) == 12
    assert all(PAUL not in value for value in facts.values())


def test_a_bare_transactional_mail_from_needs_a_vouching_session() -> None:
    """Issue 11: one MAIL FROM line from any allowed client turned the footer and every
    consent check off. A senders match now counts only from sender_networks or after AUTH."""
    sup = (suppression("global"),)
    outsider = message(mail_from="alerts@acme.fr", client_ip="198.51.100.7")
    assert run(MARIE, None, outsider, stage=Stage.RCPT, suppressions=sup).action is Action.REJECT
    assert run(MARIE, None, outsider).action is Action.REJECT  # no consent: checked now
    authenticated = message(mail_from="alerts@acme.fr", client_ip="198.51.100.7", auth_user="x")
    assert run(MARIE, None, authenticated).rule_ids == ("not-commercial",)
    listed = message(mail_from="alerts@acme.fr")  # from 192.0.2.10, in sender_networks
    assert run(MARIE, None, listed).rule_ids == ("not-commercial",)
