"""The web listener under hostile clients (issue 11 item 3): header and body read timeouts,
keep-alive limits, a connection cap, and operations endpoints off the public listener.
Hostile clients connect from 127.0.0.2 over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from proxy.web import ListenerLimits, WebServer, build_web_app
from tests.integration.web_helpers import Web, start_web
from tests.waiting import WAIT, wait_until

OUTSIDER = "127.0.0.2"


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(OUTSIDER, 0))


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes (bounded, generously: the limits under
    test are below a second, and a loaded machine must not turn slowness into a failure)."""
    return await asyncio.wait_for(reader.read(), WAIT)


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[tuple[Web, int]]:
    """The public app on a listener with small limits; returns (web, limited port)."""
    async for web in start_web(tmp_path):
        deps = replace(web.deps, body_timeout=0.5)
        limits = ListenerLimits(
            max_connections=3, header_timeout=0.5, max_requests_per_connection=2
        )
        server = WebServer(build_web_app(deps), limits=limits)
        port = await server.start("127.0.0.1", 0)
        yield web, port
        await server.stop()


async def test_slow_headers_are_cut_off(limited: tuple[Web, int]) -> None:
    """A client trickling its request headers is closed after header_timeout (it was kept
    for aiohttp's default keep-alive, an hour)."""
    _, port = limited
    reader, writer = await connect(port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n")
    await writer.drain()
    for _ in range(3):
        await asyncio.sleep(0.2)
        with contextlib.suppress(ConnectionError):
            writer.write(b"X-Slow: 1\r\n")
    try:
        answer = await closed_by_server(reader)
    except ConnectionResetError:
        # Closed with our last header line unread: the kernel resets instead of a FIN.
        answer = b""
    assert answer == b""
    writer.close()


async def test_idle_keep_alive_is_closed(limited: tuple[Web, int]) -> None:
    _, port = limited
    reader, writer = await connect(port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
    answer = await closed_by_server(reader)  # answered, then closed when idle
    assert answer.startswith(b"HTTP/1.1 200")
    writer.close()


async def test_keep_alive_connection_is_closed_after_its_request_quota(
    limited: tuple[Web, int],
) -> None:
    """Three pipelined requests on one connection with a quota of two: two answers, the
    second saying `Connection: close`, then the server closes (it answered all three,
    each connection forever, before)."""
    _, port = limited
    reader, writer = await connect(port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n" * 3)
    await writer.drain()
    answer = await closed_by_server(reader)
    writer.close()
    assert answer.count(b"HTTP/1.1 200") == 2
    last = answer.rsplit(b"HTTP/1.1 200", 1)[1]
    assert b"Connection: close" in last


async def test_slow_body_gets_408(limited: tuple[Web, int]) -> None:
    web, port = limited
    reader, writer = await connect(port)
    path = f"/u/{web.token()}"
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/x-www-form-urlencoded"
        "\r\nContent-Length: 26\r\n\r\nList-Unsub".encode()
    )
    answer = await asyncio.wait_for(reader.read(20), WAIT)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:40]
    writer.close()
    assert await web.suppressed() == []


async def test_connection_cap_answers_503_and_frees_nothing_it_holds(
    limited: tuple[Web, int],
) -> None:
    _, port = limited
    held = [await connect(port) for _ in range(3)]
    reader, writer = await connect(port)
    answer = await closed_by_server(reader)
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable"), answer[:40]
    writer.close()
    for _, held_writer in held:
        held_writer.close()

    async def served() -> bool:
        reader, writer = await connect(port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n")
        answer = await closed_by_server(reader)
        writer.close()
        return answer.startswith(b"HTTP/1.1 200")

    # Once the held connections are gone, requests are served again.
    await wait_until(served, "a 200 once the held connections are closed")


async def test_operations_endpoints_are_not_on_the_public_listener(web: Web) -> None:
    for path in ("/readyz", "/metrics"):
        async with web.http.get(f"{web.base}{path}") as response:
            assert response.status == 404, path
        async with web.http.get(f"{web.ops}{path}") as response:
            assert response.status == 200, path
    async with web.http.get(f"{web.base}/healthz") as response:
        assert response.status == 200


async def test_ops_app_serves_no_unsubscribe_pages(web: Web) -> None:
    async with web.http.get(f"{web.ops}/u/{web.token()}") as response:
        assert response.status == 404
