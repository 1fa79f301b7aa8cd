"""Render a `Report`: rich tables for people, JSON and CSV for scripts.

The machine formats are a contract. JSON: one object (keys below, lists most frequent
first, a missing campaign or country is null). CSV: header `section,key,action,count`, one
row per number: `total` (key `messages` / `recipients`), `action`, `rule`, `campaign`,
`country` (per action), `top_rejection` (action `reject`), `unsubscribe` (key = origin),
`request` (key = access|erasure, action = open|overdue|fulfilled: data subjects' requests,
every open one and those fulfilled in the period), `feedback` (key = campaign, action =
delivered | hard-bounce | soft-bounce | complaint), and for monitor mode `would` (key =
the action enforce mode would have taken) and `top_would_reject` (key = deciding rule); a
missing campaign or country is an empty key. Bounce and complaint rates are judged
against the policy's `[bounces]` thresholds (complaints: limit 0.3 %, aim 0.1 %).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, TextIO

from rich.console import RenderableType
from rich.table import Column, Table

from proxy.ops.csv_cells import safe_row
from proxy.ops.periods import iso_utc
from proxy.ops.requests_format import request_counts, request_document, requests_table
from proxy.ops.tables import number, table
from proxy.policy.bounces import Bounces
from proxy.store.reports import Breakdown, FeedbackRate, Report

__all__ = ["CSV_HEADER", "iso_utc", "render_csv", "render_json", "report_tables"]

CSV_HEADER = ("section", "key", "action", "count")
DEFAULT_THRESHOLDS = Bounces()


def _breakdowns(items: tuple[Breakdown, ...], name: str) -> list[dict[str, Any]]:
    return [{name: item.key, "total": item.total, "actions": dict(item.actions)} for item in items]


def feedback_status(rate: FeedbackRate, thresholds: Bounces) -> str:
    """ok | above-aim | over-limit (complaints), bounces-high: how providers would see it."""
    if rate.complaint_rate >= thresholds.complaint_rate_max:
        return "over-limit"
    if rate.bounce_rate >= thresholds.bounce_rate_max:
        return "bounces-high"
    if rate.complaint_rate >= thresholds.complaint_rate_target:
        return "above-aim"
    return "ok"


def _feedback_json(report: Report, thresholds: Bounces) -> list[dict[str, Any]]:
    return [
        {
            "campaign": rate.campaign,
            "delivered": rate.delivered,
            "hard_bounces": rate.hard_bounces,
            "soft_bounces": rate.soft_bounces,
            "complaints": rate.complaints,
            "bounce_rate_pct": round(rate.bounce_rate, 3),
            "complaint_rate_pct": round(rate.complaint_rate, 3),
            "status": feedback_status(rate, thresholds),
        }
        for rate in report.feedback
    ]


def render_json(report: Report, thresholds: Bounces = DEFAULT_THRESHOLDS) -> str:
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
        "feedback": _feedback_json(report, thresholds),
        "thresholds": {
            "complaint_rate_max_pct": thresholds.complaint_rate_max,
            "complaint_rate_target_pct": thresholds.complaint_rate_target,
            "bounce_rate_max_pct": thresholds.bounce_rate_max,
        },
        "would": dict(report.would),
        "top_would_reject": [
            {"rule": rule, "recipients": count} for rule, count in report.top_would_reject
        ],
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
    for rate in report.feedback:
        key = rate.campaign or ""
        yield "feedback", key, "delivered", rate.delivered
        yield "feedback", key, "hard-bounce", rate.hard_bounces
        yield "feedback", key, "soft-bounce", rate.soft_bounces
        yield "feedback", key, "complaint", rate.complaints
    for action, count in report.would.items():
        yield "would", action, "", count
    for rule, count in report.top_would_reject:
        yield "top_would_reject", rule, "reject", count


def render_csv(report: Report, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(safe_row(row) for row in _csv_rows(report))


def _breakdown_table(
    title: str, label: str, items: tuple[Breakdown, ...], actions: list[str]
) -> Table:
    columns: list[str | Column] = [label, *map(number, actions), number("total", style="bold")]
    rows = (
        [item.key or "(none)", *(f"{item.actions.get(a, 0):,}" for a in actions), f"{item.total:,}"]
        for item in items
    )
    return table(title, columns, rows)


def report_tables(report: Report, thresholds: Bounces = DEFAULT_THRESHOLDS) -> list[RenderableType]:
    """The report for people: a heading, then one table per section (`print_tables`)."""
    window = report.window
    scope = f"campaign {window.campaign}" if window.campaign is not None else "all campaigns"
    out: list[RenderableType] = [
        f"[bold]Report {iso_utc(window.since)} .. {iso_utc(window.until)}[/bold]",
        f"{scope}: {report.messages:,} messages, {report.recipients:,} recipient decisions",
    ]
    actions = list(report.by_action)
    out.append(
        table(
            "Recipients by action",
            ["action", number("recipients")],
            ((action, f"{count:,}") for action, count in report.by_action.items()),
        )
    )
    if report.top_rejections:
        top = ((rule, f"{count:,}") for rule, count in report.top_rejections)
        out.append(table("Top rejection reasons", ["rule", number("rejected")], top))
    if report.would:
        would = [(action, f"{count:,}") for action, count in report.would.items()]
        would += [(f"  reject: {rule}", f"{count:,}") for rule, count in report.top_would_reject]
        title = "Monitor mode: forwarded, enforce would have"
        out.append(table(title, ["action", number("recipients")], would))
    for title, label, items in (
        ("Recipients by rule", "rule", report.by_rule),
        ("Recipients by campaign", "campaign", report.by_campaign),
        ("Recipients by country", "country", report.by_country),
    ):
        if items:
            out.append(_breakdown_table(title, label, items, actions))
    out.append(
        table(
            "Unsubscribes (all campaigns)",
            ["origin", number("entries")],
            ((origin, f"{count:,}") for origin, count in report.unsubscribes.items()),
            empty=("(none)", "0"),
            min_width=30,
        )
    )
    title = "Data subject requests (open, and fulfilled in the period; due one month after)"
    out.append(requests_table(report.requests, window.until.date(), title))
    if report.feedback:
        out.append(_feedback_table(report, thresholds))
    return out


def _feedback_table(report: Report, thresholds: Bounces) -> Table:
    title = (
        "Bounces and complaints by campaign (complaints: limit "
        f"{thresholds.complaint_rate_max} %, aim < {thresholds.complaint_rate_target} %; "
        f"bounces < {thresholds.bounce_rate_max} %)"
    )
    counts = ("sent", "hard", "soft", "bounce%", "compl.", "compl.%")
    status = Column("status", no_wrap=True, min_width=12)
    columns: list[str | Column] = ["campaign", *map(number, counts), status]
    rows = (
        (
            rate.campaign or "(none)",
            f"{rate.delivered:,}",
            f"{rate.hard_bounces:,}",
            f"{rate.soft_bounces:,}",
            f"{rate.bounce_rate:.2f}",
            f"{rate.complaints:,}",
            f"{rate.complaint_rate:.3f}",
            feedback_status(rate, thresholds),
        )
        for rate in report.feedback
    )
    return table(title, columns, rows)
