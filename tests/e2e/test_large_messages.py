"""Messages near `max_message_size`, over real sockets: processed in worker threads while the
relay keeps answering `/healthz`, delivered intact, and refused with the documented reply when
their processing exceeds `content.processing_budget`.

No timing thresholds: the poller's answers must keep coming and all be 200, the message must
arrive byte for byte; how fast is for bench/adversarial_bench.py to say.
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import hashlib
import threading
import urllib.request
from dataclasses import dataclass, field

import aiosmtplib
import pytest

from tests.e2e.conftest import RELAY_HOSTNAME, SENDER, FullRelay, FullRelayFactory
from tests.hostile import HOSTILE_SENDER, multipart, with_entity
from tests.unit.policy_factory import consented

pytestmark = pytest.mark.postgres

MARIE = "marie@gmail.com"
OUTSIDE = "127.0.0.2"  # loopback, but outside allowed_networks
MAILBOX = f"unsubscribe@{RELAY_HOSTNAME}"
NEAR_MAX = 24_000_000  # octets; max_message_size is 25 MiB


@dataclass
class Poller:
    """/healthz from another thread, as a load balancer sees it, until stopped."""

    url: str
    statuses: list[int] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.done.is_set():
            with urllib.request.urlopen(self.url, timeout=60) as response:
                self.statuses.append(response.status)
            self.done.wait(0.01)


async def send_polling(
    relay: FullRelay, sender: str, rcpt: str, message: bytes, source: str | None = None
) -> tuple[str, Poller]:
    """One transaction (DATA reply as "code text") while /healthz is polled; the poller's
    answers during the transaction are counted from the moment the DATA command goes out."""
    poller = Poller(f"{relay.ops_base}/healthz")
    client = aiosmtplib.SMTP(
        hostname="127.0.0.1",
        port=relay.smtp_port,
        timeout=300,
        source_address=(source, 0) if source else None,
    )
    await client.connect()
    try:
        await client.mail(sender)
        await client.rcpt(rcpt)
        polling = asyncio.create_task(asyncio.to_thread(poller.run))
        try:
            response = await client.data(message)
            reply = f"{response.code} {response.message}"
        except aiosmtplib.SMTPDataError as exc:
            reply = f"{exc.code} {exc.message}"
        finally:
            poller.done.set()
            await polling
    finally:
        await client.quit()
    return reply, poller


def large_message(size: int) -> tuple[bytes, bytes]:
    """A marketing message to Marie with a text part and a PDF attachment of about `size`
    octets; also the attachment's bytes."""
    attachment = hashlib.shake_256(b"large").digest(size * 57 // 78)  # 57 octets: 78 on a line
    encoded = base64.encodebytes(attachment).decode("ascii").replace("\n", "\r\n")
    parts = [
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Hello Marie,\r\nthe catalogue is attached.\r\n",
        "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        'Content-Disposition: attachment; filename="catalogue.pdf"\r\n\r\n' + encoded,
    ]
    headers = [
        f"From: Acme News <{SENDER}>",
        f"To: {MARIE}",
        "Subject: Our catalogue",
        "Date: Tue, 1 Dec 2026 10:00:00 +0000",
        "Message-ID: <catalogue@example.com>",
        "MIME-Version: 1.0",
    ]
    entity = multipart("multipart/mixed", parts)
    return ("\r\n".join(headers) + "\r\n" + entity).encode("ascii"), attachment


async def test_a_near_max_message_is_delivered_while_healthz_keeps_answering(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE)])
    message, attachment = large_message(NEAR_MAX - 200_000)
    assert NEAR_MAX - 500_000 < len(message) < NEAR_MAX

    reply, poller = await send_polling(relay, SENDER, MARIE, message)

    assert reply.startswith("250 "), reply
    assert len(poller.statuses) >= 3 and set(poller.statuses) == {200}, poller.statuses
    [received] = relay.delivered
    assert received.rcpt_tos == [MARIE]
    copy = email.message_from_bytes(received.content, policy=email.policy.default)
    text, pdf = list(copy.iter_parts())
    assert "Hello Marie" in text.get_content() and "/u/" in text.get_content()  # the footer
    assert pdf.get_content() == attachment  # every attachment byte as sent
    assert copy["List-Unsubscribe"] is not None


async def test_a_near_max_message_to_the_public_mailbox_is_answered_meanwhile(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay(smtp={"allowed_networks": ["127.0.0.1/32"]})
    html = "Content-Type: text/html\r\n\r\n" + "<p>hello <b>world</b></p>\r\n" * (NEAR_MAX // 28)
    message = with_entity(["Subject: stop"], multipart("multipart/signed", [html]), to=MAILBOX)

    reply, poller = await send_polling(relay, HOSTILE_SENDER, MAILBOX, message, OUTSIDE)

    assert reply.startswith("550 5.7.1 unsubscribe-token:"), reply  # read, answered
    assert len(poller.statuses) >= 3 and set(poller.statuses) == {200}, poller.statuses
    assert relay.delivered == []


async def test_processing_over_the_budget_gets_the_documented_reply(
    full_relay: FullRelayFactory,
) -> None:
    # A 1 ms budget against a 2 MB message whose footer goes into 1 MB of HTML (hundreds of
    # milliseconds of work on any machine): the job cannot finish in time.
    relay = await full_relay(content={"processing_budget": 0.001})
    await relay.store.upsert_contacts([consented(MARIE)])
    html = "<p>hello <b>world</b></p>\r\n" * 40_000
    parts = [
        "Content-Type: text/plain\r\n\r\n" + "hello world\r\n" * 80_000,
        "Content-Type: text/html\r\n\r\n<html><body>" + html + "</body></html>\r\n",
    ]
    message = with_entity(
        ["Subject: news", "Date: Tue, 1 Dec 2026 10:00:00 +0000"],
        multipart("multipart/alternative", parts),
        to=MARIE,
    ).replace(f"From: <{HOSTILE_SENDER}>".encode(), f"From: <{SENDER}>".encode())

    reply, _ = await send_polling(relay, SENDER, MARIE, message)

    assert reply.startswith("552 5.3.4 Message refused: processing took over 0.001 s"), reply
    assert relay.delivered == []
