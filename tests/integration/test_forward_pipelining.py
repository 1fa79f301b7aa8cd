"""The upstream client with and without PIPELINING (RFC 2920), against a real aiosmtpd.

Every test runs against an upstream that advertises PIPELINING (the forwarder must send MAIL,
every RCPT and DATA in one write) and one that does not (one command per reply). What the
upstream read is the evidence: `mail_chunks()` shows whether the batch arrived in one read,
`commands()` the order of the commands.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import AsyncIterator

import pytest

from proxy import replies
from proxy.forward import ForwardResult, SmtpForwarder
from proxy.metrics import Metrics
from proxy.settings import UpstreamSettings
from proxy.upstream_client import MAX_LINE
from tests.conftest import RecordingUpstream, start_recording_upstream

MESSAGE = b"Subject: hi\r\nTo: b@example.org\r\n\r\n.leading dot\r\nbody\r\n"
SIZE = f"SIZE={len(MESSAGE) + 1 + 3}"  # one dot stuffed, ".\r\n" appended
SENDER = "a@example.com"
BOB, CAROL = "b@example.org", "c@example.org"


@pytest.fixture(params=[True, False], ids=["pipelining", "lockstep"])
async def upstream(request: pytest.FixtureRequest) -> AsyncIterator[RecordingUpstream]:
    recording = await start_recording_upstream()
    recording.behaviour.pipelining = request.param
    yield recording
    recording.server.close()
    recording.close_connections()
    await recording.server.wait_closed()


def _forwarder(
    upstream: RecordingUpstream, metrics: Metrics | None = None, **extra: object
) -> SmtpForwarder:
    values: dict[str, object] = {"host": upstream.host, "port": upstream.port, "timeout": 5}
    settings = UpstreamSettings(**{**values, **extra})  # type: ignore[arg-type]
    return SmtpForwarder(settings, local_hostname="relay.test", metrics=metrics or Metrics())


async def _forward(
    forwarder: SmtpForwarder, recipients: list[str], message: bytes = MESSAGE, **extra: bool
) -> ForwardResult:
    return await forwarder.forward(SENDER, recipients, message, queue_id="q1", **extra)


def _errors(metrics: Metrics, kind: str) -> float:
    value = metrics.registry.get_sample_value(
        "prospect_relay_upstream_errors_total", {"kind": kind}
    )
    return value or 0.0


def _pipelined(upstream: RecordingUpstream) -> bool:
    return upstream.behaviour.pipelining


async def test_batch_in_one_write_when_offered_else_one_command_per_reply(
    upstream: RecordingUpstream,
) -> None:
    forwarder = _forwarder(upstream)
    result = await _forward(forwarder, [BOB, CAROL])
    await forwarder.close()

    assert result.reply.code == 250 and result.accepted == (BOB, CAROL)
    mail = f"MAIL FROM:<{SENDER}> {SIZE}\r\n".encode()
    if _pipelined(upstream):  # one read held the whole batch: it was one write
        batch = mail + f"RCPT TO:<{BOB}>\r\nRCPT TO:<{CAROL}>\r\nDATA\r\n".encode()
        assert upstream.mail_chunks() == [batch]
    else:  # the client waited for MAIL's reply before sending RCPT
        assert upstream.mail_chunks() == [mail]
    assert upstream.commands() == [
        "EHLO relay.test",
        f"MAIL FROM:<{SENDER}> {SIZE}",
        f"RCPT TO:<{BOB}>",
        f"RCPT TO:<{CAROL}>",
        "DATA",
        "QUIT",  # close() quits the idle connection
    ]
    [received] = upstream.messages
    assert received.mail_from == SENDER and received.rcpt_tos == [BOB, CAROL]
    assert received.content == MESSAGE
    parsed = email.message_from_bytes(received.content, policy=email.policy.default)
    assert parsed["Subject"] == "hi" and parsed.get_content() == ".leading dot\r\nbody\r\n"


async def test_pooled_connection_carries_the_next_transactions(
    upstream: RecordingUpstream,
) -> None:
    forwarder = _forwarder(upstream)
    results = [await _forward(forwarder, [f"r{i}@example.org"]) for i in range(3)]
    await forwarder.close()
    assert [r.accepted for r in results] == [(f"r{i}@example.org",) for i in range(3)]
    assert upstream.connections == 1
    assert [m.rcpt_tos for m in upstream.messages] == [[f"r{i}@example.org"] for i in range(3)]
    assert len(upstream.mail_chunks()) == 3


async def test_one_recipient_refused_the_other_delivered(upstream: RecordingUpstream) -> None:
    upstream.behaviour.rcpt_replies[BOB] = "550 5.1.1 no such user"
    metrics = Metrics()
    forwarder = _forwarder(upstream, metrics)
    result = await _forward(forwarder, [BOB, CAROL])
    await forwarder.close()
    assert result.reply.code == 250 and result.accepted == (CAROL,)
    assert result.refused == {BOB: replies.for_upstream(550, "5.1.1 no such user", "q1")}
    assert [m.rcpt_tos for m in upstream.messages] == [[CAROL]]
    assert upstream.messages[0].content == MESSAGE
    assert _errors(metrics, "refused") == 1


async def test_mail_refused_then_rset_and_the_connection_is_reused(
    upstream: RecordingUpstream,
) -> None:
    upstream.behaviour.mail_once = ["550 5.7.1 sender blocked"]
    forwarder = _forwarder(upstream)
    refused = await _forward(forwarder, [BOB, CAROL])
    accepted = await _forward(forwarder, [BOB])
    await forwarder.close()

    blocked = replies.for_upstream(550, "5.7.1 sender blocked", "q1")
    assert refused.reply == blocked and refused.accepted == ()
    assert refused.refused == {BOB: blocked, CAROL: blocked}
    assert accepted.accepted == (BOB,) and upstream.connections == 1
    first = upstream.commands()[1:]
    if _pipelined(upstream):  # RCPT and DATA were sent already: both answered 503
        rcpts = [f"RCPT TO:<{BOB}>", f"RCPT TO:<{CAROL}>"]
        assert first[:5] == [f"MAIL FROM:<{SENDER}> {SIZE}", *rcpts, "DATA", "RSET"]
    else:
        assert first[:2] == [f"MAIL FROM:<{SENDER}> {SIZE}", "RSET"]
    assert [m.rcpt_tos for m in upstream.messages] == [[BOB]]


async def test_all_recipients_refused_then_rset_and_reused(upstream: RecordingUpstream) -> None:
    upstream.behaviour.rcpt_replies = {BOB: "550 5.1.1 no", CAROL: "450 4.2.1 later"}
    forwarder = _forwarder(upstream)
    refused = await _forward(forwarder, [BOB, CAROL])
    accepted = await _forward(forwarder, ["d@example.org"])
    await forwarder.close()
    assert refused.accepted == () and set(refused.refused) == {BOB, CAROL}
    assert refused.reply.code == 450  # a temporary refusal among them: retry may help
    assert accepted.accepted == ("d@example.org",) and upstream.connections == 1
    after_rcpts = ["DATA", "RSET"] if _pipelined(upstream) else ["RSET"]
    assert upstream.commands()[4 : 4 + len(after_rcpts)] == after_rcpts


async def test_data_refused_then_rset_and_reused(upstream: RecordingUpstream) -> None:
    upstream.behaviour.data_command_reply = "452 4.3.1 insufficient storage"
    forwarder = _forwarder(upstream)
    refused = await _forward(forwarder, [BOB, CAROL])
    upstream.behaviour.data_command_reply = None
    accepted = await _forward(forwarder, [BOB])
    await forwarder.close()
    full = replies.for_upstream(452, "4.3.1 insufficient storage", "q1")
    assert refused.reply == full and refused.accepted == ()
    assert refused.refused == {BOB: full, CAROL: full}
    assert upstream.commands()[4:6] == ["DATA", "RSET"]
    assert accepted.accepted == (BOB,) and upstream.connections == 1
    assert [m.rcpt_tos for m in upstream.messages] == [[BOB]]


async def test_354_with_every_recipient_refused_is_ended_by_a_lone_dot(
    upstream: RecordingUpstream,
) -> None:
    # A broken upstream refuses both RCPTs but answers DATA with 354 (RFC 2920 3.1): the
    # client must send "." at once, and nothing counts as delivered.
    upstream.behaviour.rcpt_replies = {BOB: "550 5.1.1 no", CAROL: "550 5.1.1 no"}
    upstream.behaviour.data_despite_refusals = True
    forwarder = _forwarder(upstream)
    refused = await _forward(forwarder, [BOB, CAROL])
    accepted = await _forward(forwarder, ["d@example.org"])
    await forwarder.close()

    assert refused.accepted == () and refused.reply.code == 550
    assert accepted.accepted == ("d@example.org",)
    if _pipelined(upstream):  # DATA went with the batch: the upstream got an empty message
        empty, delivered = upstream.messages
        assert empty.content == b""
        assert b".\r\n" in upstream.handler.received
    else:  # DATA is never sent without an accepted recipient
        [delivered] = upstream.messages
    assert delivered.rcpt_tos == ["d@example.org"] and delivered.content == MESSAGE
    assert upstream.connections == 1


async def test_connection_closed_or_421_at_mail_is_replaced_once(
    upstream: RecordingUpstream,
) -> None:
    forwarder = _forwarder(upstream)
    first = await _forward(forwarder, [BOB])
    # The upstream's idle timeout races the client's batch: it closes the connection after
    # reading MAIL (no reply), then a new connection says 421 to MAIL.
    upstream.behaviour.mail_once = ["close"]
    second = await _forward(forwarder, [BOB])
    upstream.behaviour.mail_once = ["421 4.3.2 shutting down"]
    third = await _forward(forwarder, [BOB])
    await forwarder.close()
    assert [r.reply.code for r in (first, second, third)] == [250, 250, 250]
    assert upstream.connections == 3
    assert len(upstream.messages) == 3


async def test_a_fresh_connection_closed_at_mail_is_451_not_retried_again(
    upstream: RecordingUpstream,
) -> None:
    metrics = Metrics()
    forwarder = _forwarder(upstream, metrics)
    upstream.behaviour.mail_once = ["close", "close"]
    result = await _forward(forwarder, [BOB])
    await forwarder.close()
    assert result.reply == replies.upstream_unreachable("q1") and result.accepted == ()
    assert upstream.connections == 1 and upstream.messages == []
    assert _errors(metrics, "disconnect") == 1


async def test_stalled_upstream_is_a_451_timeout(upstream: RecordingUpstream) -> None:
    upstream.behaviour.mail_delay = 60  # far beyond the timeout: a stall, not a slow reply
    metrics = Metrics()
    forwarder = _forwarder(upstream, metrics, timeout=0.5)
    result = await _forward(forwarder, [BOB, CAROL])
    await forwarder.close()
    assert result.reply == replies.upstream_timeout("q1") and result.accepted == ()
    assert upstream.messages == []
    assert _errors(metrics, "timeout") == 1


async def test_reset_after_the_dot_is_delivery_unknown_and_never_retried(
    upstream: RecordingUpstream,
) -> None:
    upstream.behaviour.drop_after_dot = True
    metrics = Metrics()
    forwarder = _forwarder(upstream, metrics)
    result = await _forward(forwarder, [BOB, CAROL])
    await forwarder.close()
    assert result.reply == replies.upstream_lost_after_data("q1") and result.accepted == ()
    assert len(upstream.messages) == 1 and upstream.connections == 1
    assert _errors(metrics, "after_dot") == 1


async def test_over_long_reply_line_is_a_protocol_error_and_the_connection_dropped(
    upstream: RecordingUpstream,
) -> None:
    upstream.behaviour.rcpt_replies[CAROL] = "550 " + "x" * MAX_LINE
    metrics = Metrics()
    forwarder = _forwarder(upstream, metrics)
    broken = await _forward(forwarder, [BOB, CAROL])
    after = await _forward(forwarder, [BOB])
    await forwarder.close()
    assert broken.reply == replies.upstream_unreachable("q1") and broken.accepted == ()
    assert _errors(metrics, "protocol") == 1
    assert after.accepted == (BOB,) and upstream.connections == 2
    assert [m.rcpt_tos for m in upstream.messages] == [[BOB]]


async def test_smtputf8_and_8bitmime_options_in_the_batch(upstream: RecordingUpstream) -> None:
    message = "Subject: café\r\n\r\nété\r\n".encode()
    forwarder = _forwarder(upstream)
    result = await forwarder.forward(
        "andré@example.com", ["zoé@example.org"], message, queue_id="q1", smtputf8=True
    )
    await forwarder.close()
    assert result.accepted == ("zoé@example.org",)
    size = f"SIZE={len(message) + 3}"
    assert upstream.commands()[1:3] == [
        f"MAIL FROM:<andré@example.com> {size} SMTPUTF8 BODY=8BITMIME",
        "RCPT TO:<zoé@example.org>",
    ]
    [received] = upstream.messages
    assert received.content == message
    assert received.mail_options == [size, "SMTPUTF8", "BODY=8BITMIME"]


async def test_smtputf8_refused_when_the_upstream_lacks_it() -> None:
    upstream = await start_recording_upstream(enable_SMTPUTF8=False)
    upstream.behaviour.pipelining = True
    try:
        forwarder = _forwarder(upstream)
        result = await forwarder.forward(
            "andré@example.com", [BOB], b"Subject: x\r\n\r\nx\r\n", queue_id="q1", smtputf8=True
        )
        await forwarder.close()
    finally:
        upstream.server.close()
        upstream.close_connections()
    assert result.reply == replies.upstream_no_smtputf8("q1")
    assert [c for c in upstream.commands() if c.startswith("MAIL")] == []


@pytest.mark.parametrize(
    ("sender", "recipient"),
    [
        ("a@example.com>\r\nRSET", BOB),  # CRLF: a second command
        (SENDER, "b@example.org> NOTIFY=NEVER"),  # a space: an extra parameter
        (SENDER, "b\x00@example.org"),  # NUL
        ("é@example.com", BOB),  # not ASCII without SMTPUTF8
    ],
)
async def test_envelope_that_could_inject_is_refused_before_anything_is_sent(
    upstream: RecordingUpstream, sender: str, recipient: str
) -> None:
    forwarder = _forwarder(upstream)
    result = await forwarder.forward(sender, [recipient], MESSAGE, queue_id="q1")
    accepted = await _forward(forwarder, [BOB])  # the connection stayed in step
    await forwarder.close()
    assert result.reply == replies.local_error("q1") and result.accepted == ()
    assert accepted.accepted == (BOB,) and upstream.connections == 1
    assert upstream.commands()[1] == f"MAIL FROM:<{SENDER}> {SIZE}"  # the valid one only
    assert "RSET" not in upstream.commands()


async def test_quoted_local_part_with_a_space_is_sent_verbatim(
    upstream: RecordingUpstream,
) -> None:
    forwarder = _forwarder(upstream)
    result = await _forward(forwarder, ['"b c"@example.org'])
    await forwarder.close()
    assert result.accepted == ('"b c"@example.org',)
    assert upstream.messages[0].rcpt_tos == ['"b c"@example.org']
