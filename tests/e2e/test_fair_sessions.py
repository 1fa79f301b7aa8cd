"""Fair sessions (issue 11 item 2): hostile clients from outside the allowed networks cannot
hold slots, starve the allowed clients or make the open-sessions gauge lie.

The relay allows 127.0.0.1/32 only; hostile clients connect from OUTSIDER (127.0.0.2).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest
import uvloop

from proxy import replies
from proxy.lifecycle import RelayApp
from proxy.settings import Settings
from tests.conftest import StartRelay, core_relay
from tests.e2e.smtp_client import OUTSIDER, RawClient
from tests.waiting import wait_until

ALLOWED = "127.0.0.1"


@pytest.fixture
def relay_with(
    start_relay: StartRelay, make_settings: Callable[..., Settings]
) -> Callable[..., Any]:
    async def start(**smtp: Any) -> RelayApp:
        settings = make_settings(smtp={"allowed_networks": ["127.0.0.1/32"], **smtp})
        return await start_relay(settings)

    return start


def open_sessions(app: RelayApp) -> float | None:
    return app.metrics.registry.get_sample_value("prospect_relay_smtp_sessions_open")


def refused(app: RelayApp, reason: str) -> float | None:
    return app.metrics.registry.get_sample_value(
        "prospect_relay_smtp_sessions_refused_total", {"reason": reason}
    )


def sessions_seen(app: RelayApp) -> float:
    """Connections the relay has admitted or refused so far."""
    registry = app.metrics.registry
    admitted = registry.get_sample_value("prospect_relay_smtp_sessions_total") or 0.0
    refusals = [
        registry.get_sample_value("prospect_relay_smtp_sessions_refused_total", {"reason": reason})
        or 0.0
        for reason in ("full", "outside_full", "per_ip")
    ]
    return admitted + sum(refusals)


async def until_open_sessions(app: RelayApp, expected: int) -> None:
    """Wait for the relay to have handled what the test did."""
    await wait_until(
        lambda: open_sessions(app) == expected,
        f"{expected} open sessions",
        every=0.01,
        detail=lambda: f"open: {open_sessions(app)}",
    )


async def first_line(port: int, source: str) -> str:
    """Connect from `source`, read the greeting (or refusal) line, close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    return line.decode().rstrip("\r\n")


def outsider_socket(port: int) -> socket.socket:
    sock = socket.socket()
    sock.bind((OUTSIDER, 0))
    sock.connect(("127.0.0.1", port))
    return sock


async def closed_connections_scenario(settings: Settings) -> None:
    """Bare connect-and-close, command-then-close and half-close: each slot comes back at once
    (on uvloop they were held until idle_timeout, 300 s, and the gauge stayed up)."""
    app = core_relay(settings)
    await app.start()
    try:
        for _ in range(6):  # closed before the relay even greets
            outsider_socket(app.smtp_port).close()
        for _ in range(6):
            sock = outsider_socket(app.smtp_port)
            sock.sendall(b"EHLO client.test\r\n")
            sock.close()
        await wait_until(
            lambda: sessions_seen(app) == 12,
            "12 sessions admitted or refused",
            every=0.01,
            detail=lambda: f"seen: {sessions_seen(app)}",
        )
        await until_open_sessions(app, 0)
        for _ in range(6):
            sock = outsider_socket(app.smtp_port)
            sock.sendall(b"EHLO client.test\r\n")
            await until_open_sessions(app, 1)
            sock.shutdown(socket.SHUT_WR)
            await until_open_sessions(app, 0)
            sock.close()
        clients = [await RawClient.connect(app.smtp_port, source=OUTSIDER) for _ in range(4)]
        assert open_sessions(app) == 4
        for client in clients:
            await client.close()
        await until_open_sessions(app, 0)
    finally:
        await app.stop(grace=1.0)


@pytest.fixture
def four_slots(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        smtp={"allowed_networks": ["127.0.0.1/32"], "max_connections": 4, "reserved_connections": 0}
    )


