"""The relay's hot read: every fact the RCPT and DATA checks need about a batch of recipients.

This module holds the SQL of the per-recipient lookup, and only that: `CONTACT_FACTS`, the
register rows by address (unique index on `contacts.email`), and `HASH_FACTS`, in one UNION
the suppressions by hash (the (hash, kind, scope) unique index) with the send marks (primary
key `sends.address_hash`). Two indexed reads per batch, whatever its size
(tests/integration/test_lookup_indexes.py checks the plans); on a SQLite file they run in
one hop to the reader thread (see sqlite_reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from sqlalchemy import String, bindparam, cast, literal, null, select, text, union_all
from sqlalchemy.engine import Connection, Row

from proxy.model import Contact, RecipientFacts, Suppression, SuppressionOrigin
from proxy.store.contact_rows import row_to_contact
from proxy.store.database import sqlite_reader
from proxy.store.guard import Guard
from proxy.store.hasher import Hasher
from proxy.store.hashing import normalise_address
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
# The register rows of the batch's addresses (unique index on the normalised email).
CONTACT_FACTS = select(contacts).where(contacts.c.email.in_(bindparam("emails", expanding=True)))
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


def _query_facts(
    emails: list[str], wanted: list[str], keyed: list[str], connection: Connection
) -> tuple[dict[str, Contact], list[Row[Any]]]:
    """The register's rows for one lookup, read in one transaction (sync: runs on a thread
    for SQLite, in the async driver's greenlet otherwise)."""
    contact_rows = connection.execute(CONTACT_FACTS, {"emails": emails})
    by_email = {row.email: row_to_contact(row._mapping) for row in contact_rows}
    hash_rows = connection.execute(HASH_FACTS, {"wanted": wanted, "keyed": keyed}).all()
    return by_email, list(hash_rows)


class FactsReader:
    """Recipient facts for the RCPT and DATA checks, under the store's lookup deadline."""

    def __init__(self, guard: Guard, hasher: Hasher) -> None:
        self._guard = guard
        self._hash = hasher
        self._sqlite = sqlite_reader(guard.engine)  # SQLite file: the read in one thread hop

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
        query = partial(_query_facts, list(emails), list(wanted), list(keyed.values()))
        async with self._guard.deadline("loading recipient facts"):
            if self._sqlite is not None:
                by_email, hash_rows = await self._sqlite.run(query)
            else:
                async with self._guard.engine.connect() as connection:
                    by_email, hash_rows = await connection.run_sync(query)
        by_hash: dict[tuple[str, str], list[Suppression]] = {}
        by_send: dict[str, Any] = {}
        for row in hash_rows:
            if row.kind == _SEND_ROW:
                by_send[row.hash] = row
                continue
            by_hash.setdefault((row.kind, row.hash), []).append(
                Suppression(
                    scope=row.scope,
                    origin=SuppressionOrigin(row.origin),
                    created_at=row.created_at,
                    domain_wide=row.kind == HASH_KIND_DOMAIN,
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
            sent = by_send.get(keyed[email])
            facts[address] = RecipientFacts(
                address=address,
                contact=by_email.get(email),
                suppressions=found,
                first_message_at=sent.first_message_at if sent is not None else None,
                repermission_at=sent.repermission_at if sent is not None else None,
            )
        return facts

    async def ping(self) -> None:
        """Readiness: one round trip to the database within the lookup deadline."""
        async with self._guard.read("ping") as connection:
            await connection.execute(text("SELECT 1"))
