"""AUTH from outside the allowed networks (issue 11 items 2 and 4): a few failures per
session then 421, each failure logged with the user name masked and counted; a session that
authenticates no longer counts against the slots outsiders may hold."""

from __future__ import annotations

import base64
import logging
import ssl
from collections.abc import Callable
from typing import Any

import pytest

from proxy import replies
from proxy.lifecycle import RelayApp
from proxy.settings import Settings
from proxy.smtp.auth import hash_password
from tests.conftest import StartRelay
from tests.e2e.smtp_client import OUTSIDER, RawClient


@pytest.fixture
def auth_relay(
    start_relay: StartRelay,
    make_settings: Callable[..., Settings],
    tls_files: dict[str, str],
) -> Callable[..., Any]:
    async def start(**smtp: Any) -> RelayApp:
        settings = make_settings(
            smtp={
                **tls_files,
                "allowed_networks": ["127.0.0.1/32"],
                "users": {"tool": hash_password("s3cret", n=2**10)},
                "auth_failure_delay": 0,
                **smtp,
            }
        )
        return await start_relay(settings)

    return start


async def tls_session(port: int, context: ssl.SSLContext) -> RawClient:
    """An outsider's session after EHLO, STARTTLS and EHLO again."""
    client = await RawClient.connect(port, source=OUTSIDER)
    assert (await client.command("STARTTLS")).startswith("220")
    await client.writer.start_tls(context, server_hostname="relay.test")
    assert "AUTH" in await client.command("EHLO client.test")
    return client


def plain(user: str, password: str) -> str:
    return "AUTH PLAIN " + base64.b64encode(f"\0{user}\0{password}".encode()).decode()


async def test_auth_failures_end_the_session_with_421(
    auth_relay: Any, client_tls: ssl.SSLContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="proxy.smtp.server")
    app = await auth_relay(max_auth_failures=3)
    client = await tls_session(app.smtp_port, client_tls)
    invalid = replies.AUTH_INVALID.line
    assert await client.command(plain("admin@example.org", "guess1")) == invalid
    assert await client.command(plain("tool", "guess2")) == invalid
    assert await client.command(plain("root", "guess3")) == invalid
    assert await client.reply() == replies.TOO_MANY_AUTH_FAILURES.line
    assert await client.reader.read() == b""
    await client.close()
    failures = app.metrics.registry.get_sample_value("prospect_relay_smtp_auth_failures_total")
    assert failures == 3
    logged = [r.getMessage() for r in caplog.records if "AUTH failed" in r.getMessage()]
    assert len(logged) == 3
    assert "a***@example.org" in logged[0] and OUTSIDER in logged[0]
    assert "t***" in logged[1] and "r***" in logged[2]
    text = "\n".join(logged)
    assert "admin@" not in text and "tool" not in text and "root" not in text
    assert "guess" not in text


async def test_good_password_after_a_failure_still_works(
    auth_relay: Any, client_tls: ssl.SSLContext
) -> None:
    app = await auth_relay(max_auth_failures=2)
    client = await tls_session(app.smtp_port, client_tls)
    assert (await client.command(plain("tool", "typo"))).startswith("535")
    assert (await client.command(plain("tool", "s3cret"))).startswith("235")
    assert (await client.command("MAIL FROM:<tool@example.com>")).startswith("250")
    await client.close()


async def test_authenticated_session_frees_its_outside_slot(
    auth_relay: Any, client_tls: ssl.SSLContext
) -> None:
    """Outsiders may hold 2 of 3 slots; one that authenticates counts as trusted, so two more
    outsiders fit (before, the authenticated client kept an outside slot)."""
    app = await auth_relay(max_connections=4, reserved_connections=2, max_connections_per_ip=10)
    authenticated = await tls_session(app.smtp_port, client_tls)
    assert (await authenticated.command(plain("tool", "s3cret"))).startswith("235")
    others = [await RawClient.connect(app.smtp_port, source=OUTSIDER) for _ in range(2)]
    reader_line = await RawClient.connect_line(app.smtp_port, source=OUTSIDER)
    assert reader_line == replies.TOO_MANY_FROM_OUTSIDE.line
    for client in [authenticated, *others]:
        await client.close()
