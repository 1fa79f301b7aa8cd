"""The suppression list: who must not be mailed, in which scope, since when and why.

Every statement on the `suppressions` table is here. Other areas that suppress inside their
own transaction (an objection, a bounce, an erasure) call `suppress` / `insert_suppressions`
with their connection, so the suppression and its webhook event commit with their change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.feedback.events import Event, EventRoutes, EventType, new_event
from proxy.model import Suppression, SuppressionOrigin
from proxy.store.guard import Guard, dialect_insert
from proxy.store.hasher import Hasher, check_hex
from proxy.store.hashing import normalise_domain, suppression_domains
from proxy.store.records import SuppressionEntry
from proxy.store.scopes import GLOBAL_SCOPE, normalise_scope
from proxy.store.tables import HASH_KIND_ADDRESS, HASH_KIND_DOMAIN, HASH_KIND_SHA256, suppressions
from proxy.store.webhook_queue import enqueue

__all__ = [
    "SuppressionList",
    "insert_suppressions",
    "rekey_suppressions",
    "suppress_with_event",
    "suppression_row",
]


def suppression_row(
    value: str, kind: str, scope: str, origin: SuppressionOrigin, created_at: datetime
) -> dict[str, Any]:
    return {
        "hash": value,
        "kind": kind,
        "scope": scope,
        "origin": origin.value,
        "created_at": created_at,
    }


async def insert_suppressions(
    connection: AsyncConnection, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Insert rows that are not yet listed; returns how many were new."""
    if not rows:
        return 0
    statement = dialect_insert(connection, suppressions).on_conflict_do_nothing(
        index_elements=["hash", "kind", "scope"]
    )
    if len(rows) == 1:
        result = await connection.execute(statement, rows[0])
        return max(result.rowcount, 0)
    # RETURNING yields only the rows really inserted, also under concurrent writers.
    result = await connection.execute(statement.returning(suppressions.c.id), list(rows))
    return len(result.all())


async def suppress_with_event(
    connection: AsyncConnection,
    routes: EventRoutes,
    kind: str,
    value: str,
    scope: str,
    origin: SuppressionOrigin,
    now: datetime,
    detail: str | None = None,
) -> bool:
    """One suppression, and its `suppression` webhook event when it is new; True if new.

    An upsert on (hash, kind, scope): suppressing twice, even concurrently from several
    instances, leaves one row and keeps the first date and origin."""
    scope = normalise_scope(scope)
    row = suppression_row(value, kind, scope, origin, now)
    created = await insert_suppressions(connection, [row]) == 1
    if created:
        address = kind == HASH_KIND_ADDRESS
        event = new_event(
            EventType.SUPPRESSION,
            now,
            value if address else None,
            kind=kind,
            scope=scope,
            origin=origin.value,
            detail=detail,
            **({} if address else {"hash": value}),
        )
        await enqueue(connection, routes, [event])
    return created


async def rekey_suppressions(connection: AsyncConnection, old_hash: str, new_hash: str) -> None:
    """Move an address's suppressions to its new hash (see ContactRegister.renormalise)."""
    listed = (
        await connection.execute(
            select(suppressions).where(
                suppressions.c.kind == HASH_KIND_ADDRESS, suppressions.c.hash == old_hash
            )
        )
    ).all()
    await insert_suppressions(
        connection,
        [
            suppression_row(
                new_hash, HASH_KIND_ADDRESS, r.scope, SuppressionOrigin(r.origin), r.created_at
            )
            for r in listed
        ],
    )
    await connection.execute(
        delete(suppressions).where(
            suppressions.c.kind == HASH_KIND_ADDRESS, suppressions.c.hash == old_hash
        )
    )