async def test_closed_connections_free_their_slot_at_once(four_slots: Settings) -> None:
    await closed_connections_scenario(four_slots)


def test_closed_connections_free_their_slot_at_once_on_uvloop(four_slots: Settings) -> None:
    """uvloop is what `serve` runs on, and where the slots leaked."""
    uvloop.run(closed_connections_scenario(four_slots))


async def test_refused_connections_are_not_counted_open(relay_with: Any) -> None:
    app = await relay_with(max_connections=1, reserved_connections=0)
    client = await RawClient.connect(app.smtp_port, source=OUTSIDER)
    for _ in range(3):
        assert (await first_line(app.smtp_port, OUTSIDER)).startswith("421 4.7.0 Too many")
    assert open_sessions(app) == 1
    assert refused(app, "full") == 3
    await client.close()
    await until_open_sessions(app, 0)


async def test_per_address_cap_for_outside_clients(relay_with: Any) -> None:
    app = await relay_with(max_connections=20, max_connections_per_ip=2)
    held = [await RawClient.connect(app.smtp_port, source=OUTSIDER) for _ in range(2)]
    assert await first_line(app.smtp_port, OUTSIDER) == replies.TOO_MANY_FROM_ADDRESS.line
    assert refused(app, "per_ip") == 1
    # Another outside address and the allowed client are not affected.
    assert (await first_line(app.smtp_port, "127.0.0.3")).startswith("220")
    allowed = [await RawClient.connect(app.smtp_port, source=ALLOWED) for _ in range(3)]
    for client in [*held, *allowed]:
        await client.close()


async def test_outsiders_cannot_take_the_reserved_slots(relay_with: Any) -> None:
    """An outsider holding every slot it may hold leaves the reserved ones to allowed clients."""
    app = await relay_with(max_connections=6, reserved_connections=2, max_connections_per_ip=10)
    hostile = [await RawClient.connect(app.smtp_port, source=OUTSIDER) for _ in range(4)]
    assert await first_line(app.smtp_port, OUTSIDER) == replies.TOO_MANY_FROM_OUTSIDE.line
    assert refused(app, "outside_full") == 1
    allowed = [await RawClient.connect(app.smtp_port, source=ALLOWED) for _ in range(2)]
    assert await allowed[0].command("MAIL FROM:<tool@example.com>") == replies.SENDER_OK.line
    assert await first_line(app.smtp_port, ALLOWED) == replies.TOO_MANY_CONNECTIONS.line
    assert open_sessions(app) == 6
    for client in [*hostile, *allowed]:
        await client.close()
    await until_open_sessions(app, 0)


async def test_session_without_mail_is_closed_after_mail_timeout(relay_with: Any) -> None:
    app = await relay_with(mail_timeout=0.3)
    client = await RawClient.connect(app.smtp_port, source=OUTSIDER)
    assert await client.reply() == replies.NO_MAIL_IN_TIME.line
    assert await client.reader.read() == b""
    await client.close()
    await until_open_sessions(app, 0)


async def test_mail_timeout_spares_a_session_that_sent_mail(relay_with: Any) -> None:
    """The deadline is for the first MAIL: a client idle after its transaction keeps its
    session (up to idle_timeout)."""
    app = await relay_with(mail_timeout=2.0)
    client = await RawClient.connect(app.smtp_port, source=ALLOWED)
    assert await client.command("MAIL FROM:<tool@example.com>") == replies.SENDER_OK.line
    assert (await client.command("RSET")).startswith("250")
    await asyncio.sleep(2.5)
    assert await client.command("NOOP") == "250 OK"
    await client.close()


async def test_session_time_limit(relay_with: Any) -> None:
    app = await relay_with(max_session_time=0.5)
    client = await RawClient.connect(app.smtp_port, source=ALLOWED)
    assert await client.command("MAIL FROM:<tool@example.com>") == replies.SENDER_OK.line
    assert await client.reply() == replies.SESSION_TIME_LIMIT.line
    assert await client.reader.read() == b""
    await client.close()
    await until_open_sessions(app, 0)
