"""A SELECT written with SQLAlchemy Core, run straight on a pysqlite connection.

The relay's hot read (see lookups) costs a few hundred microseconds per recipient, and
executing its two statements through SQLAlchemy was a large share of it: every call renders
the expanding IN lists again, wraps the cursor and each row, and looks up the column
converters. `DriverSelect` does that work once and keeps the statement itself in one place
(the Core statement, which PostgreSQL still runs through SQLAlchemy and the plan tests
explain):

- the SQL text is expanded once per IN-list size, sizes rounded up to a power of two
  (padded with NULL, which no `x IN (...)` matches), so a busy relay's batches of varying
  size reuse a handful of texts;
- each column's value goes through the converter SQLAlchemy would apply (its type's result
  processor for this dialect: ISO text to `date`, the naive text of `UtcDateTime` to an
  aware UTC datetime, 0/1 to bool), so the values are the same as SQLAlchemy's.

Bound values are passed as given: a statement whose parameters need SQLAlchemy's bind
conversion is refused when built, not silently sent unconverted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.selectable import SelectBase

__all__ = ["DriverSelect"]

_Converter = Callable[[Any], Any]


class _Slot:
    """Stands for item `index` of the list bound to `name` while the SQL text is expanded
    (not a tuple: SQLAlchemy would expand a tuple as a row value)."""

    __slots__ = ("index", "name")

    def __init__(self, name: str, index: int) -> None:
        self.name = name
        self.index = index


class DriverSelect:
    """`statement` compiled for `dialect`; `rows` runs it on a DB-API connection."""

    def __init__(self, statement: SelectBase, dialect: Dialect) -> None:
        self._compiled = statement.compile(dialect=dialect)
        binds = self._compiled.binds.values()
        converted = [b.key for b in binds if b.type.dialect_impl(dialect).bind_processor(dialect)]
        if converted:
            raise TypeError(f"parameters needing SQLAlchemy's bind conversion: {converted}")
        self._lists = tuple(sorted({b.key for b in binds if b.expanding}))
        columns = statement.selected_columns
        self.keys = tuple(column.key for column in columns)
        converters = (c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        self._converters: tuple[tuple[int, _Converter], ...] = tuple(
            (position, convert) for position, convert in enumerate(converters) if convert
        )
        # Per IN-list sizes: the SQL text, and per placeholder a _Slot or a constant.
        self._expanded: dict[tuple[int, ...], tuple[str, tuple[Any, ...]]] = {}

    def expand(self, lists: Mapping[str, Sequence[Any]]) -> tuple[str, list[Any]]:
        """The SQL text for these IN lists and its positional parameters."""
        rounded = tuple(_round_up(len(lists[name])) for name in self._lists)
        expanded = self._expanded.get(rounded)
        if expanded is None:
            state = self._compiled.construct_expanded_state(
                {
                    name: [_Slot(name, index) for index in range(size)]
                    for name, size in zip(self._lists, rounded, strict=True)
                }
            )
            expanded = self._expanded[rounded] = (state.statement, state.positional_parameters)
        sql, sources = expanded
        return sql, [
            _item(lists[source.name], source.index) if type(source) is _Slot else source
            for source in sources
        ]

    def rows(
        self, connection: sqlite3.Connection, lists: Mapping[str, Sequence[Any]]
    ) -> list[list[Any]]:
        """The statement's rows for these IN lists, each value converted as SQLAlchemy does."""
        rows = [list(row) for row in connection.execute(*self.expand(lists)).fetchall()]
        for position, convert in self._converters:
            for row in rows:
                row[position] = convert(row[position])
        return rows


def _round_up(size: int) -> int:
    """The next power of two (at least 1): an empty list is padded to one NULL."""
    return 1 << max(size - 1, 0).bit_length()


def _item(values: Sequence[Any], index: int) -> Any:
    return values[index] if index < len(values) else None
