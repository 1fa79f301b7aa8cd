"""Postfix in front of the relay, for real: a private Postfix instance on loopback ports.

Chain: SMTP client -> Postfix (relayhost = the relay) -> prospect-relay -> recording upstream.
Postfix delivers the sender's own domain (example.com) straight to the recording upstream via
transport_maps, so the bounce it writes for a recipient the relay refused at RCPT lands there
too. Needs root (Postfix's master runs as root and drops to `mail_owner`), like the Debian
package it comes from; deploy/postfix/ documents the same settings for production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from proxy.app import build_relay
from proxy.model import SuppressionOrigin
from proxy.settings import DatabaseSettings, Settings
from proxy.store import Store, create_engine, upgrade
from tests.conftest import Received, RecordingUpstream
from tests.postfix import PostfixInstance, private_postfix
from tests.unit.policy_factory import prospect
from tests.waiting import wait_until

pytestmark = pytest.mark.postfix

SECRET = "postfix-chain-secret-0123456789abcdef"
SENDER = "ventes@example.com"
CLIENT_BOUNCES = "bounces@client.fr"  # a return path outside example.com
FACILITIES = "services.generaux@acme-industrie.fr"  # job: facilities
FINANCE = "comptabilite@acme-industrie.fr"  # job: finance
WELCOME = "contact@acme-industrie.fr"
OBJECTED = "direction@acme-industrie.fr"

POLICY = """\
[controllers.example]
legal_name = "Example SAS"
postal_address = "10 rue de l'Exemple, 75002 Paris, France"
domains = ["example.com"]
privacy_url = "https://www.example.com/privacy"
"""


@dataclass
class Chain:
    postfix: PostfixInstance
    sink: RecordingUpstream

    async def wait_for(self, predicate: Callable[[Received], bool]) -> Received:
        """The first message the sink received that matches, flushing Postfix's queue."""
        looks = 0

        async def matching() -> Received | None:
            nonlocal looks
            looks += 1
            if looks % 10 == 0:  # Postfix delivers at once; a flush only helps after a retry
                await self.postfix.flush()
            return next((received for received in self.sink.messages if predicate(received)), None)

        return await wait_until(
            matching,
            "a matching message at the sink",
            every=0.2,
            detail=lambda: f"Postfix log:\n{self.postfix.maillog}",
        )


@pytest.fixture
async def chain(
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    recording_upstream: RecordingUpstream,
) -> AsyncIterator[Chain]:
    (tmp_path / "policy.toml").write_text(POLICY)
    settings = make_settings(
        upstream={"host": recording_upstream.host, "port": recording_upstream.port, "timeout": 5},
        security={"secret_key": SECRET},
        web={"public_url": "https://unsubscribe.example.test"},
        smtp={"dsn_rcpt_refusals": False},  # Postfix bounces RCPT refusals itself
    )
    await upgrade(settings.database.url)
    engine = create_engine(DatabaseSettings(url=settings.database.url))
    try:
        store = Store(engine, SECRET.encode())
        await store.add_suppression(address=OBJECTED, origin=SuppressionOrigin.ONE_CLICK)
        await store.upsert_contacts(
            [
                prospect(FACILITIES, job_function="facilities"),
                prospect(FINANCE, job_function="finance"),
            ]
        )
    finally:
        await engine.dispose()
    relay = await build_relay(settings)
    await relay.start()
    try:
        async with private_postfix(
            myorigin="$myhostname",
            relayhost=f"[127.0.0.1]:{relay.smtp_port}",
            transport_maps=f"inline:{{ example.com=smtp:[127.0.0.1]:{recording_upstream.port} }}",
        ) as postfix:
            yield Chain(postfix, recording_upstream)
    finally:
        await relay.stop(grace=1.0)


