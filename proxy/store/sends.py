"""Send marks per recipient: the first-contact notice sent, the one re-permission claimed.

Every statement on the `sends` table is here (the hot lookup reads it with the suppressions,
see lookups). A mark is a conditional upsert, so exactly one caller, on any instance, sets it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.store.guard import Guard, dialect_insert
from proxy.store.hasher import check_hex
from proxy.store.tables import sends

__all__ = ["SendMarks", "delete_sends", "rekey_sends"]


class SendMarks:
    def __init__(self, guard: Guard) -> None:
        self._guard = guard

    async def _mark(self, address_hash: str, column: str) -> bool:
        value = {"address_hash": check_hex(address_hash), column: datetime.now(UTC)}
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
        return await self._mark(address_hash, "first_message_at")

    async def record_repermission(self, address_hash: str) -> bool:
        """Claim the one re-permission message for this recipient, atomically.

        True only for the single caller that recorded it; every later (or concurrent)
        caller on any instance gets False and must not send another one.
        """
        return await self._mark(address_hash, "repermission_at")

    async def release_repermission(self, address_hash: str) -> None:
        """Give back a claim whose message the upstream did not accept (a later retry may
        send it). Only the claim's holder calls this: every other caller was refused."""
        statement = (
            update(sends)
            .where(sends.c.address_hash == check_hex(address_hash))
            .values(repermission_at=None)
        )
        async with self._guard.write("releasing a re-permission claim") as connection:
            await connection.execute(statement)


async def delete_sends(connection: AsyncConnection, address_hash: str) -> bool:
    """Erase the marks of one recipient (erasure); True if there were any."""
    result = await connection.execute(delete(sends).where(sends.c.address_hash == address_hash))
    return result.rowcount > 0


async def rekey_sends(connection: AsyncConnection, old_hash: str, new_hash: str) -> None:
    """Move the marks to the address's new hash; marks already there win."""
    sent = await connection.scalar(
        select(func.count()).select_from(sends).where(sends.c.address_hash == new_hash)
    )
    moved = delete(sends) if sent else sends.update().values(address_hash=new_hash)
    await connection.execute(moved.where(sends.c.address_hash == old_hash))
