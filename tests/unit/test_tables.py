"""proxy/ops/tables.py: the CLI's one table printer stays readable when piped."""

from __future__ import annotations

import io

import pytest

from proxy.ops.tables import number, print_tables, table


def _printed(*rows: tuple[str, ...], empty: tuple[str, ...] | None = None) -> list[str]:
    out = io.StringIO()
    columns = ["endpoint", "url", number("pending")]
    print_tables(table("Webhook endpoints", columns, rows, empty=empty), file=out)
    return out.getvalue().splitlines()


def test_a_row_wider_than_80_columns_stays_on_one_line_in_a_pipe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    url = "https://crm.example.com/" + "x" * 90
    lines = _printed(("crm", url, "1,234"))
    [row] = [line for line in lines if "crm" in line]
    assert url in row and row.rstrip().endswith("1,234 │")  # counts right-aligned
    assert lines[0].startswith("Webhook endpoints")  # the title on the left


def test_columns_still_sets_the_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    assert max(map(len, _printed(("crm", "https://crm.example.com/" + "x" * 90, "1")))) <= 40


def test_the_empty_row_says_so() -> None:
    assert any("(none)" in line for line in _printed(empty=("(none)", "", "0")))
    assert not any("(none)" in line for line in _printed())
