"""The store against a real database: facts, suppressions, send records, erasure, audit."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.errors import StoreUnavailable
from proxy.model import (
    Action,
    Basis,
    ConsentMethod,
    ConsentState,
    Contact,
    Kind,
    SourceKind,
    SuppressionOrigin,
)
from proxy.settings import DatabaseSettings
from proxy.store import (
    AuditRecord,
    Store,
    address_hash,
    create_engine,
    domain_hash,
    normalise_address,
    schema_is_current,
    schema_status,
    sha256_hash,
    upgrade,
)
from proxy.store.tables import metadata
from tests.conftest import stored_audit
from tests.databases import HASH_KEY

FULL = Contact(
    email="jo.doe+news@example.fr",
    kind=Kind.B2C,
    country="FR",
    source="website form",
    source_kind=SourceKind.DIRECT,
    collected_at=date(2024, 2, 1),
    consent=ConsentState.GRANTED,
    consent_at=date(2024, 2, 1),
    consent_method=ConsentMethod.DOUBLE_OPT_IN,
    consent_proof="form-42",
    consent_controller="acme",
    partner_named=True,
    customer_of=("shoes", "socks"),
    last_purchase=date(2025, 5, 6),
    objection_offered=True,
    marketing_refused=False,
    job_function="buyer",
    last_interaction=date(2025, 6, 7),
)


# -- hashing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("  Jo.Doe+News@Example.FR ", "jo.doe+news@example.fr"),
        ("<a@b.fr>", "a@b.fr"),
        ("user@BÜCHER.example", "user@xn--bcher-kva.example"),
        ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
        ('"quoted name"@Example.com', '"quoted name"@example.com'),
        ("first.last@example.com.", "first.last@example.com"),
    ],
)
def test_normalise_address(given: str, expected: str) -> None:
    assert normalise_address(given) == expected


def test_hashes_keep_tags_and_dots_apart() -> None:
    base = address_hash(HASH_KEY, "jodoe@example.com")
    assert address_hash(HASH_KEY, "JoDoe@Example.com") == base
    assert address_hash(HASH_KEY, "jo.doe@example.com") != base
    assert address_hash(HASH_KEY, "jodoe+x@example.com") != base
    assert address_hash(b"another key", "jodoe@example.com") != base
    assert address_hash(HASH_KEY, "u@bücher.de") == address_hash(HASH_KEY, "u@xn--bcher-kva.de")
    assert domain_hash(HASH_KEY, "Example.COM") == domain_hash(HASH_KEY, "@example.com")
    assert domain_hash(HASH_KEY, "example.com") != address_hash(HASH_KEY, "example.com")
    assert sha256_hash(" A@B.fr") == hashlib.sha256(b"a@b.fr").hexdigest()


# -- schema --------------------------------------------------------------------------------


# SQLite cannot reflect the expression index on the hash prefix; Alembic then skips it.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
async def test_upgrade_is_idempotent_and_matches_the_tables(database_url: str) -> None:
    assert not await schema_is_current(database_url)
    assert (await schema_status(database_url)).current is None
    first = await upgrade(database_url)
    second = await upgrade(database_url)
    assert first.is_current and second.is_current
    assert await schema_is_current(database_url)

    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    engine = create_engine(DatabaseSettings(url=database_url))
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_concurrent_upgrades_do_not_collide(database_url: str) -> None:
    results = await asyncio.gather(upgrade(database_url), upgrade(database_url))
    assert all(status.is_current for status in results)


# -- recipient facts -----------------------------------------------------------------------


async def test_contact_round_trip_and_facts_by_any_spelling(store: Store) -> None:
    result = await store.upsert_contacts([FULL])
    assert (result.inserted, result.updated) == (1, 0)
    assert await store.get_contact("JO.DOE+NEWS@example.FR") == FULL
    assert await store.get_contact_by_hash(store.address_hash(FULL.email)) == FULL
    given = ["Jo.Doe+News@Example.fr", "nobody@example.fr"]
    facts = await store.load_recipient_facts(given)
    assert set(facts) == set(given)
    assert facts["Jo.Doe+News@Example.fr"].contact == FULL
    assert facts["Jo.Doe+News@Example.fr"].suppressions == ()
    assert facts["nobody@example.fr"].contact is None
    assert await store.load_recipient_facts([]) == {}


async def test_suppressions_match_by_hash_plain_sha256_and_domain(store: Store) -> None:
    assert await store.add_suppression(address="a@x.fr", origin=SuppressionOrigin.ONE_CLICK)
    assert await store.add_suppression(
        sha256=sha256_hash("b@x.fr"), scope="controller:acme", origin=SuppressionOrigin.IMPORT
    )
    assert await store.add_suppression(
        domain="blocked.example", scope="national:at", origin=SuppressionOrigin.MANUAL
    )
    facts = await store.load_recipient_facts(["A@X.fr", "b@x.fr", "c@Blocked.example", "d@x.fr"])
    (a,) = facts["A@X.fr"].suppressions
    assert (a.scope, a.origin, a.domain_wide) == ("global", SuppressionOrigin.ONE_CLICK, False)
    assert a.created_at.tzinfo is not None
    (b,) = facts["b@x.fr"].suppressions
    assert (b.scope, b.origin) == ("controller:acme", SuppressionOrigin.IMPORT)
    (c,) = facts["c@Blocked.example"].suppressions
    assert (c.scope, c.domain_wide) == ("national:AT", True)
    assert facts["d@x.fr"].suppressions == ()
    assert [s.scope for s in await store.is_suppressed("b@x.fr", "controller:acme")] == [
        "controller:acme"
    ]
    assert await store.is_suppressed("b@x.fr", "global") == []
    assert len(await store.is_domain_suppressed("blocked.example")) == 1
    assert await store.suppression_count() == 3


async def test_suppressing_twice_is_one_row_also_concurrently(store: Store) -> None:
    outcomes = await asyncio.gather(
        *(
            store.add_suppression(address="twice@x.fr", origin=SuppressionOrigin.PAGE)
            for _ in range(8)
        )
    )
    assert sorted(outcomes) == [False] * 7 + [True]
    assert await store.suppression_count() == 1
    assert await store.add_suppression(
        address="twice@x.fr", scope="controller:acme", origin=SuppressionOrigin.PAGE
    )
    assert await store.suppression_count() == 2


async def test_remove_suppression_by_scope_and_plain_hash(store: Store) -> None:
    await store.add_suppression(address="r@x.fr", origin=SuppressionOrigin.MANUAL)
    await store.add_suppression(sha256=sha256_hash("r@x.fr"), origin=SuppressionOrigin.IMPORT)
    await store.add_suppression(
        address="r@x.fr", scope="controller:acme", origin=SuppressionOrigin.MANUAL
    )
    assert await store.remove_suppression(address="r@x.fr") == 2  # keyed and plain, global
    assert [s.scope for s in await store.is_suppressed("r@x.fr")] == ["controller:acme"]
    assert await store.remove_suppression(address="r@x.fr", scope=None) == 1
    assert await store.remove_suppression(address="r@x.fr", scope=None) == 0
    with pytest.raises(ValueError, match="exactly one"):
        await store.remove_suppression(address="r@x.fr", domain="x.fr")
    with pytest.raises(ValueError, match="scope"):
        await store.add_suppression(address="r@x.fr", scope="acme", origin=SuppressionOrigin.MANUAL)


async def test_export_streams_every_entry(store: Store) -> None:
    for n in range(5):
        await store.add_suppression(address=f"e{n}@x.fr", origin=SuppressionOrigin.MAILTO)
    entries = [entry async for entry in store.export_suppressions()]
    assert [e.hash for e in entries] == [store.address_hash(f"e{n}@x.fr") for n in range(5)]
    assert {e.kind for e in entries} == {"address"}
    assert "@" not in "".join(e.hash + e.scope for e in entries)


# -- send records --------------------------------------------------------------------------


async def test_repermission_is_claimed_once_across_concurrent_callers(store: Store) -> None:
    hashed = store.address_hash("late@x.fr")
    claims = await asyncio.gather(*(store.record_repermission(hashed) for _ in range(6)))
    assert sorted(claims) == [False] * 5 + [True]
    assert await store.record_first_message(hashed)
    assert not await store.record_first_message(hashed)
    facts = (await store.load_recipient_facts(["LATE@x.fr"]))["LATE@x.fr"]
    assert facts.contact is None  # recorded for an address outside the register
    assert facts.first_message_at is not None and facts.repermission_at is not None
    with pytest.raises(ValueError, match="hexadecimal"):
        await store.record_first_message("late@x.fr")


# -- consent and erasure -------------------------------------------------------------------


async def test_withdrawal_suppresses_and_a_grant_never_lifts_it(store: Store) -> None:
    await store.upsert_contacts([FULL])
    contact, created = await store.set_consent(FULL.email, ConsentState.WITHDRAWN)
    assert created and contact is not None and contact.consent is ConsentState.WITHDRAWN
    assert contact.source == FULL.source  # the rest of the record is untouched
    (entry,) = await store.is_suppressed(FULL.email)
    assert entry.origin is SuppressionOrigin.OBJECTION
    contact, created = await store.set_consent(
        FULL.email, ConsentState.GRANTED, method=ConsentMethod.CHECKBOX, at=date(2026, 1, 2)
    )
    assert not created and contact is not None
    assert (contact.consent, contact.consent_at) == (ConsentState.GRANTED, date(2026, 1, 2))
    assert contact.consent_method is ConsentMethod.CHECKBOX
    assert len(await store.is_suppressed(FULL.email)) == 1
    unknown, created = await store.set_consent("stranger@x.fr", ConsentState.WITHDRAWN)
    assert unknown is None and created
    assert await store.get_contact("stranger@x.fr") is None


async def test_forget_erases_the_person_and_keeps_the_suppression(store: Store) -> None:
    await store.upsert_contacts([FULL])
    hashed = store.address_hash(FULL.email)
    await store.record_first_message(hashed)
    await store.add_suppression(address=FULL.email, origin=SuppressionOrigin.ONE_CLICK)
    result = await store.forget(FULL.email.upper())
    assert (result.contact_deleted, result.sends_deleted) == (True, True)
    assert not result.suppression_created  # the one-click objection is kept as it was
    facts = (await store.load_recipient_facts([FULL.email]))[FULL.email]
    assert facts.contact is None and facts.first_message_at is None
    assert [s.origin for s in facts.suppressions] == [SuppressionOrigin.ONE_CLICK]
    again = await store.forget("never-seen@x.fr")
    assert (again.contact_deleted, again.suppression_created) == (False, True)
    (entry,) = await store.is_suppressed("never-seen@x.fr")
    assert entry.origin is SuppressionOrigin.ERASURE


async def test_concurrent_bulk_upserts_lose_nothing(store: Store) -> None:
    def rows(start: int) -> list[dict[str, object]]:
        return [
            {"email": f"p{n}@x.fr", "kind": "b2b", "marketing_refused": n % 10 == 0}
            for n in range(start, start + 3000)
        ]

    columns = ["email", "kind", "marketing_refused"]
    first, second = await asyncio.gather(
        store.upsert_contact_rows(rows(0), columns), store.upsert_contact_rows(rows(1500), columns)
    )
    assert first.inserted + second.inserted == 4500
    assert first.updated + second.updated == 1500
    assert await store.suppression_count() == 450
    assert first.suppressions_created + second.suppressions_created == 450
    assert (await store.get_contact("p4499@x.fr")) is not None


# -- audit ---------------------------------------------------------------------------------


async def test_audit_records_stream_in_order(store: Store, engine: AsyncEngine) -> None:
    start = datetime(2026, 11, 1, 12, tzinfo=UTC)
    records = [
        AuditRecord(
            created_at=start + timedelta(days=n),
            queue_id=f"q{n}",
            sender_hash="a" * 64,
            recipient_hash="b" * 64,
            action=Action.REJECT if n % 2 else Action.REWRITE,
            rule_ids=("suppressed", "b2c-no-consent") if n % 2 else (),
            basis=Basis.NONE if n % 2 else Basis.CONSENT,
            campaign="spring",
            country="FR",
            instance="relay-1",
        )
        for n in range(4)
    ]
    await store.record_audit(list(reversed(records)))
    streamed = await stored_audit(engine, start + timedelta(days=1), start + timedelta(days=3))
    assert streamed == records[1:3]
    assert [r.queue_id for r in await stored_audit(engine)] == ["q0", "q1", "q2", "q3"]


# -- failure -------------------------------------------------------------------------------


async def test_unmigrated_database_is_unavailable_not_a_crash(database_url: str) -> None:
    engine = create_engine(DatabaseSettings(url=database_url))
    try:
        store = Store(engine, HASH_KEY, timeout=2.0)
        await store.ping()
        with pytest.raises(StoreUnavailable, match="loading recipient facts"):
            await store.load_recipient_facts(["a@x.fr"])
    finally:
        await engine.dispose()


async def test_unreachable_database_is_unavailable() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none"
    engine = create_engine(DatabaseSettings(url=url, timeout=1.0))
    try:
        store = Store(engine, HASH_KEY, timeout=1.0)
        with pytest.raises(StoreUnavailable):
            await store.load_recipient_facts(["a@x.fr"])
        with pytest.raises(StoreUnavailable):
            await store.ping()
    finally:
        await engine.dispose()


async def test_a_schema_from_a_newer_version_is_named_not_migrated(migrated_url: str) -> None:
    engine = create_engine(DatabaseSettings(url=migrated_url))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        await engine.dispose()
    status = await schema_status(migrated_url)
    assert not status.known and not status.is_current
    assert "newer than this prospect-relay" in status.advice()
    with pytest.raises(StoreUnavailable, match="upgrade prospect-relay"):
        await upgrade(migrated_url)
