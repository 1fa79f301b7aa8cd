"""The upstream reply reader on real transports: parsing, bounds, and the hand-over on uvloop.

The parser is fed through `data_received` of a connection bound to a real socket pair (so
`set_protocol` and the transport are real); the uvloop test runs the forwarder on uvloop's
TCP and TLS transports, where `transport.set_protocol` is uvloop's own code.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import ssl
from pathlib import Path

import pytest
import trustme
import uvloop
from hypothesis import given
from hypothesis import strategies as st

from proxy.errors import UpstreamClosed, UpstreamProtocolError
from proxy.forward import SmtpForwarder
from proxy.metrics import Metrics
from proxy.settings import UpstreamSettings
from proxy.upstream_client import MAX_LINE, MAX_REPLY, Reply, UpstreamConnection
from tests.conftest import RecordingUpstream, start_recording_upstream
from tests.waiting import wait_until


async def _connection() -> tuple[UpstreamConnection, socket.socket]:
    ours, theirs = socket.socketpair()
    transport, _ = await asyncio.get_running_loop().create_connection(asyncio.Protocol, sock=ours)
    return UpstreamConnection(transport, {"PIPELINING": "", "size": "1000"}), theirs


async def _read_all(connection: UpstreamConnection) -> list[Reply]:
    found: list[Reply] = []
    while True:
        try:
            found.append(await connection.read(timeout=5))
        except UpstreamClosed:
            return found


_texts = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(str.strip)
_replies = st.lists(
    st.tuples(st.integers(200, 599), st.lists(_texts, min_size=1, max_size=4)), max_size=6
)


def _wire(replies: list[tuple[int, list[str]]]) -> bytes:
    lines = [
        f"{code}{'-' if i < len(texts) - 1 else ' '}{text}\r\n"
        for code, texts in replies
        for i, text in enumerate(texts)
    ]
    return "".join(lines).encode()


@given(replies=_replies, cuts=st.lists(st.integers(0, 2000), max_size=8))
def test_replies_are_the_same_however_the_bytes_are_cut(
    replies: list[tuple[int, list[str]]], cuts: list[int]
) -> None:
    wire = _wire(replies)
    points = sorted({0, len(wire), *(c % (len(wire) + 1) for c in cuts)})

    async def scenario() -> list[Reply]:
        connection, peer = await _connection()
        with peer:
            for start, end in itertools.pairwise(points):
                connection.data_received(wire[start:end])
            connection.eof_received()
            return await _read_all(connection)

    parsed = asyncio.run(scenario())
    assert parsed == [Reply(code, "\n".join(texts)) for code, texts in replies]


@pytest.mark.parametrize(
    ("wire", "replies_before"),
    [
        (b"250 ok\r\n" + b"5" * (MAX_LINE + 1), 1),  # a line that never ends
        (b"250 ok\r\n550 " + b"x" * MAX_LINE + b"\r\n", 1),  # one over-long line
        (b"250-x\r\n" * (MAX_REPLY // 7 + 1) + b"250 end\r\n", 0),  # an endless reply
        (b"250 ok\r\nhello there\r\n", 1),  # not a reply
        (b"25 short\r\n", 0),
    ],
)
async def test_bounds_and_garbage_are_protocol_errors_after_the_good_replies(
    wire: bytes, replies_before: int
) -> None:
    connection, peer = await _connection()
    with peer:
        for start in range(0, len(wire), 1000):  # arriving in pieces
            connection.data_received(wire[start : start + 1000])
        for _ in range(replies_before):
            assert await connection.read(timeout=5) == Reply(250, "ok")
        with pytest.raises(UpstreamProtocolError):
            await connection.read(timeout=5)
        assert not connection.usable


async def test_reply_split_across_reads_waits_then_the_peer_closing_is_closed() -> None:
    connection, peer = await _connection()
    with peer:
        assert connection.pipelining and connection.supports("SIZE")
        peer.sendall(b"250-first\r\n25")
        pending = asyncio.ensure_future(connection.read(timeout=5))
        await asyncio.sleep(0.05)
        assert not pending.done()
        peer.sendall(b"0 second\r\n")
        assert await pending == Reply(250, "first\nsecond")
        peer.sendall(b"221 unsolicited\r\n")
        # A reply nobody asked for: the connection is out of step, no longer usable.
        await wait_until(lambda: not connection.usable, "the unsolicited reply read")
        peer.close()
        assert await connection.read(timeout=5) == Reply(221, "unsolicited")
        with pytest.raises(UpstreamClosed):
            await connection.read(timeout=5)


async def test_read_times_out() -> None:
    connection, peer = await _connection()
    with peer, pytest.raises(TimeoutError):
        await connection.read(timeout=0.05)


def test_forwarding_on_uvloop_over_tcp_and_tls(tmp_path: Path) -> None:
    """uvloop's transports (TCP, TLS, STARTTLS) accept the hand-over and carry the batch."""
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    async def deliver(upstream: RecordingUpstream, tls: str) -> list[bytes]:
        upstream.behaviour.pipelining = True
        settings = UpstreamSettings(
            host=upstream.host, port=upstream.port, tls=tls, ca_file=ca_file, timeout=5
        )  # type: ignore[arg-type]
        forwarder = SmtpForwarder(settings, local_hostname="relay.test", metrics=Metrics())
        try:
            for n in range(2):
                message = f"Subject: {n}\r\n\r\nbody {n}\r\n".encode()
                result = await forwarder.forward(
                    "a@example.com", ["b@example.org", "c@example.org"], message, queue_id="q"
                )
                assert result.accepted == ("b@example.org", "c@example.org"), result
            await forwarder.close()
            assert [m.content for m in upstream.messages] == [
                f"Subject: {n}\r\n\r\nbody {n}\r\n".encode() for n in range(2)
            ]
            assert upstream.connections == 1
            return upstream.mail_chunks()
        finally:
            upstream.server.close()
            upstream.close_connections()

    async def scenario() -> dict[str, list[bytes]]:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        return {
            "none": await deliver(await start_recording_upstream(), "none"),
            "tls": await deliver(await start_recording_upstream(ssl=server_tls), "tls"),
            "starttls": await deliver(
                await start_recording_upstream(tls_context=server_tls), "starttls"
            ),
        }

    batch = (
        b"MAIL FROM:<a@example.com> SIZE=%d\r\nRCPT TO:<b@example.org>\r\n"
        b"RCPT TO:<c@example.org>\r\nDATA\r\n"
    )
    for mode, chunks in uvloop.run(scenario()).items():
        assert chunks == [batch % 25, batch % 25], mode  # 22-byte messages + ".\r\n"
