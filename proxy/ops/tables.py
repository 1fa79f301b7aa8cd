"""The one way the CLI prints a table: a rich `Table` built by `table()` (title on the left,
counts right-aligned with `number()`, an explicit row when there is nothing to show) and
printed by `print_tables()`. On a terminal rich fits the tables to its width; in a pipe, a
file or a cron mail the console is wide enough to keep every row on one line instead of
wrapping cells at 80 columns (`COLUMNS` still wins when set)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TextIO

from rich.console import Console, RenderableType
from rich.table import Column, Table

__all__ = ["PIPE_WIDTH", "number", "print_tables", "table"]

PIPE_WIDTH = 200  # columns when the output is not a terminal


def number(header: str, style: str = "") -> Column:
    """A column of counts or rates: right-aligned."""
    return Column(header, justify="right", style=style)


def table(
    title: str,
    columns: Sequence[str | Column],
    rows: Iterable[Sequence[str]],
    *,
    empty: Sequence[str] | None = None,
    min_width: int | None = None,
) -> Table:
    """A titled table of `rows` (cells already formatted); `empty` is the row shown when
    there are none (e.g. `("(none)", "0")`), else the table stays empty."""
    built = Table(*columns, title=title, title_justify="left", min_width=min_width)
    for row in rows:
        built.add_row(*row)
    if built.row_count == 0 and empty is not None:
        built.add_row(*empty)
    return built


def print_tables(*renderables: RenderableType, file: TextIO | None = None) -> None:
    """Print tables (and lines of rich markup) to standard output, or `file`."""
    console = Console(file=file)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(file=file, width=PIPE_WIDTH)
    for renderable in renderables:
        console.print(renderable)
