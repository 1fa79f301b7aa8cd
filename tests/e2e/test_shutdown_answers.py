"""Shutdown and waits answer: 421 when the grace runs out, 451 4.4.5 when the pool stays busy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable

from proxy import replies
from proxy.forward import SmtpForwarder
from proxy.metrics import Metrics
from proxy.settings import Settings, UpstreamSettings
from tests.conftest import RecordingUpstream, core_relay
from tests.e2e.smtp_client import RawClient
from tests.waiting import wait_until

MESSAGE = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nbody\r\n"


async def test_sigterm_with_grace_shorter_than_the_upstream_answers_421(
    make_settings: Callable[..., Settings], recording_upstream: RecordingUpstream
) -> None:
    recording_upstream.behaviour.delay = 30  # far beyond the grace
    app = core_relay(
        make_settings(
            smtp={"shutdown_grace": 0.2},
            upstream={"host": recording_upstream.host, "port": recording_upstream.port},
        )
    )
    serving = asyncio.create_task(app.serve_forever())
    port = await wait_until(
        lambda: app.smtp_port, "the relay to listen", ignore=(RuntimeError,), every=0.01
    )
    client = await RawClient.connect(port)
    assert (await client.command("MAIL FROM:<a@example.com>")).startswith("250")
    assert (await client.command("RCPT TO:<b@example.org>")).startswith("250")
    assert (await client.command("DATA")).startswith("354")
    client.send(MESSAGE + b".\r\n")
    await wait_until(lambda: app.in_flight, "the message to be in flight")
    assert app.in_flight == 1

    os.kill(os.getpid(), signal.SIGTERM)
    reply = await client.reply()  # was: the connection closed without a word

    assert reply == replies.SHUTTING_DOWN.line
    await asyncio.wait_for(serving, 10)
    assert serving.exception() is None
    assert recording_upstream.messages == []
    await client.close()


async def test_waiting_for_a_pooled_connection_ends_in_451_within_the_timeout(
    recording_upstream: RecordingUpstream,
) -> None:
    recording_upstream.behaviour.delay = 30  # the first message holds the only connection
    settings = UpstreamSettings(
        host=recording_upstream.host, port=recording_upstream.port, timeout=3, pool_size=1
    )
    forwarder = SmtpForwarder(settings, local_hostname="relay.test", metrics=Metrics())
    # Both start in the same loop turn: the second waits for the pool from before the first
    # has even connected, so its wait runs out before the first's own timeout does (the
    # first's connect to this in-loop upstream would have to stall for 3 s to race it).
    first = asyncio.create_task(
        forwarder.forward("a@example.com", ["b@example.org"], MESSAGE, queue_id="q1")
    )
    second = asyncio.create_task(
        forwarder.forward("a@example.com", ["c@example.org"], MESSAGE, queue_id="q2")
    )

    waited = await second

    assert waited.reply == replies.upstream_busy("q2")
    assert waited.refused == {"c@example.org": waited.reply}
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    await forwarder.close()
