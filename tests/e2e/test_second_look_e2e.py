"""Issue 13 (compliance rules, second look) through real SMTP and the real CLI."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from proxy.model import ConsentState, Contact, SourceKind, SuppressionOrigin
from tests.e2e.conftest import SENDER, FullRelayFactory, make_message
from tests.unit.policy_factory import consented

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


async def test_explain_shows_the_new_reasons(full_relay: FullRelayFactory, tmp_path: Path) -> None:
    relay = await full_relay()
    undated, brokered, works = "undated@gmail.com", "bought@gmail.com", "works@gmail.com"
    await relay.store.upsert_contacts(
        [
            consented(undated, consent_controller="acme", consent_at=None),
            consented(
                brokered, consent_controller="acme", source_kind=SourceKind.BROKER, source="list"
            ),
            consented(works, consent_controller="acme", contract_until=date(2027, 3, 1)),
            consented(STALE, consent_controller="acme", collected_at=date(2020, 1, 1),
                      consent_at=date(2026, 10, 1)),
        ]
    )  # fmt: skip
    await relay.store.add_suppression(
        address=NOWHERE, scope="national:AT", origin=SuppressionOrigin.IMPORT
    )
    eml = tmp_path / "msg.eml"
    eml.write_bytes(make_message(works, headers={"X-Prospect-Category": "energy-renovation"}))
    args = ["explain", str(eml), "--from", SENDER, "--today", "2026-12-01"]
    for address in (undated, brokered, works, STALE, NOWHERE):
        args += ["--to", address]

    result = await relay.cli(*args)

    assert result.exit_code == 0, result.output
    out = result.output
    assert re.search(r"^  hit   consent-invalid .*\[consent\.no-date\]", _part(out, undated), re.M)
    assert re.search(
        r"^  hit   consent-invalid .*\[consent\.partner-not-named\]", _part(out, brokered), re.M
    )
    assert re.search(
        r"^  hit   sector-ban .*until 2027-03-01 \[sector\.contract-in-progress\]",
        _part(out, works),
        re.M,
    )
    assert re.search(r"^  miss  stale-prospect ", _part(out, STALE), re.M)
    assert "retention='within the retention window'" in _part(out, STALE)
    assert re.search(
        r"^  hit   suppressed .*\[suppression\.national-unknown-country\]",
        _part(out, NOWHERE),
        re.M,
    )
    assert relay.delivered == []


STALE = "old.friend@gmail.com"
NOWHERE = "someone@firma.com"


def _part(output: str, address: str) -> str:
    return output.split(f"== {address}\n")[1].split("\n== ")[0]
