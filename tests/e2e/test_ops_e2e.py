"""Operations end to end: exact metric deltas, readiness across a database outage, audit trail."""

from __future__ import annotations

import json

import pytest

from proxy.model import Action, Basis
from tests.conftest import stored_audit
from tests.e2e.conftest import SENDER, FullRelay, FullRelayFactory, make_message
from tests.e2e.delivered import deliver_to, unsubscribe_links
from tests.unit.policy_factory import consented, prospect

pytestmark = pytest.mark.postgres

MARIE = "marie@gmail.com"
JEANNE = "jeanne@gmail.com"
PAUL = "paul.martin@acme-industrie.fr"
FAMILIES = (
    "prospect_relay_messages_total",
    "prospect_relay_recipients_total",
    "prospect_relay_smtp_replies_total",
    "prospect_relay_unsubscribes_total",
    "prospect_relay_suppression_entries",
)

Sample = tuple[str, tuple[tuple[str, str], ...]]


def _changes(before: dict[Sample, float], after: dict[Sample, float]) -> dict[Sample, float]:
    return {
        key: value - before.get(key, 0.0)
        for key, value in after.items()
        if key[0] in FAMILIES and value != before.get(key, 0.0)
    }


async def _known_traffic(relay: FullRelay) -> None:
    """Accepted (rewrite), refused at RCPT, refused at DATA, one-click, then suppressed."""
    url, _ = unsubscribe_links(await deliver_to(relay, MARIE))
    assert not (await relay.send(JEANNE)).accepted
    refused = await relay.send(PAUL, make_message(PAUL, headers={"X-Prospect-Targets": "lunch"}))
    assert refused.data is not None and refused.data.startswith("550")
    status, _ = await relay.post_form(relay.local_url(url), {"List-Unsubscribe": "One-Click"})
    assert status == 200
    assert (await relay.send(MARIE)).rcpt[MARIE].startswith("550 5.7.1 suppressed")


async def test_metrics_count_exactly_what_flowed(full_relay: FullRelayFactory) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE), prospect(PAUL)])
    before = await relay.scrape()

    await _known_traffic(relay)

    changes = _changes(before, await relay.scrape())
    assert changes == {
        ("prospect_relay_messages_total", (("action", "rewrite"),)): 1.0,
        ("prospect_relay_messages_total", (("action", "reject"),)): 3.0,
        ("prospect_relay_recipients_total", (("action", "rewrite"), ("rule", "footer"))): 1.0,
        (
            "prospect_relay_recipients_total",
            (("action", "reject"), ("rule", "b2c-no-consent")),
        ): 1.0,
        (
            "prospect_relay_recipients_total",
            (("action", "reject"), ("rule", "b2b-not-relevant")),
        ): 1.0,
        ("prospect_relay_recipients_total", (("action", "reject"), ("rule", "suppressed"))): 1.0,
        # MAIL+RCPT+DATA, MAIL+RCPT(550), MAIL+RCPT+DATA(550), MAIL+RCPT(550)
        ("prospect_relay_smtp_replies_total", (("code_class", "2xx"),)): 7.0,
        ("prospect_relay_smtp_replies_total", (("code_class", "5xx"),)): 3.0,
        ("prospect_relay_unsubscribes_total", (("origin", "one-click"),)): 1.0,
        ("prospect_relay_suppression_entries", ()): 1.0,
    }


async def test_readiness_follows_the_database(full_relay: FullRelayFactory) -> None:
    relay = await full_relay()
    assert (await relay.get("/healthz"))[0] == 200
    status, body = await relay.get("/readyz", ops=True)
    assert status == 200, body
    assert json.loads(body)["checks"] == {"database": "ok", "policy": "ok", "delivery": "ok"}

    async with relay.database_down():
        status, body = await relay.get("/readyz", ops=True)
        assert status == 503, body
        report = json.loads(body)
        assert report["failed"] == ["database"]
        assert report["checks"]["database"].startswith("failed")
        assert (await relay.get("/healthz"))[0] == 200  # alive: no restart for an outage

    status, body = await relay.get("/readyz", ops=True)
    assert status == 200, body


async def test_every_decision_is_an_audit_record_with_its_rules(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE), prospect(PAUL)])

    await _known_traffic(relay)
    await relay.flush_audit()

    records = await stored_audit(relay.engine)
    by_recipient: dict[str, list[tuple[Action, tuple[str, ...]]]] = {}
    for record in records:
        by_recipient.setdefault(record.recipient_hash, []).append((record.action, record.rule_ids))
        assert record.sender_hash == relay.store.address_hash(SENDER)
        assert record.instance == "relay-1" and record.queue_id
    marie = by_recipient[relay.store.address_hash(MARIE)]
    assert [action for action, _ in marie] == [Action.REWRITE, Action.REJECT]
    assert "footer" in marie[0][1] and "list-unsubscribe" in marie[0][1]
    assert marie[1][1][0] == "suppressed"
    [(action, rules)] = by_recipient[relay.store.address_hash(JEANNE)]
    assert action is Action.REJECT and rules[0] == "b2c-no-consent"
    [(action, rules)] = by_recipient[relay.store.address_hash(PAUL)]
    assert action is Action.REJECT and "b2b-not-relevant" in rules
    assert len(records) == 4
    rewrite = next(r for r in records if r.action is Action.REWRITE)
    assert rewrite.basis is Basis.CONSENT and rewrite.country == "FR"
    # No register entry, gmail.com gives no country: the STRICT profile, recorded as none.
    [unknown] = [r for r in records if r.recipient_hash == relay.store.address_hash(JEANNE)]
    assert unknown.country is None
    for record in records:  # hashes only: no clear-text address anywhere in a record
        text = repr(record)
        assert not any(a in text for a in (MARIE, JEANNE, PAUL, SENDER))
