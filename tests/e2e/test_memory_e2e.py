"""Issue 11: per-recipient copies are built and forwarded one at a time, so the relay's memory
for one message is O(message), not O(message x recipients)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from tests.e2e.conftest import FullRelayFactory, make_message
from tests.unit.policy_factory import consented

pytestmark = pytest.mark.postgres

RECIPIENTS = [f"reader{index:02d}@gmail.com" for index in range(60)]


async def test_peak_memory_does_not_grow_with_the_recipients(
    full_relay: FullRelayFactory, tmp_path: Path
) -> None:
    relay = await full_relay(upstream={"host": None})  # the Maildir outbox: copies go to disk
    await relay.store.upsert_contacts([consented(address) for address in RECIPIENTS])
    paragraph = "<p>" + "Nouveautés : presses, outillage, remise de 15 %. " * 20 + "</p>\n"
    message = make_message(RECIPIENTS[0], html="<html><body>" + paragraph * 300 + "</body></html>")
    assert len(message) > 300_000
    assert (await relay.send(RECIPIENTS[0], message)).accepted  # warm caches and pools

    tracemalloc.start()
    try:
        result = await relay.send(RECIPIENTS, message)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.accepted, result
    delivered = list((tmp_path / "outbox" / "new").iterdir())
    assert len(delivered) == 1 + len(RECIPIENTS)
    # All 60 copies at once: about 80 x the message (measured before the change); one at a
    # time: about 9 x, whatever the number of recipients.
    assert peak < 25 * len(message), (peak, len(message))
