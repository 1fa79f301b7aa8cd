"""Forwarders against a recording aiosmtpd upstream and a real Maildir."""

from __future__ import annotations

import asyncio
import mailbox
from pathlib import Path

from proxy import replies
from proxy.forward import OutboxForwarder, SmtpForwarder
from proxy.metrics import Metrics
from proxy.settings import UpstreamSettings
from tests.conftest import RecordingUpstream

MESSAGE = b"Subject: hi\r\n\r\n.leading dot\r\nbody\r\n"


def _forwarder(upstream: RecordingUpstream, **extra: object) -> SmtpForwarder:
    values: dict[str, object] = {"host": upstream.host, "port": upstream.port, "timeout": 2}
    settings = UpstreamSettings(**{**values, **extra})  # type: ignore[arg-type]
    return SmtpForwarder(settings, local_hostname="relay.test", metrics=Metrics())


async def test_forward_accepts_and_preserves_content(recording_upstream: RecordingUpstream) -> None:
    forwarder = _forwarder(recording_upstream)
    result = await forwarder.forward("a@example.com", ["b@example.org"], MESSAGE, queue_id="q1")
    await forwarder.close()
    assert result.reply.code == 250
    assert result.accepted == ("b@example.org",)
    assert recording_upstream.messages[0].content == MESSAGE


async def test_per_recipient_refusal_is_returned_not_dropped(
    recording_upstream: RecordingUpstream,
) -> None:
    recording_upstream.behaviour.rcpt_replies["x@example.org"] = "450 4.2.1 try later"
    forwarder = _forwarder(recording_upstream)
    result = await forwarder.forward(
        "a@example.com", ["b@example.org", "x@example.org"], MESSAGE, queue_id="q2"
    )
    await forwarder.close()
    assert result.accepted == ("b@example.org",)
    assert result.refused["x@example.org"].code == 450
    assert result.refused["x@example.org"].enhanced == "4.2.1"


async def test_pool_reuses_connections_under_concurrency(
    recording_upstream: RecordingUpstream,
) -> None:
    # 20 messages queue for 2 connections: the wait must stay within the timeout.
    forwarder = _forwarder(recording_upstream, pool_size=2, timeout=30)
    results = await asyncio.gather(
        *(
            forwarder.forward("a@example.com", [f"r{i}@example.org"], MESSAGE, queue_id=f"q{i}")
            for i in range(20)
        )
    )
    await forwarder.close()
    assert all(r.reply.code == 250 for r in results)
    assert len(recording_upstream.messages) == 20
    assert recording_upstream.connections <= 2


async def test_stale_connection_reconnects_once_and_after_dot_failure_never_retries(
    recording_upstream: RecordingUpstream,
) -> None:
    metrics = Metrics()
    settings = UpstreamSettings(host=recording_upstream.host, port=recording_upstream.port)
    forwarder = SmtpForwarder(settings, local_hostname="relay.test", metrics=metrics)
    await forwarder.forward("a@example.com", ["b@example.org"], MESSAGE, queue_id="q1")
    recording_upstream.close_connections()
    await asyncio.sleep(0)
    ok = await forwarder.forward("a@example.com", ["b@example.org"], MESSAGE, queue_id="q2")
    assert ok.reply.code == 250
    recording_upstream.behaviour.drop_after_dot = True
    lost = await forwarder.forward("a@example.com", ["b@example.org"], MESSAGE, queue_id="q3")
    await forwarder.close()
    assert lost.reply == replies.upstream_lost_after_data("q3") and lost.accepted == ()
    assert len(recording_upstream.messages) == 3  # q3 reached the upstream exactly once
    sample = metrics.registry.get_sample_value(
        "prospect_relay_upstream_errors_total", {"kind": "after_dot"}
    )
    assert sample == 1


async def test_outbox_writes_a_maildir_message(tmp_path: Path) -> None:
    outbox = OutboxForwarder(tmp_path / "box", hostname="relay.test", metrics=Metrics())
    recipients = ["b@example.org", '"c, d"@example.org']  # a comma inside a quoted local part
    result = await outbox.forward("a@example.com", recipients, MESSAGE, queue_id="q9")
    assert result.reply.code == 250 and result.accepted == tuple(recipients)
    [stored] = list(mailbox.Maildir(tmp_path / "box", create=False))
    assert stored.get_all("X-Prospect-Relay-Envelope-To") == recipients
    assert stored.get_payload() == ".leading dot\nbody\n"
    assert list((tmp_path / "box" / "tmp").iterdir()) == []


async def test_outbox_failure_is_a_temporary_refusal(tmp_path: Path) -> None:
    outbox = OutboxForwarder(tmp_path / "box", hostname="relay.test", metrics=Metrics())
    (tmp_path / "box" / "tmp").rmdir()
    result = await outbox.forward("a@example.com", ["b@example.org"], MESSAGE, queue_id="q")
    assert result.reply == replies.local_error("q") and result.accepted == ()
    assert result.refused == {"b@example.org": replies.local_error("q")}
