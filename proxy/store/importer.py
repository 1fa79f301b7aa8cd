"""Streaming contacts import: validate each CSV row, upsert good rows in large batches."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from proxy.errors import CsvFormatError, RowError
from proxy.store.contacts_csv import parse_header, parse_row, parsers
from proxy.store.records import UpsertResult
from proxy.store.store import Store

__all__ = ["ImportSummary", "import_contacts"]

BATCH_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class ImportSummary:
    rows_read: int
    inserted: int
    updated: int
    rejected: int
    suppressions_created: int
    duplicates: int = 0  # rows superseded by a later row for the same address


async def import_contacts(
    store: Store,
    lines: Iterable[str],
    *,
    on_error: Callable[[int, str], None],
    on_progress: Callable[[], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Import the contacts CSV read from `lines` (a text file opened with newline="").

    A bad header raises CsvFormatError before anything is written. A bad row is reported
    through on_error(line_number, reason) and skipped; good rows are committed batch by
    batch, so an interruption keeps what was already imported. on_progress is called
    after each batch is written (the caller knows how far it has read its file).
    An address repeated within a batch counts once, its last row winning (`duplicates`).
    """
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFormatError("the file is empty (expected a header row)") from None
    except csv.Error as exc:
        raise CsvFormatError(f"line 1: {exc}") from None
    columns = parse_header(header)
    cell_parsers = parsers(columns)
    read = rejected = inserted = updated = created = duplicates = 0
    batch: list[dict[str, Any]] = []
    # The previous batch is written while the next one is parsed (the driver works in
    # its own thread); at most one write is in flight, so batches land in file order.
    writing: asyncio.Task[UpsertResult] | None = None

    async def settle() -> None:
        nonlocal inserted, updated, created, duplicates, writing
        if writing is not None:
            result = await writing
            writing = None
            inserted += result.inserted
            updated += result.updated
            created += result.suppressions_created
            duplicates += result.duplicates
            if on_progress is not None:
                on_progress()

    async def flush() -> None:
        nonlocal writing
        await settle()
        if batch:
            writing = asyncio.create_task(
                store.upsert_contact_rows(list(batch), columns, normalised=True)
            )
            batch.clear()

    try:
        last_line = reader.line_num
        while True:
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # e.g. an unterminated quote: nothing after it is readable
                read += 1
                rejected += 1
                on_error(last_line + 1, f"unreadable CSV: {exc}")
                break
            line, last_line = last_line + 1, reader.line_num
            if not values:  # blank line
                continue
            read += 1
            try:
                batch.append(parse_row(columns, cell_parsers, values))
            except RowError as exc:
                rejected += 1
                on_error(line, str(exc))
                continue
            if len(batch) >= batch_size:
                await flush()
            elif writing is not None and read % 500 == 0:
                await asyncio.sleep(0)  # let the write in flight take its next step
        await flush()
        await settle()
    finally:
        if writing is not None:  # interrupted: do not leave the write dangling
            writing.cancel()
    return ImportSummary(read, inserted, updated, rejected, created, duplicates)