def _offer(recipient: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Ventes Example <{SENDER}>"
    msg["To"] = recipient
    msg["Subject"] = "Nouvelle gamme de pompes"
    msg["X-Prospect-Source"] = "salon Lyon 2025"
    msg.set_content("Bonjour,\n\nnotre nouvelle gamme est disponible.\n")
    return msg


def _flat(text: str) -> str:
    """Undo Postfix's line folding in bounce texts."""
    return " ".join(text.split())


async def test_message_through_postfix_carries_the_footer(chain: Chain) -> None:
    await aiosmtplib.send(_offer(WELCOME), hostname="127.0.0.1", port=chain.postfix.port)

    received = await chain.wait_for(lambda m: m.rcpt_tos == [WELCOME])
    assert received.mail_from == SENDER
    message = message_from_bytes(received.content, policy=email_policy.default)
    assert "by postfix.test (Postfix)" in " ".join(message.get_all("Received", []))
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://unsubscribe.example.test/u/" in message["List-Unsubscribe"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "notre nouvelle gamme est disponible" in text
    assert "prospection commerciale de Example SAS" in _flat(text)
    assert "salon Lyon 2025" in text
    assert "X-Prospect-Source" not in message


async def test_suppressed_recipient_bounces_to_the_sender_via_postfix(chain: Chain) -> None:
    # Postfix accepts (it does not know the policy); the relay refuses at RCPT.
    await aiosmtplib.send(_offer(OBJECTED), hostname="127.0.0.1", port=chain.postfix.port)

    bounce = await chain.wait_for(lambda m: m.rcpt_tos == [SENDER])
    assert bounce.mail_from == ""  # a DSN has the null sender
    report = message_from_bytes(bounce.content, policy=email_policy.default)
    assert report.get_content_type() == "multipart/report"
    assert report["Subject"] == "Undelivered Mail Returned to Sender"
    parts = list(report.iter_parts())
    notification = _flat(parts[0].get_content())
    assert f"<{OBJECTED}>" in notification
    assert "550 5.7.1 suppressed" in notification
    status = parts[1]
    assert status.get_content_type() == "message/delivery-status"
    fields = _flat(status.as_string())
    assert f"Final-Recipient: rfc822; {OBJECTED}" in fields
    assert "Action: failed" in fields and "Status: 5.7.1" in fields
    assert "Diagnostic-Code: smtp; 550 5.7.1 suppressed" in fields
    assert not [m for m in chain.sink.messages if OBJECTED in m.rcpt_tos]


async def test_postfix_bounce_for_another_domain_goes_through_the_relay(chain: Chain) -> None:
    # The sender's domain is not routed by transport_maps: Postfix sends its bounce for the
    # suppressed recipient through the relay (MAIL FROM:<>), which forwards it untouched.
    # `bounces@` is an operational address: judged as prospecting mail it was refused.
    offer = _offer(OBJECTED)
    await aiosmtplib.send(
        offer, sender=CLIENT_BOUNCES, hostname="127.0.0.1", port=chain.postfix.port
    )

    bounce = await chain.wait_for(lambda m: m.rcpt_tos == [CLIENT_BOUNCES])
    assert bounce.mail_from == ""
    report = message_from_bytes(bounce.content, policy=email_policy.default)
    assert report["Subject"] == "Undelivered Mail Returned to Sender"
    assert "by relay.test (prospect-relay)" in " ".join(report.get_all("Received", []))
    assert "List-Unsubscribe" not in report
    assert "550 5.7.1 suppressed" in _flat(bounce.content.decode(errors="replace"))


async def test_content_refusal_in_a_mixed_message_reaches_the_sender_by_the_relays_dsn(
    chain: Chain,
) -> None:
    # The campaign targets facilities: the finance contact is refused after DATA, where one
    # reply covers the message. Postfix gets 250 and bounces nothing; the relay reports.
    offer = _offer(FACILITIES)  # the other recipient in the envelope only, as with Bcc
    offer["X-Prospect-Targets"] = "facilities"
    await aiosmtplib.send(
        offer, recipients=[FACILITIES, FINANCE], hostname="127.0.0.1", port=chain.postfix.port
    )

    report = await chain.wait_for(lambda m: m.rcpt_tos == [SENDER])
    delivered = await chain.wait_for(lambda m: FACILITIES in m.rcpt_tos)
    assert delivered.rcpt_tos == [FACILITIES]
    assert report.mail_from == ""
    dsn = message_from_bytes(report.content, policy=email_policy.default)
    assert dsn["From"] == "Mail Delivery System <MAILER-DAEMON@relay.test>"  # not Postfix's
    status = next(p for p in dsn.walk() if p.get_content_type() == "message/delivery-status")
    fields = _flat(status.as_string())
    assert f"Final-Recipient: rfc822; {FINANCE}" in fields
    assert "Action: failed" in fields and "Status: 5.7.1" in fields
    assert "b2b-not-relevant" in fields and FACILITIES not in fields
    assert not [m for m in chain.sink.messages if FINANCE in m.rcpt_tos]
    assert "Undelivered Mail Returned to Sender" not in str(
        [m.content[:400] for m in chain.sink.messages]
    )