class SuppressionList:
    """Adds, lifts, checks, counts, imports and exports suppressions."""

    def __init__(self, guard: Guard, hasher: Hasher, routes: EventRoutes) -> None:
        self._guard = guard
        self._hash = hasher
        self._routes = routes  # which webhook endpoints want which events

    def _target(
        self,
        address: str | None,
        address_hash: str | None,
        domain: str | None,
        sha256: str | None,
    ) -> tuple[str, str]:
        given = [value for value in (address, address_hash, domain, sha256) if value]
        if len(given) != 1:
            raise ValueError("give exactly one of address, address_hash, domain, sha256")
        if address:
            return HASH_KIND_ADDRESS, self._hash.address(address)
        if domain:
            return HASH_KIND_DOMAIN, self._hash.domain(domain)
        if address_hash:
            return HASH_KIND_ADDRESS, check_hex(address_hash)
        assert sha256 is not None
        return HASH_KIND_SHA256, self._hash.sha256_key(check_hex(sha256))

    async def add_suppression(
        self,
        *,
        address: str | None = None,
        address_hash: str | None = None,
        domain: str | None = None,
        sha256: str | None = None,
        scope: str = GLOBAL_SCOPE,
        origin: SuppressionOrigin,
    ) -> bool:
        """Suppress one address / keyed hash / domain / plain SHA-256; True if it is new.

        A new entry queues a `suppression` webhook event in the same transaction (see
        `suppress`)."""
        kind, value = self._target(address, address_hash, domain, sha256)
        async with self._guard.write("adding a suppression") as connection:
            return await suppress_with_event(
                connection, self._routes, kind, value, scope, origin, datetime.now(UTC)
            )

    async def add_objection(
        self, address_hash: str, scope: str, origin: SuppressionOrigin, objection: Event
    ) -> bool:
        """A person's objection: the suppression and its `objection` event, together."""
        value = check_hex(address_hash)
        async with self._guard.write("recording an objection") as connection:
            await enqueue(connection, self._routes, [objection])
            return await suppress_with_event(
                connection,
                self._routes,
                HASH_KIND_ADDRESS,
                value,
                scope,
                origin,
                objection.occurred_at,
            )

    async def import_suppressions(self, entries: Iterable[SuppressionEntry]) -> int:
        """Add many entries in one transaction (existing ones are kept); returns new ones."""
        rows = [suppression_row(e.hash, e.kind, e.scope, e.origin, e.created_at) for e in entries]
        async with self._guard.write("importing suppressions", bounded=False) as connection:
            return await insert_suppressions(connection, rows)

    async def remove_suppression(
        self,
        *,
        address: str | None = None,
        address_hash: str | None = None,
        domain: str | None = None,
        sha256: str | None = None,
        scope: str | None = GLOBAL_SCOPE,
    ) -> int:
        """Lift suppressions of one target in `scope` (None: every scope); returns the count.

        For an address this also lifts an imported SHA-256 entry of that address.
        """
        kind, value = self._target(address, address_hash, domain, sha256)
        targets = [and_(suppressions.c.kind == kind, suppressions.c.hash == value)]
        if address:
            targets.append(
                and_(
                    suppressions.c.kind == HASH_KIND_SHA256,
                    suppressions.c.hash == self._hash.imported(address),
                )
            )
        statement = delete(suppressions).where(or_(*targets))
        if scope is not None:
            statement = statement.where(suppressions.c.scope == normalise_scope(scope))
        async with self._guard.write("removing a suppression") as connection:
            result = await connection.execute(statement)
            return max(result.rowcount, 0)

    async def has_address_suppression(self, address_hash: str, scope: str) -> bool:
        """An address suppression for this keyed hash in `scope` or the global scope."""
        statement = select(suppressions.c.id).where(
            suppressions.c.kind == HASH_KIND_ADDRESS,
            suppressions.c.hash == check_hex(address_hash),
            suppressions.c.scope.in_([normalise_scope(scope), GLOBAL_SCOPE]),
        )
        async with self._guard.read("checking a suppression") as connection:
            return (await connection.execute(statement.limit(1))).first() is not None

    async def is_domain_suppressed(
        self, domain: str, scope: str | None = None
    ) -> list[Suppression]:
        """Suppressions of the domain or of a parent domain (they cover its subdomains)."""
        hashes = [self._hash.domain(d) for d in suppression_domains(normalise_domain(domain))]
        statement = select(suppressions).where(
            suppressions.c.kind == HASH_KIND_DOMAIN, suppressions.c.hash.in_(hashes)
        )
        if scope is not None:
            statement = statement.where(suppressions.c.scope == scope)
        async with self._guard.read("checking a domain") as connection:
            rows = (await connection.execute(statement)).all()
        return [
            Suppression(row.scope, SuppressionOrigin(row.origin), row.created_at, True)
            for row in rows
        ]

    async def suppression_count(self) -> int:
        async with self._guard.read("counting suppressions") as connection:
            count = await connection.scalar(select(func.count()).select_from(suppressions))
        return int(count or 0)

    async def export_suppressions(self) -> AsyncIterator[SuppressionEntry]:
        """Stream every suppression (hash, kind, scope, origin, date), oldest first."""
        statement = select(suppressions).order_by(suppressions.c.id)
        async with self._guard.read("exporting suppressions", bounded=False) as connection:
            result = await connection.stream(statement.execution_options(yield_per=5000))
            async for row in result:
                yield SuppressionEntry(
                    hash=row.hash,
                    kind=row.kind,
                    scope=row.scope,
                    origin=SuppressionOrigin(row.origin),
                    created_at=row.created_at,
                )
