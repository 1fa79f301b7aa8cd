"""visible-recipients: one marketing message showing several addresses (RULES.md §4)."""

from __future__ import annotations

import email

import pytest

from tests.e2e.conftest import FullRelayFactory, make_message, policy_text

pytestmark = pytest.mark.postgres

FIRST = "contact@acme-industrie.fr"
SECOND = "info@acme-industrie.fr"
SOURCE = {"X-Prospect-Source": "trade fair Lyon 2025"}


async def test_split_policy_gives_each_recipient_a_copy_showing_only_them(
    full_relay: FullRelayFactory,
) -> None:
    policy = policy_text().replace('visible_recipients = "reject"', 'visible_recipients = "split"')
    relay = await full_relay(policy=policy)
    transcript = await relay.send([FIRST, SECOND], make_message([FIRST, SECOND], headers=SOURCE))
    assert transcript.data is not None and transcript.data.startswith("250")
    copies = {tuple(m.rcpt_tos): email.message_from_bytes(m.content) for m in relay.delivered}
    assert set(copies) == {(FIRST,), (SECOND,)}
    for (address,), copy in copies.items():
        assert copy.get_all("To") == [f"<{address}>"]
        assert copy.get("Cc") is None
        assert len(copy.get_all("List-Unsubscribe") or []) == 1


async def test_reject_policy_refuses_a_message_showing_several_recipients(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay(policy=policy_text())
    transcript = await relay.send([FIRST, SECOND], make_message([FIRST, SECOND], headers=SOURCE))
    assert transcript.data is not None
    assert transcript.data.startswith("550 5.7.1 visible-recipients:")
    assert relay.delivered == []
