"""Django's SMTP backend ignores RCPT replies: refusals reach the sender through the DSN."""

from __future__ import annotations

import asyncio
import email
import email.policy

import pytest
from django.conf import settings as django_settings
from django.core.mail import EmailMessage, get_connection

from tests.e2e.conftest import SENDER, FullRelay, FullRelayFactory, mailbox
from tests.unit.policy_factory import consented

pytestmark = pytest.mark.postgres

MARIE = "marie@gmail.com"
JEANNE = "jeanne@gmail.com"  # no consent: refused at RCPT (b2c-no-consent)

if not django_settings.configured:
    django_settings.configure()  # the mail package needs only the defaults


def _django_send(port: int) -> int:
    """What a Django application does: one message, the prospects in bcc."""
    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=port, timeout=10
    )
    message = EmailMessage(
        subject="Our new collection",
        body="Hello,\nour new collection is out.\n",
        from_email=f"Acme News <{SENDER}>",
        to=[MARIE],
        bcc=[JEANNE],
        connection=connection,
    )
    return message.send()


async def _send_with_django(relay: FullRelay) -> int:
    await relay.store.upsert_contacts([consented(MARIE)])
    return await asyncio.to_thread(_django_send, relay.smtp_port)


async def test_django_bcc_refused_at_rcpt_is_reported_to_the_sender(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()

    sent = await _send_with_django(relay)

    assert sent == 1  # Django reports success and drops the refused recipient
    assert [m.rcpt_tos for m in mailbox(relay.delivered, MARIE)] == [[MARIE]]
    [dsn] = mailbox(relay.delivered, SENDER)
    assert dsn.mail_from == ""
    report = email.message_from_bytes(dsn.content, policy=email.policy.default)
    status = next(p for p in report.walk() if p.get_content_type() == "message/delivery-status")
    fields = " ".join(status.as_string().split())
    assert f"Final-Recipient: rfc822; {JEANNE}" in fields
    assert "Action: failed" in fields and "Status: 5.7.1" in fields
    assert "b2c-no-consent" in fields
    assert MARIE not in fields


async def test_rcpt_refusals_are_not_reported_when_the_setting_is_off(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay(smtp={"dsn_rcpt_refusals": False})  # e.g. behind Postfix

    sent = await _send_with_django(relay)

    assert sent == 1
    assert mailbox(relay.delivered, SENDER) == []
