"""Outbox delivery, the decision log line, graceful shutdown and signals."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import mailbox
import os
import signal
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from proxy.lifecycle import RelayApp
from proxy.logs import DECISION_LOGGER, configure_logging
from proxy.settings import LogSettings, Settings
from tests.conftest import RecordingUpstream, StartRelay, core_relay
from tests.waiting import wait_until


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "jean.dupont@example.com"
    msg["To"] = "marie.curie@example.org"
    msg["Subject"] = "Offre"
    msg.set_content("Bonjour.\n")
    return msg


async def test_outbox_delivery_when_no_upstream(
    start_relay: StartRelay, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    app = await start_relay(make_settings())
    _, reply = await aiosmtplib.send(_message(), hostname="127.0.0.1", port=app.smtp_port)
    assert reply.startswith("2.0.0 Ok: accepted by outbox")
    box = mailbox.Maildir(tmp_path / "outbox", create=False)
    [stored] = list(box)
    assert stored["Return-Path"] == "<jean.dupont@example.com>"
    assert stored["X-Prospect-Relay-Envelope-To"] == "marie.curie@example.org"
    assert stored["X-Prospect-Relay-Queue-Id"] in reply
    assert stored.get_payload() == "Bonjour.\n"
    assert os.listdir(tmp_path / "outbox" / "tmp") == []


async def test_outbox_envelope_keeps_each_recipient_apart(
    start_relay: StartRelay, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    app = await start_relay(make_settings())
    recipients = ['"dupont, jean"@example.org', "marie.curie@example.org"]
    await aiosmtplib.send(
        _message(), hostname="127.0.0.1", port=app.smtp_port, recipients=recipients
    )
    [stored] = list(mailbox.Maildir(tmp_path / "outbox", create=False))
    assert stored.get_all("X-Prospect-Relay-Envelope-To") == recipients


async def test_decision_log_line_is_masked_and_carries_the_queue_id(
    running_relay: RelayApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=DECISION_LOGGER):
        _, reply = await aiosmtplib.send(
            _message(), hostname="127.0.0.1", port=running_relay.smtp_port
        )
    [record] = [r for r in caplog.records if r.name == DECISION_LOGGER]
    decision = record.decision  # type: ignore[attr-defined]
    assert f"[q={decision['queue_id']}]" in reply
    assert decision["mail_from"] == "j***@example.com"
    assert decision["recipients"][0]["address"] == "m***@example.org"
    assert decision["action"] == "forward"
    assert decision["upstream_reply"].startswith("250")
    assert decision["latency_ms"] > 0
    assert "jean.dupont" not in caplog.text and "marie.curie" not in caplog.text


def test_json_log_format_puts_the_decision_on_one_line(tmp_path: Path) -> None:
    stream = io.StringIO()
    pipeline = configure_logging(LogSettings(format="json"), stream=stream)  # type: ignore[arg-type]
    try:
        logging.getLogger(DECISION_LOGGER).info(
            "decision", extra={"queue_id": "abc", "decision": {"queue_id": "abc", "size": 3}}
        )
    finally:
        pipeline.stop()  # writes what is queued
        logging.getLogger().handlers.clear()
    line = json.loads(stream.getvalue())
    assert line["event"] == "decision" and line["queue_id"] == "abc" and line["size"] == 3


async def test_graceful_shutdown_finishes_the_message_in_flight(
    start_relay: StartRelay,
    make_settings: Callable[..., Settings],
    recording_upstream: RecordingUpstream,
) -> None:
    app = core_relay(
        make_settings(upstream={"host": recording_upstream.host, "port": recording_upstream.port})
    )
    await app.start()
    port = app.smtp_port
    recording_upstream.behaviour.delay = 0.5
    sending = asyncio.create_task(aiosmtplib.send(_message(), hostname="127.0.0.1", port=port))
    await wait_until(lambda: app.in_flight, "the message to be in flight")
    assert app.in_flight == 1
    await app.stop(grace=5)
    _, reply = await sending
    assert reply.startswith("2.0.0")
    assert len(recording_upstream.messages) == 1
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_sigterm_stops_serve_forever_cleanly(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    app = core_relay(make_settings())
    serving = asyncio.create_task(app.serve_forever())
    port = await wait_until(
        lambda: app.smtp_port, "the relay to listen", ignore=(RuntimeError,), every=0.01
    )
    _, reply = await aiosmtplib.send(_message(), hostname="127.0.0.1", port=port)
    assert reply.startswith("2.0.0")
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(serving, 10)
    assert serving.exception() is None
    assert len(list(mailbox.Maildir(tmp_path / "outbox", create=False))) == 1
