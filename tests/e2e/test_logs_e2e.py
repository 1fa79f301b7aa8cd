"""No clear-text address in any log line across varied traffic, with production logging."""

from __future__ import annotations

import json

import pytest

from proxy.logs import DECISION_LOGGER
from proxy.model import SuppressionOrigin
from tests.e2e.conftest import RELAY_HOSTNAME, SENDER, FullRelayFactory, make_message
from tests.e2e.delivered import (
    deliver_to,
    mailto_parts,
    objection,
    unsubscribe_links,
)
from tests.e2e.log_capture import LogCapture
from tests.unit.policy_factory import consented, customer, prospect

pytestmark = pytest.mark.postgres

MARIE = "Marie.Curie@gmail.com"  # mixed case: a case-insensitive search must not find it
SOPHIE = "sophie.germain@gmail.com"
LUC = "luc.besson@orange.fr"
JEANNE = "jeanne.moreau@gmail.com"
PAUL = "paul.martin@acme-industrie.fr"
ADDRESSES = (MARIE, SOPHIE, LUC, JEANNE, PAUL, SENDER)


async def test_no_clear_text_address_in_any_log_line(
    full_relay: FullRelayFactory,
    log_lines: LogCapture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts(
        [
            consented(MARIE),
            consented(SOPHIE),
            customer(LUC),
            prospect(PAUL),
        ]
    )
    # Accepted and rewritten; then unsubscribed by one-click, the page, and mailto.
    url, _ = unsubscribe_links(await deliver_to(relay, MARIE))
    assert (await relay.post_form(relay.local_url(url), {"List-Unsubscribe": "One-Click"}))[
        0
    ] == 200
    url, mailto = unsubscribe_links(await deliver_to(relay, SOPHIE))
    assert (await relay.get(relay.local_url(url).removeprefix(relay.web_base)))[0] == 200
    assert (await relay.post_form(relay.local_url(url), {"confirm": "1"}))[0] == 200
    _, mailto = unsubscribe_links(
        await deliver_to(relay, LUC, headers={"X-Prospect-Product": "running"})
    )
    address, subject = mailto_parts(mailto)
    assert (await relay.send(address, objection(address, subject), sender=LUC)).accepted
    assert (await relay.send(address, objection(address, "stop"), sender=LUC)).data
    # Refused at RCPT (suppressed, no consent), at DATA, and a mixed message with a DSN.
    await relay.send([MARIE, JEANNE, SOPHIE])
    await relay.send(PAUL, make_message(PAUL, headers={"X-Prospect-Targets": "lunch"}))
    await relay.store.upsert_contacts([consented(JEANNE)])
    mixed = await relay.send(
        [JEANNE, PAUL], make_message(JEANNE, headers={"X-Prospect-Targets": "lunch"})
    )
    assert mixed.accepted
    async with relay.database_down():  # warnings and a 451
        assert (await relay.send(JEANNE)).rcpt[JEANNE].startswith("451")
    await relay.store.add_suppression(address=PAUL, origin=SuppressionOrigin.MANUAL)
    await relay.flush_audit()

    captured = capsys.readouterr()
    lines = log_lines.lines() + (captured.out + captured.err).splitlines()
    decisions = [json.loads(line) for line in log_lines.json_lines()]
    decisions = [d for d in decisions if d["logger"] == DECISION_LOGGER]
    assert len(decisions) >= 8
    assert all(d["queue_id"] for d in decisions)
    masked = {r["address"] for d in decisions for r in d["recipients"]}
    assert {"M***@gmail.com", "j***@gmail.com", "p***@acme-industrie.fr"} <= masked
    assert f"u***@{RELAY_HOSTNAME}" in masked  # the mailto objections
    assert any("objection recorded: origin=mailto" in line for line in lines)
    assert any("objection recorded: origin=page" in line for line in lines)
    leaks = [
        (address, line)
        for line in lines
        for address in ADDRESSES
        if address.lower() in line.lower()
    ]
    assert leaks == []
