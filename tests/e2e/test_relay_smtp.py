"""SMTP behaviour of the relay over real sockets: client -> relay -> recording upstream."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage

import aiosmtplib
import pytest

from proxy import replies
from proxy.lifecycle import RelayApp
from proxy.replies import SmtpReply
from proxy.settings import Settings
from tests.conftest import RecordingUpstream, StartRelay
from tests.e2e.smtp_client import RawClient


def _message(to: str = "bob@example.org", body: str = "Hello Bob.\n") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "alice@example.com"
    msg["To"] = to
    msg["Subject"] = "Test"
    msg.set_content(body)
    return msg


async def _send_raw(port: int, sender: str, rcpts: list[str], data: bytes) -> str:
    client = await RawClient.connect(port)
    try:
        assert await client.command(f"MAIL FROM:<{sender}>") == replies.SENDER_OK.line
        for rcpt in rcpts:
            assert await client.command(f"RCPT TO:<{rcpt}>") == replies.RECIPIENT_OK.line
        assert await client.command("DATA") == replies.START_DATA.line
        client.send(data + b".\r\n")
        return await client.reply()
    finally:
        await client.close()


async def test_plain_message_is_forwarded_with_trace_headers(
    running_relay: RelayApp, recording_upstream: RecordingUpstream
) -> None:
    _, reply = await aiosmtplib.send(_message(), hostname="127.0.0.1", port=running_relay.smtp_port)
    match = re.search(r"\[q=([0-9a-f]{12})\]", reply)
    assert reply.startswith("2.0.0") and match
    [received] = recording_upstream.messages
    assert received.mail_from == "alice@example.com"
    assert received.rcpt_tos == ["bob@example.org"]
    assert f"X-Prospect-Relay-Queue-Id: {match.group(1)}\r\n".encode() in received.content
    assert received.content.startswith(b"Received: from ")
    assert received.content.endswith(b"Hello Bob.\r\n")


async def test_eight_bit_body_and_utf8_headers_pass_byte_exact(
    running_relay: RelayApp, recording_upstream: RecordingUpstream
) -> None:
    body = (
        "Subject: =?utf-8?q?R=C3=A9sum=C3=A9?=\r\nFrom: Zoë <z@example.com>\r\n"
        "To: b@example.org\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nÇa va très bien.\r\n.starts with a dot\r\n"
        "..two dots\r\n.\r\nend\r\n"
    ).encode()
    stuffed = body.replace(b"\r\n.", b"\r\n..")
    reply = await _send_raw(running_relay.smtp_port, "z@example.com", ["b@example.org"], stuffed)
    assert reply.startswith("250 2.0.0")
    [received] = recording_upstream.messages
    assert received.content.endswith(body)
    assert "BODY=8BITMIME" in received.mail_options


async def test_data_starting_with_a_lone_dot_line_is_an_empty_message(
    running_relay: RelayApp, recording_upstream: RecordingUpstream
) -> None:
    reply = await _send_raw(running_relay.smtp_port, "a@example.com", ["b@example.org"], b"")
    assert reply.startswith("250")
    [received] = recording_upstream.messages
    assert received.content.endswith(b"X-Prospect-Relay-Queue-Id: " + received.content[-14:])


async def test_smtputf8_address_is_relayed_with_smtputf8(
    running_relay: RelayApp, recording_upstream: RecordingUpstream
) -> None:
    msg = _message(to="jöran@exämple.de")
    _, reply = await aiosmtplib.send(
        msg,
        sender="zoë@example.com",
        recipients=["jöran@exämple.de"],
        hostname="127.0.0.1",
        port=running_relay.smtp_port,
    )
    assert reply.startswith("2.0.0")
    [received] = recording_upstream.messages
    assert received.rcpt_tos == ["jöran@exämple.de"]
    assert received.mail_from == "zoë@example.com"
    assert "SMTPUTF8" in received.mail_options


async def test_non_ascii_address_without_smtputf8_is_refused(running_relay: RelayApp) -> None:
    client = await RawClient.connect(running_relay.smtp_port)
    assert (await client.command("MAIL FROM:<zoë@example.com>")).startswith("553 5.6.7")
    assert (await client.command("MAIL FROM:<a@example.com>")).startswith("250")
    assert (await client.command("RCPT TO:<jöran@example.de>")).startswith("553 5.6.7")
    await client.close()


@pytest.fixture
async def small_relay(
    start_relay: StartRelay,
    make_settings: Callable[..., Settings],
    recording_upstream: RecordingUpstream,
) -> RelayApp:
    settings = make_settings(
        smtp={"max_message_size": 2048, "max_recipients": 3},
        upstream={"host": recording_upstream.host, "port": recording_upstream.port},
    )
    return await start_relay(settings)


async def test_message_at_size_limit_passes_and_over_it_gets_552(
    small_relay: RelayApp, recording_upstream: RecordingUpstream
) -> None:
    header = b"Subject: x\r\n\r\n"
    lines = b"a" * 78 + b"\r\n"
    filler = lines * ((2048 - len(header)) // len(lines))
    at_limit = header + filler + b"b" * (2048 - len(header) - len(filler) - 2) + b"\r\n"
    assert len(at_limit) == 2048
    port = small_relay.smtp_port
    assert (await _send_raw(port, "a@example.com", ["b@example.org"], at_limit)).startswith("250")
    over = at_limit + b"b\r\n"
    reply = await _send_raw(port, "a@example.com", ["b@example.org"], over)
    assert reply == replies.MESSAGE_TOO_BIG.line
    assert len(recording_upstream.messages) == 1

    client = await RawClient.connect(port)
    ehlo = await client.command("EHLO client.test")
    assert "250-SIZE 2048" in ehlo
    assert await client.command("MAIL FROM:<a@example.com> SIZE=4096") == (
        replies.MESSAGE_TOO_BIG.line
    )
    await client.close()


async def test_multiple_recipients_and_recipient_limit(
    small_relay: RelayApp, recording_upstream: RecordingUpstream
) -> None:
    client = await RawClient.connect(small_relay.smtp_port)
    assert (await client.command("MAIL FROM:<a@example.com>")).startswith("250")
    for n in range(3):
        assert (await client.command(f"RCPT TO:<r{n}@example.org>")).startswith("250")
    assert await client.command("RCPT TO:<r3@example.org>") == replies.TOO_MANY_RECIPIENTS.line
    assert (await client.command("DATA")).startswith("354")
    client.send(b"Subject: many\r\n\r\nhi\r\n.\r\n")
    assert (await client.reply()).startswith("250")
    await client.close()
    [received] = recording_upstream.messages
    assert received.rcpt_tos == ["r0@example.org", "r1@example.org", "r2@example.org"]


async def test_null_sender_is_accepted_and_relayed(
    running_relay: RelayApp, recording_upstream: RecordingUpstream
) -> None:
    reply = await _send_raw(
        running_relay.smtp_port, "", ["b@example.org"], b"Subject: bounce\r\n\r\nx\r\n"
    )
    assert reply.startswith("250")
    assert recording_upstream.messages[0].mail_from == ""


_RCPT_SYNTAX = replies.path_error("syntax", sender=False)
_RCPT_MAILBOX = replies.path_error("mailbox", sender=False)
_RCPT_ROUTING = replies.path_error("routing", sender=False)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("RCPT TO:<", _RCPT_SYNTAX),
        ("RCPT TO:<>", _RCPT_SYNTAX),
        ("RCPT TO:<a b@example.org>", _RCPT_MAILBOX),
        ("RCPT TO:<(comment)a@example.org>", _RCPT_MAILBOX),
        ("RCPT TO:<a@example.org", _RCPT_SYNTAX),
        ("RCPT TO:<user%other.example@example.org>", _RCPT_ROUTING),
        ("RCPT TO:<host!user@example.org>", _RCPT_ROUTING),
        ("RCPT TO:<@relay.example:user@example.org>", _RCPT_ROUTING),
        ("RCPT TO:<user@[192.0.2.1]>", _RCPT_ROUTING),
        ("RCPT TO:<a@example.org> NOTIFY=NEVER", replies.PARAMETER_NOT_SUPPORTED),
    ],
)
async def test_bad_recipient_paths_get_precise_replies(
    running_relay: RelayApp, command: str, expected: SmtpReply
) -> None:
    client = await RawClient.connect(running_relay.smtp_port)
    assert (await client.command("MAIL FROM:<a@example.com>")) == replies.SENDER_OK.line
    assert (await client.command(command)) == expected.line
    await client.close()


async def test_nul_in_mail_and_control_characters_are_never_echoed(
    running_relay: RelayApp,
) -> None:
    client = await RawClient.connect(running_relay.smtp_port)
    assert (await client.command(b"MAIL FROM:<a\x00b@example.com>")).startswith("501")
    reply = await client.command(b"X\x1b[31mEVIL\x07 arg")
    assert reply.startswith("500")
    assert not any(ord(c) < 32 or ord(c) == 127 for c in reply)
    await client.close()


async def test_pipelined_group_is_answered_in_order(
    running_relay: RelayApp, recording_upstream: RecordingUpstream
) -> None:
    client = await RawClient.connect(running_relay.smtp_port, greet=False)
    ehlo = await client.command("EHLO client.test")
    for extension in ("PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE"):
        assert extension in ehlo
    assert "AUTH" not in ehlo  # no TLS, no users: AUTH is never offered
    client.send(
        b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\n"
        b"RCPT TO:<c@example.org>\r\nDATA\r\n"
    )
    replies = [await client.reply() for _ in range(4)]
    assert [r[:3] for r in replies] == ["250", "250", "250", "354"]
    client.send(b"Subject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    assert (await client.reply()).startswith("250")
    assert (await client.reply()).startswith("221")
    await client.close()
    assert recording_upstream.messages[0].rcpt_tos == ["b@example.org", "c@example.org"]


async def test_client_dropping_mid_data_loses_nothing_and_relay_keeps_serving(
    running_relay: RelayApp, recording_upstream: RecordingUpstream
) -> None:
    client = await RawClient.connect(running_relay.smtp_port)
    await client.command("MAIL FROM:<a@example.com>")
    await client.command("RCPT TO:<b@example.org>")
    await client.command("DATA")
    client.send(b"Subject: half\r\n\r\npartial")
    await client.close()
    _, reply = await aiosmtplib.send(_message(), hostname="127.0.0.1", port=running_relay.smtp_port)
    assert reply.startswith("2.0.0")
    assert len(recording_upstream.messages) == 1


@pytest.mark.parametrize(
    ("sent", "content"),
    [
        (b"\r\n", b"\r\n"),
        (b"\r\n\r\n", b"\r\n\r\n"),
        (b"..x\r\n", b".x\r\n"),
        (b"\r\n..\r\n", b"\r\n.\r\n"),
        (b"a.\r\nb.\r\n", b"a.\r\nb.\r\n"),
    ],
)
async def test_end_of_data_edge_cases(
    running_relay: RelayApp, recording_upstream: RecordingUpstream, sent: bytes, content: bytes
) -> None:
    reply = await _send_raw(running_relay.smtp_port, "a@example.com", ["b@example.org"], sent)
    assert reply.startswith("250")
    [received] = recording_upstream.messages
    trace_end = received.content.index(b"X-Prospect-Relay-Queue-Id: ")
    assert received.content[trace_end + 27 + 12 + 2 :] == content
