"""Delivery semantics under upstream retries: a retry after a 4xx is the same message."""

from __future__ import annotations

from datetime import date

import pytest

from proxy.model import SourceKind
from tests.e2e.conftest import FullRelay, FullRelayFactory, mailbox, make_message
from tests.e2e.test_unsubscribe_e2e import body_text, parse
from tests.unit.policy_factory import prospect

pytestmark = pytest.mark.postgres

PAUL = "paul.martin@acme-industrie.fr"
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


async def test_retry_after_upstream_451_still_carries_the_first_contact_notice(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts(
        [prospect(PAUL, source="bought from DataBroker Ltd", source_kind=SourceKind.BROKER)]
    )
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


async def test_retry_after_upstream_451_sends_the_repermission_message(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts(
        [prospect(PAUL, collected_at=date(2021, 5, 1), last_interaction=date(2022, 1, 15))]
    )
    headers = {"X-Prospect-Targets": "finance", "X-Prospect-Repermission": "yes"}
    message = make_message(PAUL, headers=headers)

    first, retry = await _send_once_refused_then_accepted(relay, message)
    again = await relay.send(PAUL, make_message(PAUL, headers=headers))

    assert first is not None and first.startswith("451"), first
    assert retry is not None and retry.startswith("250"), retry  # was: 550 stale-prospect
    assert again.data is not None and again.data.startswith("550 5.7.1 stale-prospect:")
    assert [m.rcpt_tos for m in relay.delivered] == [[PAUL]]
