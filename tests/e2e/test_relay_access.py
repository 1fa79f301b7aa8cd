"""Access control: allowed networks, STARTTLS (trustme certificates), AUTH, limits."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest

from proxy import replies
from proxy.lifecycle import RelayApp
from proxy.settings import Settings
from proxy.smtp.auth import hash_password
from tests.conftest import RecordingUpstream, StartRelay
from tests.e2e.smtp_client import RawClient


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "tool@example.com"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "Hi"
    msg.set_content("Hi.\n")
    return msg


@pytest.fixture
async def tls_relay(
    start_relay: StartRelay,
    make_settings: Callable[..., Settings],
    recording_upstream: RecordingUpstream,
    tls_files: dict[str, str],
) -> RelayApp:
    """Only 10.0.0.0/8 may relay without AUTH, so 127.0.0.1 must authenticate."""
    smtp: dict[str, Any] = {
        **tls_files,
        "allowed_networks": ["10.0.0.0/8"],
        "users": {"tool": hash_password("s3cret", n=2**10)},
    }
    settings = make_settings(
        smtp=smtp, upstream={"host": recording_upstream.host, "port": recording_upstream.port}
    )
    return await start_relay(settings)


async def test_client_outside_allowed_networks_without_auth_is_refused(
    start_relay: StartRelay,
    make_settings: Callable[..., Settings],
    recording_upstream: RecordingUpstream,
) -> None:
    settings = make_settings(
        smtp={"allowed_networks": ["10.0.0.0/8"]},
        upstream={"host": recording_upstream.host, "port": recording_upstream.port},
    )
    app = await start_relay(settings)
    client = await RawClient.connect(app.smtp_port)
    assert await client.command("MAIL FROM:<a@example.com>") == replies.RELAY_DENIED.line
    assert (await client.command("RCPT TO:<b@example.org>")).startswith("503")
    await client.close()
    assert recording_upstream.messages == []


async def test_auth_required_when_auth_is_possible(tls_relay: RelayApp) -> None:
    client = await RawClient.connect(tls_relay.smtp_port)
    assert await client.command("MAIL FROM:<a@example.com>") == replies.AUTH_REQUIRED.line
    await client.close()


async def test_auth_refused_before_tls(tls_relay: RelayApp) -> None:
    client = await RawClient.connect(tls_relay.smtp_port)
    ehlo = await client.command("EHLO client.test")
    assert "STARTTLS" in ehlo and "AUTH" not in ehlo
    token = base64.b64encode(b"\0tool\0s3cret").decode()
    assert (await client.command(f"AUTH PLAIN {token}")).startswith("538 5.7.11")
    await client.close()


async def test_starttls_then_auth_then_relay(
    tls_relay: RelayApp, recording_upstream: RecordingUpstream, client_tls: ssl.SSLContext
) -> None:
    smtp = aiosmtplib.SMTP(
        hostname="127.0.0.1", port=tls_relay.smtp_port, tls_context=client_tls, start_tls=True
    )
    await smtp.connect()
    await smtp.ehlo()
    assert "auth" in smtp.esmtp_extensions
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await smtp.login("tool", "wrong")
    await smtp.auth_login("tool", "s3cret")
    _, reply = await smtp.send_message(_message())
    await smtp.quit()
    assert reply.startswith("2.0.0")
    [received] = recording_upstream.messages
    assert b"with ESMTPA id" in received.content


async def test_auth_plain_after_tls(
    tls_relay: RelayApp, recording_upstream: RecordingUpstream, client_tls: ssl.SSLContext
) -> None:
    _, reply = await aiosmtplib.send(
        _message(),
        hostname="127.0.0.1",
        port=tls_relay.smtp_port,
        start_tls=True,
        tls_context=client_tls,
        username="tool",
        password="s3cret",
    )
    assert reply.startswith("2.0.0")
    assert len(recording_upstream.messages) == 1


async def test_connection_limit_gives_421(
    start_relay: StartRelay, make_settings: Callable[..., Settings]
) -> None:
    app = await start_relay(make_settings(smtp={"max_connections": 1}))
    first = await RawClient.connect(app.smtp_port)
    reader, writer = await asyncio.open_connection("127.0.0.1", app.smtp_port)
    line = await asyncio.wait_for(reader.readline(), 5)
    assert line.startswith(b"421 4.7.0")
    writer.close()
    assert (await first.command("NOOP")).startswith("250")
    await first.close()
