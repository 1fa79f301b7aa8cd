"""Delivery semantics: a retry after a 4xx is the same message; bounces are not marketing."""

from __future__ import annotations

import email
import email.policy

import aiosmtplib
import pytest

from proxy.model import SourceKind
from tests.e2e.conftest import SENDER, FullRelay, FullRelayFactory, mailbox, make_message
from tests.e2e.delivered import body_text, parse
from tests.unit.policy_factory import consented, prospect, stale_prospect

pytestmark = pytest.mark.postgres

PAUL = "paul.martin@acme-industrie.fr"
MARIE = "marie@gmail.com"
SOPHIE = "sophie@gmail.com"
NOTICE = "art. 14"
BUSY = "451 4.3.0 Upstream busy, try again later"


async def _send_once_refused_then_accepted(
    relay: FullRelay, message: bytes
) -> tuple[str | None, str | None]:
    """The upstream answers 451 after the first final dot, then 250: the client retries."""
    relay.upstream.behaviour.data_reply = BUSY
    first = await relay.send(PAUL, message)
    relay.upstream.behaviour.data_reply = None
    retry = await relay.send(PAUL, message)
    return first.data, retry.data


async def _relay_with_bought_prospect(full_relay: FullRelayFactory) -> FullRelay:
    """PAUL's address was bought: his first message carries the GDPR art. 14 notice."""
    relay = await full_relay()
    await relay.store.upsert_contacts(
        [prospect(PAUL, source="bought from DataBroker Ltd", source_kind=SourceKind.BROKER)]
    )
    return relay


async def test_retry_after_upstream_451_still_carries_the_first_contact_notice(
    full_relay: FullRelayFactory,
) -> None:
    relay = await _relay_with_bought_prospect(full_relay)
    message = make_message(PAUL, headers={"X-Prospect-Targets": "finance"})

    first, retry = await _send_once_refused_then_accepted(relay, message)
    after = await relay.send(PAUL, message)

    assert first is not None and first.startswith("451"), first
    assert retry is not None and retry.startswith("250"), retry
    assert after.accepted
    delivered = mailbox(relay.delivered, PAUL)
    assert len(delivered) == 2
    assert NOTICE in body_text(parse(delivered[0]), "plain")  # the retry: notice still there
    assert NOTICE not in body_text(parse(delivered[1]), "plain")  # recorded once delivered
    [facts] = (await relay.store.load_recipient_facts([PAUL])).values()
    assert facts.first_message_at is not None


async def test_first_contact_record_failing_after_delivery_keeps_the_250(
    full_relay: FullRelayFactory,
) -> None:
    # The copy left with the notice: a store fault afterwards must not make the client send
    # it again; the next message simply carries the notice once more.
    relay = await _relay_with_bought_prospect(full_relay)
    message = make_message(PAUL, headers={"X-Prospect-Targets": "finance"})
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=relay.smtp_port, timeout=10)
    await client.connect()
    await client.mail(SENDER)
    assert (await client.rcpt(PAUL)).code == 250  # facts read here, kept for DATA
    async with relay.database_down():
        reply = await client.data(message)
    await client.quit()

    assert reply.code == 250
    again = await relay.send(PAUL, message)
    assert again.accepted
    first, second = mailbox(relay.delivered, PAUL)
    assert NOTICE in body_text(parse(first), "plain")
    assert NOTICE in body_text(parse(second), "plain")


async def test_retry_after_upstream_451_sends_the_repermission_message(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([stale_prospect(PAUL)])
    headers = {"X-Prospect-Targets": "finance", "X-Prospect-Repermission": "yes"}
    message = make_message(PAUL, headers=headers)

    first, retry = await _send_once_refused_then_accepted(relay, message)
    again = await relay.send(PAUL, make_message(PAUL, headers=headers))

    assert first is not None and first.startswith("451"), first
    assert retry is not None and retry.startswith("250"), retry  # was: 550 stale-prospect
    assert again.data is not None and again.data.startswith("550 5.7.1 stale-prospect:")
    assert [m.rcpt_tos for m in relay.delivered] == [[PAUL]]


BOUNCE_TO = "bounces@client.fr"  # an operational address: refused as a prospecting target
BOUNCE = (
    b"From: Mail Delivery System <MAILER-DAEMON@postfix.test>\r\n"
    b"To: <bounces@client.fr>\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\n"
    b"Auto-Submitted: auto-replied\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"Your message could not be delivered.\r\n"
)


async def test_null_sender_from_an_allowed_client_is_forwarded_untouched(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay(smtp={"allowed_networks": ["127.0.0.1/32"]})

    result = await relay.send(BOUNCE_TO, BOUNCE, sender="")

    assert result.rcpt[BOUNCE_TO].startswith("250"), result.rcpt  # was: operational-address
    assert result.accepted, result
    [bounce] = relay.delivered
    assert bounce.mail_from == "" and bounce.rcpt_tos == [BOUNCE_TO]
    assert bounce.content.replace(b"\r\n", b"\n").endswith(BOUNCE.replace(b"\r\n", b"\n"))
    assert b"List-Unsubscribe" not in bounce.content


async def test_null_sender_from_outside_allowed_networks_is_still_refused(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay(smtp={"allowed_networks": ["127.0.0.1/32"]})

    result = await relay.send(BOUNCE_TO, BOUNCE, sender="", source_address="127.0.0.2")

    assert result.rcpt[BOUNCE_TO].startswith("550 5.7.1"), result.rcpt
    assert relay.delivered == []


async def test_temporary_upstream_refusal_in_a_mixed_message_is_reported_as_failed(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE), consented(SOPHIE)])
    relay.upstream.behaviour.rcpt_replies[SOPHIE] = "451 4.2.1 Mailbox busy, try later"

    result = await relay.send([MARIE, SOPHIE], make_message(MARIE))

    assert result.data is not None and result.data.startswith("250"), result
    [dsn] = mailbox(relay.delivered, SENDER)
    report = email.message_from_bytes(dsn.content, policy=email.policy.default)
    status = next(p for p in report.walk() if p.get_content_type() == "message/delivery-status")
    fields = " ".join(status.as_string().split())  # unfolded
    # RFC 3464: "failed" (the relay does not retry) agrees with a 5.x.x status; the
    # diagnostic keeps what the upstream said.
    assert f"Final-Recipient: rfc822; {SOPHIE}" in fields
    assert "Action: failed" in fields and "Status: 5.2.1" in fields
    assert "Diagnostic-Code: smtp; 451 4.2.1 upstream: Mailbox busy" in fields
    text = report.get_body(preferencelist=("plain",))
    assert text is not None and "will not" in text.get_content()
