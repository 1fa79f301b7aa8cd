"""`Store`: the one object the relay, the web pages and the CLI use to read and write facts."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    cast,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from proxy.feedback.events import NO_ROUTES, Event, EventRoutes, EventType, new_event
from proxy.model import (
    Action,
    Basis,
    ConsentMethod,
    ConsentState,
    Contact,
    RecipientFacts,
    Suppression,
    SuppressionOrigin,
)
from proxy.store.bulk import BulkUpsert, count_existing, write_rows
from proxy.store.contact_rows import CONTACT_COLUMNS, contact_to_row, is_objection, row_to_contact
from proxy.store.database import sqlite_reader
from proxy.store.guard import Guard, dialect_insert
from proxy.store.hashing import (
    address_hash,
    domain_hash,
    hmac_hex,
    keyed_sha256,
    normalise_address,
    normalise_domain,
    sha256_hash,
    suppression_domains,
)
from proxy.store.records import (
    AuditRecord,
    FeedbackEntry,
    ForgetResult,
    SuppressionEntry,
    UpsertResult,
)
from proxy.store.scopes import GLOBAL_SCOPE, normalise_scope
from proxy.store.tables import (
    HASH_KIND_ADDRESS,
    HASH_KIND_DOMAIN,
    HASH_KIND_SHA256,
    UtcDateTime,
    audit_records,
    contacts,
    feedback_events,
    has_hash,
    sends,
    suppressions,
)
from proxy.store.webhook_queue import enqueue

__all__ = ["Store"]

log = logging.getLogger(__name__)

_PG_IMPORT_LOCK = 0x70726F74  # advisory lock id serialising contact import batches


_SEND_ROW = "send"
_NO_TIME = cast(null(), UtcDateTime)
# Suppressions and send records are both keyed by hash: one round trip reads them together.
_HASH_FACTS = union_all(
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
    emails: set[str], wanted: list[str], keyed: list[str], connection: Connection
) -> tuple[dict[str, Contact], list[Row[Any]]]:
    """The register's rows for one lookup, read in one transaction (sync: runs on a thread
    for SQLite, in the async driver's greenlet otherwise)."""
    contact_rows = connection.execute(select(contacts).where(contacts.c.email.in_(emails)))
    by_email = {row.email: row_to_contact(row._mapping) for row in contact_rows}
    hash_rows = connection.execute(_HASH_FACTS, {"wanted": wanted, "keyed": keyed}).all()
    return by_email, list(hash_rows)


