"""Issue 13 (compliance rules, second look) through real SMTP and the real CLI."""

from __future__ import annotations

import pytest

from proxy.model import ConsentState, Contact, SuppressionOrigin
from tests.e2e.conftest import FullRelayFactory

pytestmark = pytest.mark.postgres

MAX = "max.muster@firma.at"


def _refused(reply: str | None, rule: str) -> bool:
    return reply is not None and reply.startswith(f"550 5.7.1 {rule}:")


async def test_an_objection_is_recorded_globally_even_when_a_national_entry_matches(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts(
        [Contact(email=MAX, country="AT", consent=ConsentState.WITHDRAWN, source="fair")]
    )
    # The import wrote the global entry; an operator lifted it, a national list has the address.
    assert await relay.store.remove_suppression(address=MAX) == 1
    await relay.store.add_suppression(
        address=MAX, scope="national:AT", origin=SuppressionOrigin.IMPORT
    )

    sent = await relay.send(MAX)

    assert _refused(sent.rcpt[MAX], "suppressed"), sent
    scopes = {(s.scope, s.origin) for s in await relay.store.is_suppressed(MAX)}
    assert ("global", SuppressionOrigin.OBJECTION) in scopes, scopes
    assert relay.delivered == []
