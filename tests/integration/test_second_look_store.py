"""Issue 13 (compliance rules, second look) at the store: quoted local parts and domain
suppressions covering subdomains. Real database (SQLite or PostgreSQL), CSV import, CLI."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, date, datetime, timedelta

from proxy.model import (
    ConsentMethod,
    ConsentState,
    Contact,
    Kind,
    RecipientFacts,
    SuppressionOrigin,
)
from proxy.policy.derive import months_before, retention_eval
from proxy.policy.lastcontact import last_contact
from proxy.policy.policy_file import Policy, Retention
from proxy.settings import DatabaseSettings
from proxy.store import Store, create_engine
from proxy.store.hashing import hmac_hex
from proxy.store.importer import import_contacts
from proxy.store.purge import PurgeCutoffs, count_purgeable, purge
from tests.databases import HASH_KEY
from tests.integration.ops_helpers import Cli

QUOTED = '"anne.marie"@example.fr'
PLAIN = "anne.marie@example.fr"
SPELLINGS = (QUOTED, PLAIN, '"Anne.Marie"@Example.FR', " <anne.marie@EXAMPLE.fr.> ")


async def _import(store: Store, text: str) -> None:
    errors: list[tuple[int, str]] = []
    await import_contacts(
        store, io.StringIO(text, newline=""), on_error=lambda n, r: errors.append((n, r))
    )
    assert errors == []


# -- 13.5: one normalisation everywhere -------------------------------------------------------


async def test_a_quoted_import_is_stored_once_under_the_plain_spelling(store: Store) -> None:
    await _import(store, f"email,country\n{QUOTED},FR\n")
    await _import(store, f"email,country\n{PLAIN},DE\n")  # the same mailbox: an update

    for spelling in SPELLINGS:
        found = await store.get_contact(spelling)
        assert found is not None and found.email == PLAIN and found.country == "DE", spelling


async def test_an_objection_imported_quoted_suppresses_every_spelling(store: Store) -> None:
    await _import(store, f"email,consent\n{QUOTED},withdrawn\n")

    for spelling in SPELLINGS:
        listed = await store.is_suppressed(spelling)
        assert [s.origin for s in listed] == [SuppressionOrigin.OBJECTION], spelling


async def test_forget_erases_a_quoted_import(store: Store) -> None:
    await _import(store, f"email,country\n{QUOTED},FR\n")

    result = await store.forget(PLAIN)

    assert result.contact_deleted
    assert await store.get_contact(QUOTED) is None


def test_cli_suppress_check_and_forget_accept_either_spelling(run: Cli) -> None:
    run("db", "upgrade")
    run("contacts", "import", run.write("c.csv", f"email,country\n{QUOTED},FR\n"))
    run("suppress", "add", QUOTED)

    assert "suppressed" in run("suppress", "check", PLAIN).output
    assert "suppressed" in run("suppress", "check", '"Anne.Marie"@example.fr').output
    assert "register entry erased" in run("forget", PLAIN).output
    assert "not in the register" in run("contacts", "show", QUOTED).output


# -- 13.7: a domain suppression covers its subdomains ----------------------------------------


async def test_domain_suppression_covers_subdomains_not_siblings(store: Store) -> None:
    await store.add_suppression(domain="acme.fr", origin=SuppressionOrigin.MANUAL)

    for covered in ("paul@acme.fr", "paul@sales.acme.fr", "x@a.b.acme.fr", "y@SALES.Acme.FR"):
        found = await store.is_suppressed(covered)
        assert [s.domain_wide for s in found] == [True], covered
    for free in ("paul@notacme.fr", "paul@acme.fr.example", "paul@acme.com", "paul@fr"):
        assert await store.is_suppressed(free) == [], free
    assert await store.is_domain_suppressed("eu.sales.acme.fr")
    assert not await store.is_domain_suppressed("acme.com")


async def test_a_subdomain_suppression_does_not_cover_its_parent(store: Store) -> None:
    await store.add_suppression(domain="sales.acme.fr", origin=SuppressionOrigin.MANUAL)

    assert await store.is_suppressed("paul@sales.acme.fr")
    assert await store.is_suppressed("paul@acme.fr") == []


async def test_rows_stored_quoted_by_the_old_fast_path_are_moved_with_their_hashes(
    store: Store,
) -> None:
    # What the CSV fast path stored before the fix: the quoted spelling, hashed as such.
    columns = ["email", "country", "consent"]
    await store.upsert_contact_rows(
        [
            {"email": QUOTED, "country": "FR", "consent": "withdrawn"},
            {"email": '"bob"@example.fr', "country": "FR", "consent": "none"},
            {"email": "bob@example.fr", "country": "DE", "consent": "none"},
        ],
        columns,
        normalised=True,
    )
    await store.record_first_message(hmac_hex(HASH_KEY, QUOTED))
    assert await store.is_suppressed(PLAIN) == []  # the objection hides under the old hash

    assert await store.renormalise_addresses() == 2
    assert await store.renormalise_addresses() == 0  # idempotent

    found = await store.get_contact(PLAIN)
    assert found is not None and found.email == PLAIN
    assert [s.origin for s in await store.is_suppressed(PLAIN)] == [SuppressionOrigin.OBJECTION]
    bob = await store.get_contact('"bob"@example.fr')
    assert bob is not None and bob.email == "bob@example.fr" and bob.country == "DE"
    assert (await store.load_recipient_facts([PLAIN]))[PLAIN].first_message_at is not None
    assert (await store.forget(QUOTED)).contact_deleted


# -- 13.9: one definition of "last contact" for the stale-prospect rule and purge ------------

_DAYS = (None, "old", "edge", "recent")


def _day(which: str | None, cutoff: date) -> date | None:
    return {
        None: None,
        "old": cutoff - timedelta(days=1),
        "edge": cutoff,
        "recent": cutoff + timedelta(days=400),
    }[which]


def _register(cutoff: date) -> list[Contact]:
    """Every combination of collection, interaction and consent dates around the cutoff,
    with standing, withdrawn and not-an-act consents."""
    people: list[Contact] = []
    consents = (
        (ConsentState.GRANTED, ConsentMethod.CHECKBOX),
        (ConsentState.GRANTED, ConsentMethod.PRE_TICKED),
        (ConsentState.GRANTED, None),
        (ConsentState.WITHDRAWN, ConsentMethod.CHECKBOX),
        (ConsentState.NONE, None),
    )
    for n, (collected, clicked, consented_on, (state, method)) in enumerate(
        itertools.product(_DAYS, _DAYS, _DAYS, consents)
    ):
        people.append(
            Contact(
                email=f"p{n}@prospects.example",
                kind=Kind.B2B,
                collected_at=_day(collected, cutoff),
                last_interaction=_day(clicked, cutoff),
                consent=state,
                consent_at=_day(consented_on, cutoff),
                consent_method=method,
            )
        )
    return people


async def test_purge_removes_exactly_the_contacts_the_rule_calls_stale(
    store: Store, migrated_url: str
) -> None:
    today = date(2026, 12, 1)
    retention = Retention()
    cutoff = months_before(today, retention.prospect_months)
    people = _register(cutoff)
    await store.upsert_contacts(people)
    policy = Policy.model_validate(
        {"controllers": {"a": {"legal_name": "A", "postal_address": "x", "domains": ["a.fr"],
                               "privacy_url": "https://a.fr/p"}}}
    )  # fmt: skip
    stale = {
        c.email
        for c in people
        if retention_eval(
            RecipientFacts(c.email, c), "a", None, policy.profile("FR"), policy, today
        ).stale
    }
    assert stale == {c.email for c in people if (lc := last_contact(c)) and lc < cutoff}
    assert 0 < len(stale) < len(people)

    engine = create_engine(DatabaseSettings(url=migrated_url))
    try:
        limits = PurgeCutoffs(
            audit_before=datetime(2000, 1, 1, tzinfo=UTC),
            prospect_before=cutoff,
            customer_before=months_before(today, retention.customer_months),
        )
        assert (await count_purgeable(engine, limits)).contacts == len(stale)
        await purge(engine, limits)
    finally:
        await engine.dispose()
    kept = {c.email for c in people if await store.get_contact(c.email) is not None}
    assert kept == {c.email for c in people} - stale
