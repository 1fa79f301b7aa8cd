"""Render a `Report`: rich tables for people, JSON and CSV for scripts.

The machine formats are a contract. JSON: one object (keys below, lists most frequent
first, a missing campaign or country is null). CSV: header `section,key,action,count`, one
row per number: `total` (key `messages` / `recipients`), `action`, `rule`, `campaign`,
`country` (per action), `top_rejection` (action `reject`), `unsubscribe` (key = origin) and
`request` (key = access|erasure, action = open|overdue|fulfilled: data subjects' requests,
every open one and those fulfilled in the period); a missing campaign or country is an
empty key.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from proxy.ops.csv_cells import safe_row
from proxy.ops.periods import iso_utc
from proxy.ops.requests_format import request_counts, request_document, requests_table
from proxy.store.reports import Breakdown, Report

__all__ = ["CSV_HEADER", "iso_utc", "render_csv", "render_json", "render_table"]

CSV_HEADER = ("section", "key", "action", "count")


def _breakdowns(items: tuple[Breakdown, ...], name: str) -> list[dict[str, Any]]:
    return [{name: item.key, "total": item.total, "actions": dict(item.actions)} for item in items]


def render_json(report: Report) -> str:
    window = report.window
    document = {
        "since": iso_utc(window.since),
        "until": iso_utc(window.until),
        "campaign": window.campaign,
        "messages": report.messages,
        "recipients": report.recipients,
        "by_action": dict(report.by_action),
        "by_rule": _breakdowns(report.by_rule, "rule"),
        "by_campaign": _breakdowns(report.by_campaign, "campaign"),
        "by_country": _breakdowns(report.by_country, "country"),
        "top_rejections": [
            {"rule": rule, "recipients": count} for rule, count in report.top_rejections
        ],
        "unsubscribes": dict(report.unsubscribes),
        "requests": [request_document(r, report.window.until.date()) for r in report.requests],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _csv_rows(report: Report) -> Iterator[tuple[str, str, str, int]]:
    yield "total", "messages", "", report.messages
    yield "total", "recipients", "", report.recipients
    for action, count in report.by_action.items():
        yield "action", action, "", count
    for section, items in (
        ("rule", report.by_rule),
        ("campaign", report.by_campaign),
        ("country", report.by_country),
    ):
        for item in items:
            for action, count in item.actions.items():
                yield section, item.key or "", action, count
    for rule, count in report.top_rejections:
        yield "top_rejection", rule, "reject", count
    for origin, count in report.unsubscribes.items():
        yield "unsubscribe", origin, "", count
    for (kind, status), count in sorted(
        request_counts(report.requests, report.window.until.date()).items()
    ):
        yield "request", kind, status, count


def render_csv(report: Report, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(safe_row(row) for row in _csv_rows(report))


def _breakdown_table(
    title: str, label: str, items: tuple[Breakdown, ...], actions: list[str]
) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(label)
    for action in actions:
        table.add_column(action, justify="right")
    table.add_column("total", justify="right", style="bold")
    for item in items:
        cells = [f"{item.actions.get(action, 0):,}" for action in actions]
        table.add_row(item.key or "(none)", *cells, f"{item.total:,}")
    return table


def render_table(report: Report, console: Console) -> None:
    window = report.window
    scope = f"campaign {window.campaign}" if window.campaign is not None else "all campaigns"
    console.print(f"[bold]Report {iso_utc(window.since)} .. {iso_utc(window.until)}[/bold]")
    console.print(
        f"{scope}: {report.messages:,} messages, {report.recipients:,} recipient decisions"
    )
    actions = list(report.by_action)
    summary = Table(title="Recipients by action", title_justify="left")
    summary.add_column("action")
    summary.add_column("recipients", justify="right")
    for action, count in report.by_action.items():
        summary.add_row(action, f"{count:,}")
    console.print(summary)
    if report.top_rejections:
        top = Table(title="Top rejection reasons", title_justify="left")
        top.add_column("rule")
        top.add_column("rejected", justify="right")
        for rule, count in report.top_rejections:
            top.add_row(rule, f"{count:,}")
        console.print(top)
    for title, label, items in (
        ("Recipients by rule", "rule", report.by_rule),
        ("Recipients by campaign", "campaign", report.by_campaign),
        ("Recipients by country", "country", report.by_country),
    ):
        if items:
            console.print(_breakdown_table(title, label, items, actions))
    unsubscribes = Table(title="Unsubscribes (all campaigns)", title_justify="left", min_width=30)
    unsubscribes.add_column("origin")
    unsubscribes.add_column("entries", justify="right")
    for origin, count in report.unsubscribes.items():
        unsubscribes.add_row(origin, f"{count:,}")
    if not report.unsubscribes:
        unsubscribes.add_row("(none)", "0")
    console.print(unsubscribes)
    title = "Data subject requests (open, and fulfilled in the period; due one month after)"
    console.print(requests_table(report.requests, window.until.date(), title))
