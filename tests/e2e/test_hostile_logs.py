"""Logs tell no secrets and cannot be flooded: addresses inside upstream replies are masked as
address fields are, and a hostile message leaves bounded lines (production logging, DEBUG)."""

from __future__ import annotations

import json

import pytest

from proxy.logs import DECISION_LOGGER, MAX_MESSAGE
from tests.e2e.conftest import FullRelayFactory
from tests.e2e.hostile_helpers import send_outside
from tests.e2e.log_capture import LogCapture
from tests.hostile import folded, raw_message
from tests.unit.policy_factory import consented

pytestmark = pytest.mark.postgres

MARIE = "marie@gmail.com"


async def test_upstream_reply_addresses_are_masked_in_the_decision_log(
    full_relay: FullRelayFactory,
    log_lines: LogCapture,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE)])
    relay.upstream.behaviour.rcpt_replies[MARIE] = (
        f"550 5.1.1 <{MARIE}>: Recipient address rejected: User unknown"
    )

    result = await relay.send(MARIE)

    assert result.data is not None and result.data.startswith("550 5.1.1 upstream:")
    lines = log_lines.json_lines()
    assert not [line for line in lines if MARIE in line]
    decisions = [json.loads(line) for line in lines]
    [decision] = [d for d in decisions if d["logger"] == DECISION_LOGGER]
    assert "<m***@gmail.com>: Recipient address rejected" in decision["recipients"][0]["reply"]


async def test_a_hostile_message_leaves_bounded_log_lines(
    full_relay: FullRelayFactory,
    log_lines: LogCapture,
) -> None:
    relay = await full_relay(smtp={"allowed_networks": ["127.0.0.1/32"]})
    comment = ["("] * 1500 + ["x"] + [")"] * 1500
    hostile = raw_message(["Subject: stop", folded("To", [*comment, f"<{MARIE}>"])])

    timed = await send_outside(relay, hostile)

    assert timed.transcript.data is not None and timed.transcript.data.startswith("550")
    lines = log_lines.json_lines()
    assert lines and max(len(line) for line in lines) < 2 * MAX_MESSAGE
    assert not [line for line in lines if MARIE in line or "RecursionError" in line]
