"""A real MTA bounces a delivered copy: the relay forwards to a private Postfix, which routes
the recipient's domain to an MX that refuses it (550 5.1.1) and sends its DSN to
the copy's VERP return path, back at the relay. The next message to that address is refused.
Needs root, like tests/e2e/test_postfix_chain.py (tests/postfix.py runs the instance).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from proxy.model import SuppressionOrigin
from tests.e2e.conftest import FullRelay, FullRelayFactory
from tests.ports import free_port
from tests.postfix import PostfixInstance, private_postfix
from tests.unit.policy_factory import consented
from tests.waiting import wait_until

pytestmark = [pytest.mark.postfix, pytest.mark.postgres]

DEAD = "marie@dead.example"


@pytest.fixture
async def relay_through_postfix(
    full_relay: FullRelayFactory,
) -> AsyncIterator[tuple[FullRelay, PostfixInstance]]:
    port = free_port()
    relay = await full_relay(
        feedback={"enabled": True}, upstream={"host": "127.0.0.1", "port": port, "timeout": 5}
    )
    # dead.example's "MX" is the recording upstream, told to answer RCPT with 550 5.1.1 as a
    # mailbox provider does for an address that no longer exists. The relay's own domain
    # (relay.test) is routed back to the relay: that is where the bounce goes.
    relay.upstream.behaviour.rcpt_replies[DEAD] = "550 5.1.1 <marie@dead.example>: mailbox unknown"
    routes = (
        f"dead.example=smtp:[127.0.0.1]:{relay.upstream.port}, "
        f"relay.test=smtp:[127.0.0.1]:{relay.smtp_port}"
    )
    async with private_postfix(
        port, myorigin="$myhostname", transport_maps=f"inline:{{ {routes} }}"
    ) as postfix:
        yield relay, postfix


async def test_postfix_bounce_to_the_return_path_suppresses(
    relay_through_postfix: tuple[FullRelay, PostfixInstance],
) -> None:
    relay, postfix = relay_through_postfix
    await relay.store.upsert_contacts([consented(DEAD)])

    sent = await relay.send(DEAD)
    assert sent.accepted, sent  # Postfix took the copy; it bounces it afterwards

    [entry] = await wait_until(
        lambda: relay.store.is_suppressed(DEAD),
        "the bounce to suppress the address",
        every=0.2,
        detail=lambda: f"Postfix log:\n{postfix.maillog}",
    )
    assert entry.origin is SuppressionOrigin.BOUNCE
    [trail] = await relay.store.feedback_of(relay.store.address_hash(DEAD))
    assert (trail.kind, trail.status, trail.source) == ("hard-bounce", "5.1.1", "dsn")
    assert "mailbox unknown" in (trail.detail or "")
    again = await relay.send(DEAD)
    assert again.rcpt[DEAD].startswith("550 5.7.1 suppressed:"), again
    assert "from=<bounces+" in postfix.maillog  # the copy left with its VERP return path
