"""The relay's memory: per-recipient copies are built and forwarded one at a time (issue 11:
O(message), not O(message x recipients)), and an ended session is freed at once."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
import uvloop

from proxy.settings import Settings
from proxy.smtp.server import RelaySMTP
from tests.conftest import core_relay
from tests.e2e.conftest import FullRelayFactory, make_message
from tests.e2e.smtp_client import RawClient
from tests.unit.policy_factory import consented
from tests.waiting import wait_until

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


async def sessions_freed_scenario(settings: Settings) -> None:
    """A session that ended leaves no reference cycle: its objects go when its last reference
    does, not at the next sweep of the cyclic collector (8-10 ms stalls of the event loop every
    few thousand connections, when each session left ~60 objects in cycles)."""

    def live_sessions() -> int:
        return sum(isinstance(candidate, RelaySMTP) for candidate in gc.get_objects())

    app = core_relay(settings)
    await app.start()
    gc.collect()
    gc.disable()
    try:
        for index in range(3):  # whole sessions: MAIL, RCPT, DATA, QUIT
            message = EmailMessage()
            message["From"], message["To"] = "a@example.com", "b@example.org"
            message.set_content(f"message {index}")
            await aiosmtplib.send(message, hostname="127.0.0.1", port=app.smtp_port)
        for _ in range(2):  # clients that vanish mid-transaction: the task is cancelled
            client = await RawClient.connect(app.smtp_port)
            await client.command("MAIL FROM:<a@example.com>")
            await client.close()
        await wait_until(lambda: live_sessions() == 0, "no RelaySMTP left", detail=live_sessions)
    finally:
        gc.enable()
        await app.stop(grace=1.0)


async def test_ended_sessions_are_freed_without_the_cyclic_collector(
    make_settings: Callable[..., Settings],
) -> None:
    await sessions_freed_scenario(make_settings())


def test_ended_sessions_are_freed_without_the_cyclic_collector_on_uvloop(
    make_settings: Callable[..., Settings],
) -> None:
    """uvloop is what `serve` runs on (its handles and transports are its own)."""
    uvloop.run(sessions_freed_scenario(make_settings()))
