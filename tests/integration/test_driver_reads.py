"""The SQLite reader's precompiled reads (store/driver_select.py) give exactly the facts the
SQLAlchemy path gives.

The oracle is the same `FactsReader` on an engine that has no SQLite reader (SQLAlchemy
through aiosqlite, the path PostgreSQL takes): random registers, suppression lists and send
marks are written through the Store's public methods, then both read the same file, and
every field of every `RecipientFacts` must be equal, of the same type and, for datetimes,
in the same zone.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.sqlite import pysqlite
from sqlalchemy.ext.asyncio import create_async_engine

from proxy.model import (
    ConsentMethod,
    ConsentState,
    Contact,
    Kind,
    SourceKind,
    SuppressionOrigin,
)
from proxy.settings import DatabaseSettings
from proxy.store import Store, create_engine, upgrade
from proxy.store.database import sqlite_reader
from proxy.store.driver_select import DriverSelect
from proxy.store.hashing import sha256_hash
from proxy.store.lookups import HASH_FACTS
from proxy.store.tables import UtcDateTime, sends
from tests.databases import HASH_KEY
from tests.unit.policy_factory import consented

DOMAINS = ("acme.fr", "sales.acme.fr", "firm.example", "mail.firm.example", "other.de")
LOCALS = ("marie", "paul", "j.dupont", "info", "x+tag")
ADDRESSES = tuple(f"{local}@{domain}" for local in LOCALS for domain in DOMAINS)
SCOPES = ("global", "controller:acme", "national:FR")

_text = st.none() | st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_day = st.none() | st.dates(date(1990, 1, 1), date(2040, 12, 31))
_maybe_bool = st.none() | st.booleans()
_families = st.lists(st.sampled_from(("crm", "erp", "b2b-saas", "été")), max_size=3, unique=True)


@st.composite
def _contacts(draw: st.DrawFn) -> Contact:
    return Contact(
        email=draw(st.sampled_from(ADDRESSES)),
        kind=draw(st.none() | st.sampled_from(Kind)),
        country=draw(st.none() | st.sampled_from(("FR", "DE", "BE", "GB"))),
        source=draw(_text),
        source_kind=draw(st.none() | st.sampled_from(SourceKind)),
        collected_at=draw(_day),
        consent=draw(st.sampled_from(ConsentState)),
        consent_at=draw(_day),
        consent_method=draw(st.none() | st.sampled_from(ConsentMethod)),
        consent_proof=draw(_text),
        consent_controller=draw(_text),
        partner_named=draw(_maybe_bool),
        customer_of=tuple(draw(_families)),
        last_purchase=draw(_day),
        objection_offered=draw(_maybe_bool),
        marketing_refused=draw(st.booleans()),
        job_function=draw(_text),
        last_interaction=draw(_day),
        contract_until=draw(_day),
    )


_suppressions = st.tuples(
    st.sampled_from(("address", "domain", "sha256")),
    st.sampled_from(ADDRESSES),
    st.sampled_from(SCOPES),
    st.sampled_from(SuppressionOrigin),
)
_marks = st.tuples(st.sampled_from(ADDRESSES), st.booleans(), st.booleans())
_spellings = st.sampled_from(ADDRESSES).flatmap(
    lambda address: st.sampled_from((address, address.upper(), address.capitalize()))
)
_batches = st.lists(_spellings | st.just("nobody@unknown.example"), min_size=1, max_size=30)


@dataclass(frozen=True)
class World:
    contacts: list[Contact]
    suppressions: list[tuple[str, str, str, SuppressionOrigin]]
    marks: list[tuple[str, bool, bool]]
    batches: list[list[str]]


_worlds = st.builds(
    World,
    st.lists(_contacts(), max_size=15),
    st.lists(_suppressions, max_size=20),
    st.lists(_marks, max_size=10),
    st.lists(_batches, min_size=1, max_size=4),
)


async def _write(store: Store, world: World) -> None:
    if world.contacts:
        await store.upsert_contacts(world.contacts)
    for kind, address, scope, origin in world.suppressions:
        target: dict[str, str] = {
            "address": {"address": address},
            "domain": {"domain": address.partition("@")[2]},
            "sha256": {"sha256": sha256_hash(address)},
        }[kind]
        await store.add_suppression(**target, scope=scope, origin=origin)
    for address, first, repermission in world.marks:
        if first:
            await store.record_first_message(store.address_hash(address))
        if repermission:
            await store.record_repermission(store.address_hash(address))


def _typed(value: Any) -> Any:
    """`value` with the type of every part and the zone of every datetime spelt out."""
    if is_dataclass(value) and not isinstance(value, type):
        return (type(value), tuple((f.name, _typed(getattr(value, f.name))) for f in fields(value)))
    if isinstance(value, tuple):
        return tuple(_typed(item) for item in value)
    return (type(value), value, getattr(value, "tzinfo", None))


async def _compare(url: str, world: World) -> int:
    """Write `world`, read each batch both ways; how many facts were compared."""
    engine = create_engine(DatabaseSettings(url=url))
    oracle_engine = create_async_engine(url)  # no reader: the SQLAlchemy path
    try:
        assert sqlite_reader(engine) is not None and sqlite_reader(oracle_engine) is None
        store, oracle = Store(engine, HASH_KEY), Store(oracle_engine, HASH_KEY)
        await _write(store, world)
        compared = 0
        for batch in world.batches:
            got = await store.load_recipient_facts(batch)
            expected = await oracle.load_recipient_facts(batch)
            assert got == expected
            assert _typed(got) == _typed(expected)
            compared += len(got)
        return compared
    finally:
        await engine.dispose()
        await oracle_engine.dispose()


def test_the_driver_reads_give_the_facts_sqlalchemy_gives(tmp_path: Path) -> None:
    template = tmp_path / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{template}"))
    runs = iter(range(10**6))
    found: list[int] = []

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_worlds)
    def check(world: World) -> None:
        copy = tmp_path / f"run-{next(runs)}.db"
        shutil.copyfile(template, copy)
        found.append(asyncio.run(_compare(f"sqlite+aiosqlite:///{copy}", world)))
        copy.unlink()

    check()
    assert sum(found) > 0


def test_a_populated_register_reads_the_same_both_ways(tmp_path: Path) -> None:
    """A fixed world where every kind of fact is present, so a hit of each kind is compared
    whatever the random examples drew."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'fixed.db'}"
    asyncio.run(upgrade(url))
    world = World(
        contacts=[
            consented(
                "marie@sales.acme.fr",
                kind=Kind.B2B,
                partner_named=False,
                customer_of=("crm", "erp"),
                last_purchase=date(2025, 1, 31),
                objection_offered=True,
                job_function="DAF",
                contract_until=date(2027, 6, 30),
            ),
            Contact(email="paul@firm.example", consent=ConsentState.WITHDRAWN),
        ],
        suppressions=[
            ("address", "marie@sales.acme.fr", "controller:acme", SuppressionOrigin.PAGE),
            ("domain", "x@acme.fr", "global", SuppressionOrigin.MANUAL),
            ("sha256", "marie@sales.acme.fr", "national:FR", SuppressionOrigin.IMPORT),
        ],
        marks=[("marie@sales.acme.fr", True, True), ("paul@firm.example", True, False)],
        batches=[["Marie@Sales.Acme.fr", "paul@firm.example", "nobody@unknown.example"]],
    )
    assert asyncio.run(_compare(url, world)) == 3


def test_sql_texts_are_reused_across_list_sizes() -> None:
    """IN lists are padded to a power of two with NULL: a handful of texts for any batch."""
    hashes = DriverSelect(HASH_FACTS, pysqlite.dialect())
    texts = set()
    for size in range(1, 41):
        sql, params = hashes.expand({"wanted": ["h"] * size, "keyed": ["k"]})
        texts.add(sql)
        padded = 1 << (size - 1).bit_length()
        assert params.count("h") == size and params.count(None) == padded - size
        assert sql.count("?") == len(params)
    assert len(texts) == 7  # 1, 2, 4, 8, 16, 32, 64 wanted hashes


def test_a_parameter_needing_conversion_is_refused() -> None:
    since = bindparam("since", type_=UtcDateTime)
    statement = select(sends.c.address_hash).where(sends.c.first_message_at > since)
    with pytest.raises(TypeError, match="since"):
        DriverSelect(statement, pysqlite.dialect())
