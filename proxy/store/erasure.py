"""Erasure (GDPR art. 17, `forget`): what is deleted when a person is forgotten, in one place.

The register row and the send marks go; a global suppression stays (or is added), because
the objection must outlive the data; an `erasure` webhook event is queued in the same
transaction. On SQLite the WAL is then emptied, so the old pages do not stay readable there.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, delete

from proxy.feedback.events import EventRoutes, EventType, new_event
from proxy.model import SuppressionOrigin
from proxy.store.guard import Guard
from proxy.store.hasher import Hasher, check_hex
from proxy.store.hashing import normalise_address
from proxy.store.records import ForgetResult
from proxy.store.scopes import GLOBAL_SCOPE
from proxy.store.sends import delete_sends
from proxy.store.suppressions import insert_suppressions, suppression_row
from proxy.store.tables import HASH_KIND_ADDRESS, contacts, has_hash
from proxy.store.webhook_queue import enqueue

__all__ = ["Erasure"]

log = logging.getLogger(__name__)


class Erasure:
    def __init__(self, guard: Guard, hasher: Hasher, routes: EventRoutes) -> None:
        self._guard = guard
        self._hash = hasher
        self._routes = routes

    async def forget(self, address: str) -> ForgetResult:
        """Erase the person's register data and send records; keep (or add) the suppression."""
        email = normalise_address(address)
        return await self._erase(contacts.c.email == email, self._hash.address(email))

    async def forget_hash(self, address_hash: str) -> ForgetResult:
        """`forget` for a person known only by the keyed hash (an unsubscribe token)."""
        value = check_hex(address_hash)
        return await self._erase(has_hash(contacts.c.address_hash, value), value)

    async def _erase(self, contact: ColumnElement[bool], hashed: str) -> ForgetResult:
        async with self._guard.write("erasing a contact", bounded=False) as connection:
            deleted = await connection.execute(delete(contacts).where(contact))
            sends_deleted = await delete_sends(connection, hashed)
            now = datetime.now(UTC)
            created = await insert_suppressions(
                connection,
                [
                    suppression_row(
                        hashed, HASH_KIND_ADDRESS, GLOBAL_SCOPE, SuppressionOrigin.ERASURE, now
                    )
                ],
            )
            await enqueue(connection, self._routes, [new_event(EventType.ERASURE, now, hashed)])
        if self._guard.engine.dialect.name == "sqlite":
            await self._truncate_wal()
        return ForgetResult(deleted.rowcount > 0, sends_deleted, created > 0)

    async def _truncate_wal(self) -> None:
        """Copy the WAL into the database file and empty it: the erased rows' old pages must
        not stay readable there (secure_delete zeroes them in the database file itself)."""
        async with self._guard.read("checkpointing the database", bounded=False) as connection:
            # (the deferred BEGIN takes no snapshot before a read: the checkpoint can finish)
            result = await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = result.one()[0]
        if busy:
            log.warning("erasure: readers kept the WAL busy; it is emptied at the next checkpoint")
