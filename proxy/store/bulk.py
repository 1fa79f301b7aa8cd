"""Driver-level bulk upsert of contacts: compiled once, values converted without SQLAlchemy.

SQLAlchemy's per-value bind processing was half the time of a 1M-row import; here each
row becomes one tuple in the driver's own types (SQLite: ISO strings for dates). On
PostgreSQL the tuples go in by COPY (binary) into a staging table dropped at commit, then
one INSERT .. SELECT .. ON CONFLICT moves them: an executemany of an upsert is a round of
protocol messages per row, COPY is one stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Date, column, select, table
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from proxy.store.tables import contacts

__all__ = ["BulkUpsert", "count_existing", "write_rows"]

_STAMPS = ("created_at", "updated_at")
_STAGING = "contacts_import"


@dataclass(frozen=True, slots=True)
class BulkUpsert:
    sql: str
    order: tuple[str, ...]  # parameter names in positional order
    iso_dates: tuple[int, ...]  # positions whose date values the driver needs as ISO text
    fixed: tuple[int, ...]  # positions of email, address_hash, created_at, updated_at
    sqlite: bool
    from_staging: str | None = None  # PostgreSQL: the upsert of the COPY staging table

    @classmethod
    def compile(
        cls, dialect: Dialect, insert: PgInsert | SqliteInsert, columns: Sequence[str]
    ) -> BulkUpsert:
        """INSERT .. ON CONFLICT (email) DO UPDATE of `columns` (created_at is kept)."""
        keys = [*columns, "address_hash", *_STAMPS]
        updated = [name for name in keys if name not in ("email", "created_at")]

        def upsert(statement: PgInsert | SqliteInsert) -> PgInsert | SqliteInsert:
            return statement.on_conflict_do_update(
                index_elements=["email"],
                set_={name: statement.excluded[name] for name in updated},
            )

        compiled = upsert(insert).compile(dialect=dialect, column_keys=keys)
        order = tuple(compiled.positiontup or ())
        if sorted(order) != sorted(keys):
            raise RuntimeError(f"unexpected parameters in the compiled upsert: {order}")
        sqlite = dialect.name == "sqlite"
        iso_dates = tuple(
            position
            for position, name in enumerate(order)
            if sqlite and isinstance(contacts.c[name].type, Date)
        )
        fixed = tuple(order.index(name) for name in ("email", "address_hash", *_STAMPS))
        from_staging = None
        if dialect.name == "postgresql":
            staging = table(_STAGING, *(column(name) for name in order))
            moved = upsert(insert.from_select(list(order), select(*staging.c)))
            from_staging = str(moved.compile(dialect=dialect))
        return cls(str(compiled), order, iso_dates, fixed, sqlite, from_staging)

    def timestamp(self, now: datetime) -> Any:
        """`now` as the driver takes it for a UtcDateTime column."""
        if self.sqlite:  # SQLAlchemy's SQLite storage format, naive UTC
            return now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return now

    def params(
        self, row: Mapping[str, Any], email: str, hashed: str, stamp: Any
    ) -> tuple[Any, ...]:
        """One row's positional parameters (email normalised, hashed, timestamps set)."""
        get = row.get
        params = [get(name) for name in self.order]
        for position, value in zip(self.fixed, (email, hashed, stamp, stamp), strict=True):
            params[position] = value
        for position in self.iso_dates:
            value = params[position]
            if value is not None:
                params[position] = value.isoformat()
        return tuple(params)


async def count_existing(connection: AsyncConnection, emails: Sequence[str]) -> int:
    """How many of these (normalised) emails are in the register already.

    Driver-level SQL: SQLAlchemy's expanding IN renders and names 10,000 parameters per
    batch, which cost as much as the query itself.
    """
    if not emails:
        return 0
    if connection.dialect.name == "postgresql":
        sql = "SELECT count(*) FROM contacts WHERE email = ANY($1::text[])"
        params: tuple[Any, ...] = (list(emails),)
    else:
        sql = f"SELECT count(*) FROM contacts WHERE email IN ({','.join('?' * len(emails))})"
        params = tuple(emails)
    result = await connection.exec_driver_sql(sql, params)
    return int(result.scalar_one())


async def write_rows(
    connection: AsyncConnection, upsert: BulkUpsert, params: Sequence[tuple[Any, ...]]
) -> None:
    """Upsert the rows made by `upsert.params`, inside the connection's transaction."""
    if upsert.from_staging is None:
        await connection.exec_driver_sql(upsert.sql, params)
        return
    driver: Any = (await connection.get_raw_connection()).driver_connection  # asyncpg
    names = ", ".join(upsert.order)
    await driver.execute(
        f"CREATE TEMPORARY TABLE {_STAGING} ON COMMIT DROP AS "
        f"SELECT {names} FROM contacts WITH NO DATA"
    )
    await driver.copy_records_to_table(_STAGING, records=params, columns=list(upsert.order))
    await driver.execute(upsert.from_staging)
