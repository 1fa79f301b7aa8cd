"""The register: one row per person (consent, source, kind), imported or set one by one.

Every write to the `contacts` table is here (the hot lookup reads it, see lookups; erasure
deletes from it, see erasure). An objection in a row also suppresses the address, in the
same transaction; nothing here ever lifts a suppression.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.feedback.events import EventRoutes, EventType, new_event
from proxy.model import ConsentMethod, ConsentState, Contact, SuppressionOrigin
from proxy.store.bulk import BulkUpsert, count_existing, write_rows
from proxy.store.contact_rows import CONTACT_COLUMNS, contact_to_row, is_objection, row_to_contact
from proxy.store.guard import Guard, dialect_insert
from proxy.store.hasher import Hasher, check_hex
from proxy.store.hashing import hmac_hex, normalise_address
from proxy.store.records import UpsertResult
from proxy.store.scopes import GLOBAL_SCOPE
from proxy.store.sends import rekey_sends
from proxy.store.suppressions import (
    insert_suppressions,
    rekey_suppressions,
    suppress_with_event,
    suppression_row,
)
from proxy.store.tables import HASH_KIND_ADDRESS, contacts, has_hash
from proxy.store.webhook_queue import enqueue

__all__ = ["ContactRegister", "contact_by_hash"]

_PG_IMPORT_LOCK = 0x70726F74  # advisory lock id serialising contact import batches


def contact_by_hash(address_hash: str) -> Select[Any]:
    """The register row of one keyed hash (an indexed read through the hash prefix, see
    `tables.has_hash`): the webhook payload's address, the recipient pages, the art. 15 copy."""
    return select(contacts).where(has_hash(contacts.c.address_hash, address_hash))


