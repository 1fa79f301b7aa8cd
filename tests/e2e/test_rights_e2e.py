"""The recipient's requests over HTTP against the production relay: what is recorded when."""

from __future__ import annotations

import json
from datetime import datetime

from proxy.policy.derive import months_before
from tests.e2e.conftest import FullRelay, FullRelayFactory, mailbox
from tests.e2e.delivered import deliver_to, unsubscribe_links
from tests.unit.policy_factory import consented

MARIE = "marie@gmail.com"


async def _token_url(relay: FullRelay) -> str:
    copy = await deliver_to(relay, MARIE, headers={"X-Prospect-Campaign": "spring"})
    url, _ = unsubscribe_links(copy)
    return relay.local_url(url)


async def _requests(relay: FullRelay, *args: str) -> list[dict[str, object]]:
    result = await relay.cli("requests", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    documents = json.loads(result.output)
    assert isinstance(documents, list)
    return documents


async def test_a_copy_the_upstream_refuses_leaves_the_request_open(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE)])
    url = await _token_url(relay)
    relay.upstream.behaviour.rcpt_replies[MARIE] = "452 4.2.2 mailbox full"

    status, body = await relay.post_form(f"{url}/copy", {})

    assert status == 503 and "Veuillez réessayer plus tard" in body
    [request] = await _requests(relay, "--state", "open")
    assert request["kind"] == "access" and request["fulfilled_at"] is None
    assert "not delivered" in str(request["outcome"]) and "452" in str(request["outcome"])
    requested = datetime.fromisoformat(str(request["requested_at"])).date()
    assert request["due_on"] == months_before(requested, -1).isoformat()  # one month

    relay.upstream.behaviour.rcpt_replies.clear()
    status, _ = await relay.post_form(f"{url}/copy", {})
    assert status == 200
    assert [r["status"] for r in await _requests(relay)] == ["open", "fulfilled"]
    assert (
        len([m for m in mailbox(relay.delivered, MARIE) if m.mail_from.startswith("privacy@")]) == 1
    )
    table = await relay.cli("report")
    assert "Data subject requests" in table.output and "access" in table.output


async def test_erasure_needs_the_confirmation_field_then_nothing_is_left_to_copy(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE)])
    url = await _token_url(relay)

    status, body = await relay.post_form(f"{url}/erase", {"List-Unsubscribe": "One-Click"})
    assert status == 200 and 'name="confirm" value="erase"' in body  # the confirmation again
    assert await relay.store.get_contact(MARIE) is not None
    assert await _requests(relay) == []

    status, _ = await relay.post_form(f"{url}/erase", {"confirm": "erase"})
    assert status == 200
    assert await relay.store.get_contact(MARIE) is None

    status, body = await relay.post_form(f"{url}/copy", {})
    assert status == 200 and "rien à envoyer" in body
    kinds = {(r["kind"], r["status"], r["controller_notified_at"]) for r in await _requests(relay)}
    assert kinds == {("erasure", "fulfilled", None), ("access", "fulfilled", None)}


async def test_rights_pages_share_the_unsubscribe_rate_limit(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay(web={"rate_limit_per_minute": 3})
    await relay.store.upsert_contacts([consented(MARIE)])
    url = await _token_url(relay)
    path = url.removeprefix(relay.web_base)

    statuses = [(await relay.get(f"{path}/why"))[0] for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    status, _ = await relay.post_form(f"{url}/copy", {})
    assert status == 429  # refused before anything is recorded or sent
    assert await _requests(relay) == []
    assert (await relay.get("/healthz"))[0] == 200  # probes are never limited
