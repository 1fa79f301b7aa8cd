"""Reading suppression lists to import: addresses, SHA-256 hashes, or our own export."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from proxy.errors import CsvFormatError, RowError
from proxy.model import SuppressionOrigin
from proxy.store.contacts_csv import check_email
from proxy.store.records import SuppressionEntry
from proxy.store.scopes import normalise_scope
from proxy.store.tables import HASH_KIND_ADDRESS, HASH_KIND_DOMAIN, HASH_KIND_SHA256

__all__ = ["EXPORT_HEADER", "read_suppression_csv"]

# `suppress export` writes this header; a file carrying it is imported as is (same key).
EXPORT_HEADER = ("hash", "kind", "scope", "origin", "created_at")
_VALUE_COLUMNS = ("email", "address", "sha256", "hash")
_HEX = frozenset("0123456789abcdef")
_KINDS = frozenset({HASH_KIND_ADDRESS, HASH_KIND_DOMAIN, HASH_KIND_SHA256})


def _is_hex(value: str, length: int) -> bool:
    return len(value) == length and set(value) <= _HEX


def _looks_like_data(cell: str) -> bool:
    value = cell.strip().lower()
    return "@" in value or _is_hex(value, 64)


def read_suppression_csv(
    lines: Iterable[str],
    *,
    hash_address: Callable[[str], str],
    key_sha256: Callable[[str], str],
    scope: str,
    origin: SuppressionOrigin,
    on_error: Callable[[int, str], None],
) -> Iterator[SuppressionEntry]:
    """Entries of a suppression file; bad lines go to on_error(line, reason) and are skipped.

    Accepted: one address or one SHA-256 hex hash (of the normalised address, as other
    tools export them) per row, with or without a header; in a file with several columns
    the one named email/address/sha256/hash is used; addresses are keyed with
    `hash_address` (Store.address_hash), SHA-256 hashes with `key_sha256` (Store.sha256_key):
    nothing unkeyed is stored. A file with our export header keeps each entry's
    kind, scope, origin and date (it must come from a relay with the same key).
    """
    reader = csv.reader(lines)
    now = datetime.now(UTC)
    try:
        first = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise CsvFormatError(f"line 1: {exc}") from None
    header = [cell.strip().lower() for cell in first]
    if tuple(header) == EXPORT_HEADER:
        yield from _read_export(reader, on_error)
        return
    column = 0
    pending: list[tuple[int, list[str]]] = []
    if first and _looks_like_data(first[0]):
        pending.append((1, first))
    else:
        names = [name for name in _VALUE_COLUMNS if name in header]
        if not names and len(header) > 1:
            raise CsvFormatError(
                "line 1: no column named " + ", ".join(_VALUE_COLUMNS) + " in the header"
            )
        column = header.index(names[0]) if names else 0
    last = reader.line_num

    def rows() -> Iterator[tuple[int, list[str]]]:
        nonlocal last
        yield from pending
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                on_error(last + 1, f"unreadable CSV: {exc}")
                return
            line, last = last + 1, reader.line_num
            yield line, values

    for line, values in rows():
        if not values or not "".join(values).strip():
            continue
        if column >= len(values):
            on_error(line, f"expected at least {column + 1} fields, found {len(values)}")
            continue
        value = values[column].strip()
        lowered = value.lower()
        if _is_hex(lowered, 64):
            yield SuppressionEntry(key_sha256(lowered), HASH_KIND_SHA256, scope, origin, now)
        elif "@" in value:
            try:
                email = check_email(value)
            except RowError as exc:
                on_error(line, str(exc))
                continue
            yield SuppressionEntry(hash_address(email), HASH_KIND_ADDRESS, scope, origin, now)
        elif _is_hex(lowered, 32) or _is_hex(lowered, 40):
            on_error(line, "MD5 and SHA-1 hashes are not supported (SHA-256 only)")
        else:
            on_error(line, f"neither an address nor a SHA-256 hash: {value[:80]!r}")


def _read_export(
    reader: Iterator[list[str]], on_error: Callable[[int, str], None]
) -> Iterator[SuppressionEntry]:
    line = 1
    for values in reader:
        line += 1
        if not values:
            continue
        try:
            if len(values) != len(EXPORT_HEADER):
                raise RowError(f"expected {len(EXPORT_HEADER)} fields, found {len(values)}")
            value, kind, scope, origin, created = (cell.strip() for cell in values)
            if not _is_hex(value.lower(), 64):
                raise RowError(f"hash: not 64 hexadecimal characters: {value[:80]!r}")
            if kind not in _KINDS:
                raise RowError(f"kind: {kind!r} is not one of {'|'.join(sorted(_KINDS))}")
            try:
                scope = normalise_scope(scope)
                when = datetime.fromisoformat(created)
                entry_origin = SuppressionOrigin(origin)
            except ValueError as exc:
                raise RowError(str(exc)) from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
        except RowError as exc:
            on_error(line, str(exc))
            continue
        yield SuppressionEntry(value.lower(), kind, scope, entry_origin, when)