def _now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Register, suppression list, send records and audit trail on one database.

    Every method opens its own short transaction, so callers never hold a connection
    across an SMTP round trip. Database errors and timeouts become `StoreUnavailable`:
    the relay answers 451 (fail closed) and the CLI prints one line.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        hash_key: bytes,
        *,
        timeout: float = 5.0,
        routes: EventRoutes = NO_ROUTES,
    ) -> None:
        if not hash_key:
            raise ValueError("the hash key must not be empty")
        self._engine = engine
        self._guard = Guard(engine, timeout)
        self._key = hash_key
        self._routes = routes  # which webhook endpoints want which events
        self._upserts: dict[tuple[str, tuple[str, ...]], BulkUpsert] = {}
        self._sqlite = sqlite_reader(engine)  # SQLite file: the hot read in one thread hop
        # Hashes are pure functions of key and address (no register fact): the relay hashes
        # each recipient several times per message (lookup, token, audit), once is enough.
        self._address_hashes = lru_cache(maxsize=4096)(partial(address_hash, hash_key))
        self._domain_hashes = lru_cache(maxsize=4096)(partial(domain_hash, hash_key))
        self._imported_hashes = lru_cache(maxsize=4096)(self._imported_hash)

    # -- hashing -----------------------------------------------------------------------

    def sha256_key(self, sha256_hex: str) -> str:
        """What an imported SHA-256 of an address is stored as (keyed, see hashing)."""
        return keyed_sha256(self._key, sha256_hex)

    def _imported_hash(self, address: str) -> str:
        return keyed_sha256(self._key, sha256_hash(address))

    def address_hash(self, address: str) -> str:
        """The keyed hash of `address` (what suppressions, sends and audit records hold)."""
        return self._address_hashes(address)

    def domain_hash(self, domain: str) -> str:
        return self._domain_hashes(domain)

    def _domain_hashes_of(self, email: str) -> tuple[str, ...]:
        """Hashes of the address's domain and of each parent domain: a domain suppression of
        `acme.fr` covers `sales.acme.fr` (see `suppression_domains`)."""
        return tuple(self.domain_hash(d) for d in suppression_domains(email.rpartition("@")[2]))

    # -- the relay's read path ---------------------------------------------------------

    async def load_recipient_facts(self, addresses: Sequence[str]) -> dict[str, RecipientFacts]:
        """Facts for each address (keyed as given), in two indexed reads for the batch."""
        if not addresses:
            return {}
        normalised = {address: normalise_address(address) for address in addresses}
        emails = set(normalised.values())
        keyed = {email: self.address_hash(email) for email in emails}
        plain = {email: self._imported_hashes(email) for email in emails}
        domains = {email: self._domain_hashes_of(email) for email in emails}
        wanted = {*keyed.values(), *plain.values(), *(h for hs in domains.values() for h in hs)}
        query = partial(_query_facts, emails, list(wanted), list(keyed.values()))
        async with self._guard.deadline("loading recipient facts"):
            if self._sqlite is not None:
                by_email, hash_rows = await self._sqlite.run(query)
            else:
                async with self._engine.connect() as connection:
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
        """Readiness: one round trip to the database within the lookup timeout."""
        async with self._guard.read("ping") as connection:
            await connection.execute(text("SELECT 1"))

    # -- suppressions ------------------------------------------------------------------

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
            return HASH_KIND_ADDRESS, self.address_hash(address)
        if domain:
            return HASH_KIND_DOMAIN, self.domain_hash(domain)
        if address_hash:
            return HASH_KIND_ADDRESS, _check_hex(address_hash)
        assert sha256 is not None
        return HASH_KIND_SHA256, self.sha256_key(_check_hex(sha256))

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

        An upsert on (hash, kind, scope): suppressing twice, even concurrently from
        several instances, leaves one row and keeps the first date and origin. A new entry
        queues a `suppression` webhook event in the same transaction.
        """
        kind, value = self._target(address, address_hash, domain, sha256)
        async with self._guard.write("adding a suppression") as connection:
            return await self._suppress(connection, kind, value, scope, origin, _now())

    async def add_objection(
        self, address_hash: str, scope: str, origin: SuppressionOrigin, objection: Event
    ) -> bool:
        """A person's objection: the suppression and its `objection` event, together."""
        value = _check_hex(address_hash)
        async with self._guard.write("recording an objection") as connection:
            await enqueue(connection, self._routes, [objection])
            return await self._suppress(
                connection, HASH_KIND_ADDRESS, value, scope, origin, objection.occurred_at
            )

    async def _suppress(
        self,
        connection: AsyncConnection,
        kind: str,
        value: str,
        scope: str,
        origin: SuppressionOrigin,
        now: datetime,
        detail: str | None = None,
    ) -> bool:
        scope = normalise_scope(scope)
        row = _suppression_row(value, kind, scope, origin, now)
        created = await self._insert_suppressions(connection, [row]) == 1
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
            await enqueue(connection, self._routes, [event])
        return created

    async def record_feedback(
        self, entry: FeedbackEntry, *, suppress: SuppressionOrigin | None, event: Event
    ) -> bool:
        """Keep a bounce or complaint, queue its event and, when `suppress` says so, suppress
        the address globally, in one transaction; True if the suppression is new."""
        hashed = _check_hex(entry.address_hash)
        row = {
            "created_at": entry.created_at,
            "address_hash": hashed,
            "kind": entry.kind,
            "status": entry.status[:32],
            "campaign": entry.campaign,
            "source": entry.source,
            "detail": entry.detail[:200] if entry.detail else None,
            "suppressed": suppress is not None,
        }
        async with self._guard.write("recording a bounce or complaint") as connection:
            await connection.execute(feedback_events.insert(), row)
            await enqueue(connection, self._routes, [event])
            if suppress is None:
                return False
            return await self._suppress(
                connection,
                HASH_KIND_ADDRESS,
                hashed,
                GLOBAL_SCOPE,
                suppress,
                entry.created_at,
                detail=f"{entry.kind} {entry.status}",
            )

    async def feedback_of(
        self, address_hash: str, since: datetime | None = None
    ) -> list[FeedbackEntry]:
        """The bounces and complaints recorded for one address hash, oldest first."""
        statement = (
            select(feedback_events)
            .where(feedback_events.c.address_hash == _check_hex(address_hash))
            .order_by(feedback_events.c.created_at, feedback_events.c.id)
        )
        if since is not None:
            statement = statement.where(feedback_events.c.created_at >= since)
        async with self._guard.read("reading bounces and complaints") as connection:
            rows = (await connection.execute(statement)).all()
        return [
            FeedbackEntry(
                created_at=row.created_at,
                address_hash=row.address_hash,
                kind=row.kind,
                status=row.status,
                source=row.source,
                campaign=row.campaign,
                detail=row.detail,
                suppressed=row.suppressed,
            )
            for row in rows
        ]

    async def emit_event(self, *events: Event) -> int:
        """Queue events for the webhook endpoints that want them (e.g. an erasure request
        handled elsewhere); returns the number of deliveries queued."""
        async with self._guard.write("queueing webhook events") as connection:
            return await enqueue(connection, self._routes, events)

    async def _insert_suppressions(
        self, connection: AsyncConnection, rows: Sequence[Mapping[str, Any]]
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

    async def _count_suppressions(self, connection: AsyncConnection) -> int:
        count = await connection.scalar(select(func.count()).select_from(suppressions))
        return int(count or 0)

    async def import_suppressions(self, entries: Iterable[SuppressionEntry]) -> int:
        """Add many entries in one transaction (existing ones are kept); returns new ones."""
        rows = [_suppression_row(e.hash, e.kind, e.scope, e.origin, e.created_at) for e in entries]
        async with self._guard.write("importing suppressions", bounded=False) as connection:
            return await self._insert_suppressions(connection, rows)

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
                    suppressions.c.hash == self._imported_hashes(address),
                )
            )
        statement = delete(suppressions).where(or_(*targets))
        if scope is not None:
            statement = statement.where(suppressions.c.scope == normalise_scope(scope))
        async with self._guard.write("removing a suppression") as connection:
            result = await connection.execute(statement)
            return max(result.rowcount, 0)

    async def is_suppressed(self, address: str, scope: str | None = None) -> list[Suppression]:
        """The suppressions matching `address` (its hashes or its domain), optionally one scope."""
        facts = await self.load_recipient_facts([address])
        found = facts[address].suppressions
        return [entry for entry in found if scope is None or entry.scope == scope]

    async def has_address_suppression(self, address_hash: str, scope: str) -> bool:
        """An address suppression for this keyed hash in `scope` or the global scope."""
        statement = select(suppressions.c.id).where(
            suppressions.c.kind == HASH_KIND_ADDRESS,
            suppressions.c.hash == _check_hex(address_hash),
            suppressions.c.scope.in_([normalise_scope(scope), GLOBAL_SCOPE]),
        )
        async with self._guard.read("checking a suppression") as connection:
            return (await connection.execute(statement.limit(1))).first() is not None

    async def is_domain_suppressed(
        self, domain: str, scope: str | None = None
    ) -> list[Suppression]:
        """Suppressions of the domain or of a parent domain (they cover its subdomains)."""
        hashes = [self.domain_hash(d) for d in suppression_domains(normalise_domain(domain))]
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
            return await self._count_suppressions(connection)

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

    # -- send records ------------------------------------------------------------------

    async def _record_send(self, address_hash: str, column: str) -> bool:
        value = {"address_hash": _check_hex(address_hash), column: _now()}
        async with self._guard.write("recording a send") as connection:
            statement = dialect_insert(connection, sends)
            statement = statement.on_conflict_do_update(
                index_elements=["address_hash"],
                set_={column: statement.excluded[column]},
                where=sends.c[column].is_(None),
            )
            result = await connection.execute(statement, value)
            return result.rowcount == 1

    async def record_first_message(self, address_hash: str) -> bool:
        """Note that the first-contact notice went to this recipient; True the first time."""
        return await self._record_send(address_hash, "first_message_at")

    async def record_repermission(self, address_hash: str) -> bool:
        """Claim the one re-permission message for this recipient, atomically.

        True only for the single caller that recorded it; every later (or concurrent)
        caller on any instance gets False and must not send another one.
        """
        return await self._record_send(address_hash, "repermission_at")

    async def release_repermission(self, address_hash: str) -> None:
        """Give back a claim whose message the upstream did not accept (a later retry may
        send it). Only the claim's holder calls this: every other caller was refused."""
        statement = (
            update(sends)
            .where(sends.c.address_hash == _check_hex(address_hash))
            .values(repermission_at=None)
        )
        async with self._guard.write("releasing a re-permission claim") as connection:
            await connection.execute(statement)

    # -- contacts ----------------------------------------------------------------------

    async def get_contact(self, address: str) -> Contact | None:
        email = normalise_address(address)
        async with self._guard.read("reading a contact") as connection:
            row = (
                await connection.execute(select(contacts).where(contacts.c.email == email))
            ).first()
        return None if row is None else row_to_contact(row._mapping)

    async def get_contact_by_hash(self, address_hash: str) -> Contact | None:
        """The contact whose keyed hash this is (an indexed read through the hash prefix)."""
        value = _check_hex(address_hash)
        statement = select(contacts).where(has_hash(contacts.c.address_hash, value))
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
        now = _now()
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
                hashed = hmac_hex(self._key, email)  # email is already normalised
                params.append(upsert.params(row, email, hashed, stamp))
                if is_objection(row):
                    objections.append(
                        _suppression_row(
                            hashed,
                            HASH_KIND_ADDRESS,
                            GLOBAL_SCOPE,
                            SuppressionOrigin.OBJECTION,
                            now,
                        )
                    )
            existing = await count_existing(connection, list(by_email))
            await write_rows(connection, upsert, params)
            created = await self._insert_suppressions(connection, objections)
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
        now = _now()
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
                hashed = self.address_hash(email)
                objection = new_event(
                    EventType.OBJECTION,
                    now,
                    hashed,
                    origin=SuppressionOrigin.OBJECTION.value,
                    scope=GLOBAL_SCOPE,
                )
                await enqueue(connection, self._routes, [objection])
                created = await self._suppress(
                    connection,
                    HASH_KIND_ADDRESS,
                    hashed,
                    GLOBAL_SCOPE,
                    SuppressionOrigin.OBJECTION,
                    now,
                )
        return await self.get_contact(email), created

    async def forget(self, address: str) -> ForgetResult:
        """Erase the person's register data and send records; keep (or add) the suppression."""
        email = normalise_address(address)
        return await self._erase(contacts.c.email == email, self.address_hash(email))

    async def forget_hash(self, address_hash: str) -> ForgetResult:
        """`forget` for a person known only by the keyed hash (an unsubscribe token)."""
        value = _check_hex(address_hash)
        return await self._erase(has_hash(contacts.c.address_hash, value), value)

    async def _erase(self, contact: ColumnElement[bool], hashed: str) -> ForgetResult:
        async with self._guard.write("erasing a contact", bounded=False) as connection:
            deleted = await connection.execute(delete(contacts).where(contact))
            sent = await connection.execute(delete(sends).where(sends.c.address_hash == hashed))
            now = _now()
            created = await self._insert_suppressions(
                connection,
                [
                    _suppression_row(
                        hashed, HASH_KIND_ADDRESS, GLOBAL_SCOPE, SuppressionOrigin.ERASURE, now
                    )
                ],
            )
            await enqueue(connection, self._routes, [new_event(EventType.ERASURE, now, hashed)])
        if self._engine.dialect.name == "sqlite":
            await self._truncate_wal()
        return ForgetResult(deleted.rowcount > 0, sent.rowcount > 0, created > 0)

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
        old_hash, new_hash = hmac_hex(self._key, old), self.address_hash(new)
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
            listed = (
                await connection.execute(
                    select(suppressions).where(
                        suppressions.c.kind == HASH_KIND_ADDRESS, suppressions.c.hash == old_hash
                    )
                )
            ).all()
            await self._insert_suppressions(
                connection,
                [
                    _suppression_row(
                        new_hash,
                        HASH_KIND_ADDRESS,
                        r.scope,
                        SuppressionOrigin(r.origin),
                        r.created_at,
                    )
                    for r in listed
                ],
            )
            await connection.execute(
                delete(suppressions).where(
                    suppressions.c.kind == HASH_KIND_ADDRESS, suppressions.c.hash == old_hash
                )
            )
            sent = await connection.scalar(
                select(func.count()).select_from(sends).where(sends.c.address_hash == new_hash)
            )
            moved = delete(sends) if sent else sends.update().values(address_hash=new_hash)
            await connection.execute(moved.where(sends.c.address_hash == old_hash))

    async def _truncate_wal(self) -> None:
        """Copy the WAL into the database file and empty it: the erased rows' old pages must
        not stay readable there (secure_delete zeroes them in the database file itself)."""
        async with self._guard.read("checkpointing the database", bounded=False) as connection:
            # (the deferred BEGIN takes no snapshot before a read: the checkpoint can finish)
            result = await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = result.one()[0]
        if busy:
            log.warning("erasure: readers kept the WAL busy; it is emptied at the next checkpoint")

    # -- audit trail -------------------------------------------------------------------

    async def record_audit(self, records: Sequence[AuditRecord]) -> None:
        if not records:
            return
        rows = [
            {
                "created_at": record.created_at,
                "queue_id": record.queue_id,
                "campaign": record.campaign,
                "sender_hash": record.sender_hash,
                "recipient_hash": record.recipient_hash,
                "country": record.country,
                "action": record.action.value,
                "rule_ids": ",".join(record.rule_ids),
                "basis": record.basis.value,
                "basis_detail": record.basis_detail,
                "instance": record.instance,
                "would_action": record.would_action.value if record.would_action else None,
                "would_rule_ids": ",".join(record.would_rule_ids) or None,
            }
            for record in records
        ]
        async with self._guard.write("recording audit records") as connection:
            await connection.execute(audit_records.insert(), rows)

    async def stream_audit(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> AsyncIterator[AuditRecord]:
        """Audit records with since <= created_at < until, oldest first, streamed."""
        statement = select(audit_records).order_by(audit_records.c.created_at, audit_records.c.id)
        if since is not None:
            statement = statement.where(audit_records.c.created_at >= since)
        if until is not None:
            statement = statement.where(audit_records.c.created_at < until)
        async with self._guard.read("reading audit records", bounded=False) as connection:
            result = await connection.stream(statement.execution_options(yield_per=5000))
            async for row in result:
                yield AuditRecord(
                    created_at=row.created_at,
                    queue_id=row.queue_id,
                    campaign=row.campaign,
                    sender_hash=row.sender_hash,
                    recipient_hash=row.recipient_hash,
                    country=row.country,
                    action=Action(row.action),
                    rule_ids=tuple(row.rule_ids.split(",")) if row.rule_ids else (),
                    basis=Basis(row.basis),
                    instance=row.instance,
                    basis_detail=row.basis_detail,
                    would_action=Action(row.would_action) if row.would_action else None,
                    would_rule_ids=tuple(row.would_rule_ids.split(","))
                    if row.would_rule_ids
                    else (),
                )


def _suppression_row(
    value: str, kind: str, scope: str, origin: SuppressionOrigin, created_at: datetime
) -> dict[str, Any]:
    return {
        "hash": value,
        "kind": kind,
        "scope": scope,
        "origin": origin.value,
        "created_at": created_at,
    }


def _check_hex(value: str) -> str:
    value = value.strip().lower()
    if len(value) != 64 or any(char not in "0123456789abcdef" for char in value):
        raise ValueError("a hash must be 64 hexadecimal characters (SHA-256)")
    return value
