"""Outbound webhooks end to end: objections and erasures queued in the database reach a real
HTTP receiver, signed, once per webhook-id and in order per address, across a receiver
outage and a relay restart."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from proxy.feedback.dispatch import WebhookDispatcher
from tests.e2e.conftest import FullRelay, FullRelayFactory
from tests.e2e.delivered import deliver_to, unsubscribe_links
from tests.ports import free_port
from tests.unit.policy_factory import consented
from tests.webhook_receiver import WebhookReceiver, new_secret

pytestmark = pytest.mark.postgres

MARIE = "marie@gmail.com"
SOPHIE = "sophie@gmail.com"


def webhook_settings(receiver: WebhookReceiver, **endpoint: Any) -> dict[str, Any]:
    return {
        "endpoints": [{"name": "crm", "url": receiver.url, "secret": receiver.secret, **endpoint}],
        "retry_base": 0.1,
        "retry_max": 0.3,
        "poll_interval": 0.05,
    }


def append_webhooks_toml(relay: FullRelay, receiver: WebhookReceiver) -> None:
    with relay.config_file.open("a", encoding="utf-8") as config:
        config.write(
            "[[webhooks.endpoints]]\n"
            'name = "crm"\n'
            f'url = "{receiver.url}"\n'
            f'secret = "{receiver.secret}"\n'
            "include_address = true\n"
        )


async def one_click(relay: FullRelay, address: str) -> None:
    url, _ = unsubscribe_links(await deliver_to(relay, address))
    status, _ = await relay.post_form(relay.local_url(url), {"List-Unsubscribe": "One-Click"})
    assert status == 200


def dispatcher(relay: FullRelay) -> WebhookDispatcher:
    [found] = [c for c in relay.app.components if isinstance(c, WebhookDispatcher)]
    return found


async def test_receiver_down_then_up_gets_every_event_once_in_order_after_a_restart(
    full_relay: FullRelayFactory,
) -> None:
    receiver = WebhookReceiver(free_port(), new_secret())
    hooks = webhook_settings(receiver, include_address=True)
    relay = await full_relay(webhooks=hooks)
    await relay.store.upsert_contacts([consented(MARIE), consented(SOPHIE)])

    await one_click(relay, MARIE)  # objection + suppression for Marie
    await one_click(relay, SOPHIE)  # objection + suppression for Sophie
    await relay.app.stop(grace=1.0)  # the receiver was down the whole time

    relay = await full_relay(webhooks=hooks)
    append_webhooks_toml(relay, receiver)  # the CLI queues the erasure for the same endpoint
    forgotten = await relay.cli("forget", MARIE)
    assert forgotten.exit_code == 0, forgotten.output
    receiver.refuse_first["objection"] = 1  # the first objection it sees fails once
    await receiver.start()
    try:
        dispatcher(relay).wake()
        hooks_received = await receiver.wait_for(5)
        await asyncio.sleep(0.5)  # nothing more must come (no duplicate of a delivered id)
    finally:
        await receiver.stop()

    assert receiver.bad_signatures == 0
    ids = [hook.id for hook in hooks_received]
    assert len(ids) == len(set(ids)) == 5, hooks_received
    marie_hash = relay.store.address_hash(MARIE)
    sophie_hash = relay.store.address_hash(SOPHIE)
    marie = [h for h in hooks_received if h.data["address_hash"] == marie_hash]
    sophie = [h for h in hooks_received if h.data["address_hash"] == sophie_hash]
    assert [h.type for h in marie] == ["objection", "suppression", "erasure"]
    assert [h.type for h in sophie] == ["objection", "suppression"]
    # The clear address only while the register knows the person: Marie was erased first.
    assert all("email" not in h.data for h in marie)
    assert all(h.data["email"] == SOPHIE for h in sophie)
    assert marie[0].data["origin"] == "one-click" and marie[0].data["scope"] == "controller:acme"
    retried = [msg_id for msg_id, count in receiver.attempts.items() if count > 1]
    assert len(retried) == 1


async def test_event_filter_and_hash_only_endpoint(full_relay: FullRelayFactory) -> None:
    receiver = WebhookReceiver(free_port(), new_secret())
    relay = await full_relay(webhooks=webhook_settings(receiver, events=["suppression"]))
    await relay.store.upsert_contacts([consented(MARIE)])
    await receiver.start()
    try:
        await one_click(relay, MARIE)
        [hook] = await receiver.wait_for(1)
        await asyncio.sleep(0.3)
    finally:
        await receiver.stop()
    assert len(receiver.received) == 1
    assert hook.type == "suppression" and "email" not in hook.data
    assert hook.data["address_hash"] == relay.store.address_hash(MARIE)
