"""The relay's hot read: every fact the RCPT and DATA checks need about a batch of recipients.

This module holds the SQL of the per-recipient lookup, and only that: `CONTACT_FACTS`, the
register rows by address (unique index on `contacts.email`), and `HASH_FACTS`, in one UNION
the suppressions by hash (the (hash, kind, scope) unique index) with the send marks (primary
key `sends.address_hash`). Two indexed reads per batch, whatever its size
(tests/integration/test_lookup_indexes.py checks the plans). On PostgreSQL they run through
SQLAlchemy. On a SQLite file they run in one hop to the reader thread (see sqlite_reads), as
SQL text expanded once from these same statements and executed on the pysqlite connection
(see driver_select): SQLAlchemy's per-call rendering, row wrapping and conversion lookups
were half of a lookup's CPU (about 300 -> 160 µs per lookup measured with 20k suppressions).
tests/integration/test_driver_reads.py checks both paths give the same facts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import String, bindparam, cast, literal, null, select, text, union_all
from sqlalchemy.engine import Connection

from proxy.model import Contact, RecipientFacts, Suppression, SuppressionOrigin
from proxy.store.contact_rows import CONTACT_COLUMNS, row_to_contact
from proxy.store.database import sqlite_reader
from proxy.store.driver_select import DriverSelect
from proxy.store.guard import Guard
from proxy.store.hasher import Hasher
from proxy.store.hashing import normalise_address
from proxy.store.sqlite_reads import SqliteReader
from proxy.store.tables import (
    HASH_KIND_ADDRESS,
    HASH_KIND_DOMAIN,
    HASH_KIND_SHA256,
    UtcDateTime,
    contacts,
    sends,
    suppressions,
)

__all__ = ["CONTACT_FACTS", "HASH_FACTS", "FactsReader"]

_SEND_ROW = "send"
_NO_TIME = cast(null(), UtcDateTime)
# The register rows of the batch's addresses (unique index on the normalised email): the
# columns of a Contact.
CONTACT_FACTS = select(*(contacts.c[name] for name in CONTACT_COLUMNS)).where(
    contacts.c.email.in_(bindparam("emails", expanding=True))
)
# Suppressions and send records are both keyed by hash: one round trip reads them together
# (the (hash, kind, scope) unique index; the primary key of sends).
HASH_FACTS = union_all(
    select(
        suppressions.c.hash,
        suppressions.c.kind,
        suppressions.c.scope,
        suppressions.c.origin,
        suppressions.c.created_at,
        _NO_TIME.label("first_message_at"),
        _NO_TIME.label("repermission_at"),
    ).where(suppressions.c.hash.in_(bindparam("wanted", expanding=True))),
    select(
        sends.c.address_hash,
        literal(_SEND_ROW, String),
        null(),
        null(),
        _NO_TIME,
        sends.c.first_message_at,
        sends.c.repermission_at,
    ).where(sends.c.address_hash.in_(bindparam("keyed", expanding=True))),
)


# What one lookup reads: the contacts by email, the rows of HASH_FACTS (as sequences).
_Rows = tuple[dict[str, Contact], Sequence[Sequence[Any]]]


def _query_facts(
    emails: list[str], wanted: list[str], keyed: list[str], connection: Connection
) -> _Rows:
    """The register's rows for one lookup through SQLAlchemy, in one transaction (sync: runs
    in the async driver's greenlet; the PostgreSQL path)."""
    contact_rows = connection.execute(CONTACT_FACTS, {"emails": emails})
    by_email = {row.email: row_to_contact(row._mapping) for row in contact_rows}
    hash_rows = connection.execute(HASH_FACTS, {"wanted": wanted, "keyed": keyed}).all()
    return by_email, hash_rows


class _SqliteFacts:
    """The same reads, on the SQLite reader's pysqlite connection (see driver_select)."""

    def __init__(self, reader: SqliteReader) -> None:
        self._reader = reader
        self._contacts = DriverSelect(CONTACT_FACTS, reader.dialect)
        self._hashes = DriverSelect(HASH_FACTS, reader.dialect)

    async def query(self, emails: list[str], wanted: list[str], keyed: list[str]) -> _Rows:
        return await self._reader.run(partial(self._read, emails, wanted, keyed))

    def _read(
        self, emails: list[str], wanted: list[str], keyed: list[str], connection: sqlite3.Connection
    ) -> _Rows:
        keys = self._contacts.keys
        by_email = {}
        for row in self._contacts.rows(connection, {"emails": emails}):
            contact = row_to_contact(dict(zip(keys, row, strict=True)))
            by_email[contact.email] = contact
        return by_email, self._hashes.rows(connection, {"wanted": wanted, "keyed": keyed})


class FactsReader:
    """Recipient facts for the RCPT and DATA checks, under the store's lookup deadline."""

    def __init__(self, guard: Guard, hasher: Hasher) -> None:
        self._guard = guard
        self._hash = hasher
        reader = sqlite_reader(guard.engine)  # SQLite file: the read in one thread hop
        self._sqlite = None if reader is None else _SqliteFacts(reader)

    async def load_recipient_facts(self, addresses: Sequence[str]) -> dict[str, RecipientFacts]:
        """Facts for each address (keyed as given), in two indexed reads for the batch."""
        if not addresses:
            return {}
        normalised = {address: normalise_address(address) for address in addresses}
        emails = set(normalised.values())
        keyed = {email: self._hash.address(email) for email in emails}
        plain = {email: self._hash.imported(email) for email in emails}
        domains = {email: self._hash.domains_of(email) for email in emails}
        wanted = {*keyed.values(), *plain.values(), *(h for hs in domains.values() for h in hs)}
        lists = (list(emails), list(wanted), list(keyed.values()))
        async with self._guard.deadline("loading recipient facts"):
            if self._sqlite is not None:
                by_email, hash_rows = await self._sqlite.query(*lists)
            else:
                async with self._guard.engine.connect() as connection:
                    by_email, hash_rows = await connection.run_sync(partial(_query_facts, *lists))
        by_hash: dict[tuple[str, str], list[Suppression]] = {}
        by_send: dict[str, tuple[datetime | None, datetime | None]] = {}
        for hashed, kind, scope, origin, created_at, first_message_at, repermission_at in hash_rows:
            if kind == _SEND_ROW:
                by_send[hashed] = (first_message_at, repermission_at)
                continue
            by_hash.setdefault((kind, hashed), []).append(
                Suppression(
                    scope=scope,
                    origin=SuppressionOrigin(origin),
                    created_at=created_at,
                    domain_wide=kind == HASH_KIND_DOMAIN,
                )
            )
        facts: dict[str, RecipientFacts] = {}
        for address, email in normalised.items():
            found = (
                *by_hash.get((HASH_KIND_ADDRESS, keyed[email]), ()),
                *by_hash.get((HASH_KIND_SHA256, plain[email]), ()),
                *(
                    entry
                    for hashed in domains[email]
                    for entry in by_hash.get((HASH_KIND_DOMAIN, hashed), ())
                ),
            )
            first_message_at, repermission_at = by_send.get(keyed[email], (None, None))
            facts[address] = RecipientFacts(
                address=address,
                contact=by_email.get(email),
                suppressions=found,
                first_message_at=first_message_at,
                repermission_at=repermission_at,
            )
        return facts

    async def ping(self) -> None:
        """Readiness: one round trip to the database within the lookup deadline."""
        async with self._guard.read("ping") as connection:
            await connection.execute(text("SELECT 1"))
