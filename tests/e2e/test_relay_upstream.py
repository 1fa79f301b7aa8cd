"""Upstream faults seen by the client: nothing is lost, every refusal reaches the sender."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from proxy.lifecycle import RelayApp
from proxy.settings import Settings
from tests.conftest import RecordingUpstream, StartRelay


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "alice@example.com"
    msg["To"] = "bob@example.org, carol@example.org"
    msg["Subject"] = "Offer"
    msg.set_content("Hello.\n")
    return msg


async def _send(port: int, recipients: list[str] | None = None) -> tuple[dict, str]:  # type: ignore[type-arg]
    return await aiosmtplib.send(
        _message(),
        hostname="127.0.0.1",
        port=port,
        sender="alice@example.com",
        recipients=recipients or ["bob@example.org"],
    )


def _metric(app: RelayApp, name: str, **labels: str) -> float:
    value = app.metrics.registry.get_sample_value(name, labels)
    return value or 0.0


async def test_upstream_down_gives_451_and_writes_nothing(
    start_relay: StartRelay, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    app = await start_relay(make_settings(upstream={"host": "127.0.0.1", "port": dead_port}))
    with pytest.raises(aiosmtplib.SMTPDataError) as err:
        await _send(app.smtp_port)
    assert err.value.code == 451
    assert "4.4.1" in err.value.message
    assert not (tmp_path / "outbox").exists()
    assert _metric(app, "prospect_relay_upstream_errors_total", kind="connect") == 1


@pytest.mark.parametrize(
    ("where", "upstream_reply", "code", "text"),
    [
        ("mail", "451 4.3.2 try later", 451, "4.3.2 upstream: try later"),
        ("data", "452 4.3.1 mailbox full", 452, "4.3.1 upstream: mailbox full"),
        ("data", "554 5.7.1 spam detected", 554, "5.7.1 upstream: spam detected"),
        ("mail", "550 sender blocked", 550, "5.0.0 upstream: sender blocked"),
    ],
)
async def test_upstream_refusals_keep_their_class_and_reason(
    running_relay: RelayApp,
    recording_upstream: RecordingUpstream,
    where: str,
    upstream_reply: str,
    code: int,
    text: str,
) -> None:
    if where == "mail":
        recording_upstream.behaviour.mail_reply = upstream_reply
    else:
        recording_upstream.behaviour.data_reply = upstream_reply
    with pytest.raises(aiosmtplib.SMTPDataError) as err:
        await _send(running_relay.smtp_port)
    assert err.value.code == code
    assert err.value.message.startswith(text)
    assert "[q=" in err.value.message


async def test_one_recipient_refused_upstream_gets_250_and_a_dsn(
    running_relay: RelayApp, recording_upstream: RecordingUpstream
) -> None:
    recording_upstream.behaviour.rcpt_replies["carol@example.org"] = "550 5.1.1 no such user"
    errors, reply = await _send(running_relay.smtp_port, ["bob@example.org", "carol@example.org"])
    assert reply.startswith("2.0.0") and not errors
    message, dsn = recording_upstream.messages
    assert message.rcpt_tos == ["bob@example.org"]
    assert dsn.mail_from == "" and dsn.rcpt_tos == ["alice@example.com"]
    report = email.message_from_bytes(dsn.content, policy=email.policy.default)
    assert report.get_param("report-type") == "delivery-status"
    [status] = [p for p in report.walk() if p.get_content_type() == "message/delivery-status"]
    [_, block] = status.get_payload()
    assert block["Final-Recipient"] == "rfc822; carol@example.org"
    assert block["Status"] == "5.1.1"
    [headers] = [p for p in report.walk() if p.get_content_type() == "text/rfc822-headers"]
    assert "Subject: Offer" in headers.get_content()  # the original headers are attached


async def test_all_recipients_refused_upstream_passes_the_refusal(
    running_relay: RelayApp, recording_upstream: RecordingUpstream
) -> None:
    recording_upstream.behaviour.rcpt_replies["bob@example.org"] = "550 5.1.1 no such user"
    with pytest.raises(aiosmtplib.SMTPDataError) as err:
        await _send(running_relay.smtp_port)
    assert err.value.code == 550
    assert "5.1.1 upstream: no such user" in err.value.message
    assert recording_upstream.messages == []


async def test_upstream_too_slow_gives_451_timeout(
    start_relay: StartRelay,
    make_settings: Callable[..., Settings],
    recording_upstream: RecordingUpstream,
) -> None:
    settings = make_settings(
        upstream={"host": recording_upstream.host, "port": recording_upstream.port, "timeout": 0.3}
    )
    app = await start_relay(settings)
    recording_upstream.behaviour.delay = 1.0
    with pytest.raises(aiosmtplib.SMTPDataError) as err:
        await _send(app.smtp_port)
    assert err.value.code == 451
    assert "4.4.2" in err.value.message


async def test_upstream_reset_after_dot_is_451_counted_and_not_retried(
    running_relay: RelayApp, recording_upstream: RecordingUpstream
) -> None:
    recording_upstream.behaviour.drop_after_dot = True
    with pytest.raises(aiosmtplib.SMTPDataError) as err:
        await _send(running_relay.smtp_port)
    assert err.value.code == 451
    assert "delivery unknown" in err.value.message
    assert len(recording_upstream.messages) == 1  # received once, never sent again
    assert _metric(running_relay, "prospect_relay_upstream_errors_total", kind="after_dot") == 1


async def test_stale_pooled_connection_is_replaced_transparently(
    running_relay: RelayApp, recording_upstream: RecordingUpstream
) -> None:
    await _send(running_relay.smtp_port)
    await _send(running_relay.smtp_port)
    assert recording_upstream.connections == 1  # pooled
    recording_upstream.close_connections()  # the upstream's idle timeout
    _, reply = await _send(running_relay.smtp_port)
    assert reply.startswith("2.0.0")
    assert recording_upstream.connections == 2
    assert len(recording_upstream.messages) == 3