class ContactRegister:
    def __init__(self, guard: Guard, hasher: Hasher, routes: EventRoutes) -> None:
        self._guard = guard
        self._hash = hasher
        self._routes = routes
        self._upserts: dict[tuple[str, tuple[str, ...]], BulkUpsert] = {}

    async def get_contact(self, address: str) -> Contact | None:
        email = normalise_address(address)
        async with self._guard.read("reading a contact") as connection:
            row = (
                await connection.execute(select(contacts).where(contacts.c.email == email))
            ).first()
        return None if row is None else row_to_contact(row._mapping)

    async def get_contact_by_hash(self, address_hash: str) -> Contact | None:
        """The contact whose keyed hash this is (an indexed read through the hash prefix)."""
        statement = contact_by_hash(check_hex(address_hash))
        async with self._guard.read("reading a contact") as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else row_to_contact(row._mapping)

    async def upsert_contacts(self, rows: Sequence[Contact]) -> UpsertResult:
        """Insert or fully replace these contacts (objections add suppressions)."""
        return await self.upsert_contact_rows(
            [contact_to_row(contact) for contact in rows], CONTACT_COLUMNS
        )

    async def upsert_contact_rows(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str],
        *,
        normalised: bool = False,
    ) -> UpsertResult:
        """Bulk upsert: rows hold `columns` (the CSV's); an update touches only those.

        A row whose consent is withdrawn or whose marketing is refused also gets a global
        suppression (origin objection). Nothing here ever lifts a suppression.
        One transaction for the batch: give it a few thousand rows at a time.
        `normalised=True` says the emails already went through normalise_address.
        """
        now = datetime.now(UTC)
        by_email: dict[str, Mapping[str, Any]] = {}
        for row in rows:  # the last row for an address wins, as if applied in order
            by_email[row["email"] if normalised else normalise_address(row["email"])] = row
        if not by_email:
            return UpsertResult(0, 0, 0)
        async with self._guard.write("importing contacts", bounded=False) as connection:
            if connection.dialect.name == "postgresql":
                # Concurrent imports take turns per batch (as on SQLite), so the
                # inserted/updated counts of each are exact; the rows are safe either way.
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_IMPORT_LOCK}
                )
            upsert = self._contact_upsert(connection, columns)
            stamp = upsert.timestamp(now)
            params = []
            objections = []
            for email, row in by_email.items():
                hashed = hmac_hex(self._hash.key, email)  # email is already normalised
                params.append(upsert.params(row, email, hashed, stamp))
                if is_objection(row):
                    objections.append(
                        suppression_row(
                            hashed,
                            HASH_KIND_ADDRESS,
                            GLOBAL_SCOPE,
                            SuppressionOrigin.OBJECTION,
                            now,
                        )
                    )
            existing = await count_existing(connection, list(by_email))
            await write_rows(connection, upsert, params)
            created = await insert_suppressions(connection, objections)
        return UpsertResult(len(by_email) - existing, existing, created, len(rows) - len(by_email))

    def _contact_upsert(self, connection: AsyncConnection, columns: Sequence[str]) -> BulkUpsert:
        key = (connection.dialect.name, tuple(columns))
        upsert = self._upserts.get(key)
        if upsert is None:
            upsert = self._upserts[key] = BulkUpsert.compile(
                connection.dialect, dialect_insert(connection, contacts), columns
            )
        return upsert

    async def set_consent(
        self,
        address: str,
        state: ConsentState,
        *,
        method: ConsentMethod | None = None,
        proof: str | None = None,
        controller: str | None = None,
        at: date | None = None,
    ) -> tuple[Contact | None, bool]:
        """Record a grant (creating the contact if needed) or a withdrawal.

        A withdrawal also suppresses the address globally (origin objection), even when
        the person is not in the register; a grant never lifts a suppression.
        Returns the contact as stored (None for a withdrawal of an unknown address) and
        whether a suppression was created.
        """
        email = normalise_address(address)
        now = datetime.now(UTC)
        row: dict[str, Any] = {
            "email": email,
            "consent": state.value,
            "consent_at": at or now.date(),
        }
        if state is ConsentState.GRANTED:
            row |= {
                "consent_method": method.value if method else None,
                "consent_proof": proof,
                "consent_controller": controller,
            }
            result = await self.upsert_contact_rows([row], list(row))
            return await self.get_contact(email), result.suppressions_created > 0
        async with self._guard.write("withdrawing consent", bounded=False) as connection:
            await connection.execute(
                contacts.update()
                .where(contacts.c.email == email)
                .values(consent=state.value, consent_at=row["consent_at"], updated_at=now)
            )
            created = False
            if state is ConsentState.WITHDRAWN:
                hashed = self._hash.address(email)
                objection = new_event(
                    EventType.OBJECTION,
                    now,
                    hashed,
                    origin=SuppressionOrigin.OBJECTION.value,
                    scope=GLOBAL_SCOPE,
                )
                await enqueue(connection, self._routes, [objection])
                created = await suppress_with_event(
                    connection,
                    self._routes,
                    HASH_KIND_ADDRESS,
                    hashed,
                    GLOBAL_SCOPE,
                    SuppressionOrigin.OBJECTION,
                    now,
                )
        return await self.get_contact(email), created

    async def renormalise_addresses(self) -> int:
        """Move register rows stored in a spelling that is not the normal form (quoted local
        parts imported by the CSV fast path before issue 13: `"anne.marie"@x` kept its quotes)
        to the normal form, with their suppressions and send records re-hashed. Idempotent;
        `db upgrade` runs it. Returns how many register rows were fixed."""
        async with self._guard.read("reading quoted addresses", bounded=False) as connection:
            rows = (
                await connection.execute(
                    select(contacts.c.email).where(contacts.c.email.contains('"'))
                )
            ).all()
        moves = [
            (row.email, normal)
            for row in rows
            if (normal := normalise_address(row.email)) != row.email
        ]
        for old, new in moves:
            await self._move_address(old, new)
        return len(moves)

    async def _move_address(self, old: str, new: str) -> None:
        old_hash, new_hash = hmac_hex(self._hash.key, old), self._hash.address(new)
        async with self._guard.write("re-normalising an address", bounded=False) as connection:
            taken = await connection.scalar(
                select(func.count()).select_from(contacts).where(contacts.c.email == new)
            )
            if taken:  # the normal spelling was imported too: that row is the one used
                await connection.execute(delete(contacts).where(contacts.c.email == old))
            else:
                await connection.execute(
                    contacts.update()
                    .where(contacts.c.email == old)
                    .values(email=new, address_hash=new_hash)
                )
            await rekey_suppressions(connection, old_hash, new_hash)
            await rekey_sends(connection, old_hash, new_hash)
