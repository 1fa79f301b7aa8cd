"""CSV cells safe to open in a spreadsheet (OWASP "CSV injection").

Campaign ids and other texts in the exports come from peers (an `X-Prospect-Campaign`
header): a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to
Excel or LibreOffice. Such a text cell gets a leading `'`, which spreadsheets show as text
and which a reader of the CSV strips to get the value back. Numbers are left as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["FORMULA_PREFIXES", "safe_cell", "safe_row"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]
