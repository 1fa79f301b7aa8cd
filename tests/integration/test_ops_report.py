"""`prospect-relay report` on a seeded audit trail: exact counts in every format."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from proxy.feedback.events import EventType, new_event
from proxy.model import Action, Basis, SuppressionOrigin
from proxy.store import AuditRecord, Store, SuppressionEntry
from proxy.store.records import FeedbackEntry
from tests.integration.ops_helpers import run_cli, write_config

pytestmark = pytest.mark.postgres

START = datetime(2025, 3, 1, tzinfo=UTC)
END = datetime(2025, 4, 1, tzinfo=UTC)  # --until 2025-03-31 covers all of March
PERIOD = ("--since", "2025-03-01", "--until", "2025-03-31")
SENDER = "a" * 64


def _record(
    minutes: int,
    queue_id: str,
    campaign: str | None,
    country: str | None,
    action: Action,
    rules: tuple[str, ...] = (),
    instance: str = "relay-1",
    at: datetime | None = None,
) -> AuditRecord:
    return AuditRecord(
        created_at=at if at is not None else START + timedelta(days=3, minutes=minutes),
        queue_id=queue_id,
        sender_hash=SENDER,
        recipient_hash=f"{minutes:064x}",
        action=action,
        rule_ids=rules,
        basis=Basis.CONSENT if action is Action.FORWARD else Basis.NONE,
        campaign=campaign,
        country=country,
        instance=instance,
    )


IN_WINDOW = [
    _record(1, "q1", "spring", "FR", Action.FORWARD),
    _record(2, "q1", "spring", "FR", Action.REWRITE, ("footer",)),
    _record(3, "q2", "spring", "DE", Action.REJECT, ("b2b-no-consent",)),
    _record(4, "q2", "spring", "DE", Action.REJECT, ("suppressed", "b2b-no-consent")),
    _record(5, "q3", "autumn", "FR", Action.REJECT, ("suppressed",)),
    _record(6, "q3", "autumn", "FR", Action.TEMPFAIL, ("store-unavailable",)),
    _record(7, "q4", None, None, Action.REJECT, ("stale-prospect",)),
    _record(8, "q4", None, None, Action.FORWARD, ("not-commercial",)),
    _record(9, "q1", "autumn", "FR", Action.FORWARD, instance="relay-2"),
    # the first instant of the window is inside it
    _record(10, "q5", "spring", "FR", Action.REJECT, ("suppressed",), at=START),
]
OUTSIDE = [
    _record(
        20,
        "q8",
        "spring",
        "FR",
        Action.REJECT,
        ("suppressed",),
        at=START - timedelta(microseconds=1),
    ),
    _record(21, "q9", "spring", "FR", Action.FORWARD, at=END),
]


def _suppression(n: int, origin: SuppressionOrigin, at: datetime) -> SuppressionEntry:
    return SuppressionEntry(f"{n:064x}", "address", "global", origin, at)


@pytest.fixture
async def config(store: Store, migrated_url: str, tmp_path: Path) -> Path:
    await store.record_audit([*IN_WINDOW, *OUTSIDE])
    mid = START + timedelta(days=10)
    await store.import_suppressions(
        [
            _suppression(1, SuppressionOrigin.ONE_CLICK, mid),
            _suppression(2, SuppressionOrigin.ONE_CLICK, START),
            _suppression(3, SuppressionOrigin.PAGE, mid),
            _suppression(4, SuppressionOrigin.IMPORT, mid),
            _suppression(5, SuppressionOrigin.ONE_CLICK, END),  # outside
            _suppression(6, SuppressionOrigin.MAILTO, START - timedelta(seconds=1)),  # outside
        ]
    )
    for n, (campaign, kind, status, at) in enumerate(FEEDBACK, start=100):
        entry = FeedbackEntry(at, f"{n:064x}", kind, status, "dsn", campaign)
        event = new_event(EventType.BOUNCE, at, entry.address_hash)
        await store.record_feedback(entry, suppress=None, event=event)
    return write_config(tmp_path, migrated_url)


FEEDBACK = [
    ("spring", "hard-bounce", "5.1.1", START + timedelta(days=4)),
    ("autumn", "complaint", "abuse", START + timedelta(days=5)),
    ("autumn", "complaint", "abuse", END),  # outside
]

EXPECTED_JSON = {
    "since": "2025-03-01T00:00:00Z",
    "until": "2025-04-01T00:00:00Z",
    "campaign": None,
    "messages": 6,  # q1@relay-1, q1@relay-2, q2, q3, q4, q5
    "recipients": 10,
    "by_action": {"forward": 3, "rewrite": 1, "reject": 5, "tempfail": 1},
    "by_rule": [
        {"rule": "suppressed", "total": 3, "actions": {"reject": 3}},
        {"rule": "b2b-no-consent", "total": 2, "actions": {"reject": 2}},
        {"rule": "footer", "total": 1, "actions": {"rewrite": 1}},
        {"rule": "not-commercial", "total": 1, "actions": {"forward": 1}},
        {"rule": "stale-prospect", "total": 1, "actions": {"reject": 1}},
        {"rule": "store-unavailable", "total": 1, "actions": {"tempfail": 1}},
    ],
    "by_campaign": [
        {"campaign": "spring", "total": 5, "actions": {"forward": 1, "reject": 3, "rewrite": 1}},
        {"campaign": "autumn", "total": 3, "actions": {"forward": 1, "reject": 1, "tempfail": 1}},
        {"campaign": None, "total": 2, "actions": {"forward": 1, "reject": 1}},
    ],
    "by_country": [
        {
            "country": "FR",
            "total": 6,
            "actions": {"forward": 2, "reject": 2, "rewrite": 1, "tempfail": 1},
        },
        {"country": "DE", "total": 2, "actions": {"reject": 2}},
        {"country": None, "total": 2, "actions": {"forward": 1, "reject": 1}},
    ],
    # each refused recipient once, under its deciding (first) rule, as /metrics counts it
    "top_rejections": [
        {"rule": "suppressed", "recipients": 3},
        {"rule": "b2b-no-consent", "recipients": 1},
        {"rule": "stale-prospect", "recipients": 1},
    ],
    "unsubscribes": {"import": 1, "one-click": 2, "page": 1},
    "requests": [],
    "feedback": [
        {
            "campaign": "autumn",
            "delivered": 1,
            "hard_bounces": 0,
            "soft_bounces": 0,
            "complaints": 1,
            "bounce_rate_pct": 0.0,
            "complaint_rate_pct": 100.0,
            "status": "over-limit",
        },
        {
            "campaign": "spring",
            "delivered": 2,
            "hard_bounces": 1,
            "soft_bounces": 0,
            "complaints": 0,
            "bounce_rate_pct": 50.0,
            "complaint_rate_pct": 0.0,
            "status": "bounces-high",
        },
        {
            "campaign": None,
            "delivered": 1,
            "hard_bounces": 0,
            "soft_bounces": 0,
            "complaints": 0,
            "bounce_rate_pct": 0.0,
            "complaint_rate_pct": 0.0,
            "status": "ok",
        },
    ],
    "thresholds": {
        "complaint_rate_max_pct": 0.3,
        "complaint_rate_target_pct": 0.1,
        "bounce_rate_max_pct": 2.0,
    },
    "would": {},
    "top_would_reject": [],
}


async def test_json_report_has_exact_counts(config: Path) -> None:
    result = await run_cli("report", *PERIOD, "--format", "json", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == EXPECTED_JSON


async def test_csv_report_has_one_row_per_number(config: Path) -> None:
    result = await run_cli("report", *PERIOD, "--format", "csv", "--config", str(config))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["section", "key", "action", "count"]
    body = {tuple(row[:3]): int(row[3]) for row in rows[1:]}
    assert len(body) == len(rows) - 1  # no duplicate row
    expected: dict[tuple[str, str, str], int] = {
        ("total", "messages", ""): 6,
        ("total", "recipients", ""): 10,
    }
    for action, count in EXPECTED_JSON["by_action"].items():  # type: ignore[attr-defined]
        expected["action", action, ""] = count
    for section, name in (("rule", "rule"), ("campaign", "campaign"), ("country", "country")):
        for item in EXPECTED_JSON[f"by_{section}"]:  # type: ignore[attr-defined]
            for action, count in item["actions"].items():
                expected[section, item[name] or "", action] = count
    for item in EXPECTED_JSON["top_rejections"]:  # type: ignore[attr-defined]
        expected["top_rejection", item["rule"], "reject"] = item["recipients"]
    for origin, count in EXPECTED_JSON["unsubscribes"].items():  # type: ignore[attr-defined]
        expected["unsubscribe", origin, ""] = count
    for item in EXPECTED_JSON["feedback"]:  # type: ignore[attr-defined]
        key = item["campaign"] or ""
        expected["feedback", key, "delivered"] = item["delivered"]
        expected["feedback", key, "hard-bounce"] = item["hard_bounces"]
        expected["feedback", key, "soft-bounce"] = item["soft_bounces"]
        expected["feedback", key, "complaint"] = item["complaints"]
    assert body == expected


async def test_campaign_filter(config: Path) -> None:
    args = ("report", *PERIOD, "--campaign", "spring", "--format", "json")
    result = await run_cli(*args, "--config", str(config))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["campaign"] == "spring"
    assert report["messages"] == 3  # q1@relay-1, q2, q5
    assert report["recipients"] == 5
    assert report["by_action"] == {"forward": 1, "rewrite": 1, "reject": 3, "tempfail": 0}
    assert [item["campaign"] for item in report["by_campaign"]] == ["spring"]
    assert report["top_rejections"] == [
        {"rule": "suppressed", "recipients": 2},
        {"rule": "b2b-no-consent", "recipients": 1},
    ]


async def test_table_report_is_readable(config: Path) -> None:
    result = await run_cli("report", *PERIOD, "--config", str(config))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Report 2025-03-01T00:00:00Z .. 2025-04-01T00:00:00Z" in text
    assert "all campaigns: 6 messages, 10 recipient decisions" in text
    top = text[text.index("Top rejection reasons") :]
    assert re.search(r"suppressed\s+│\s+3\s+│", top)
    assert re.search(r"b2b-no-consent\s+│\s+1\s+│", top)
    assert re.search(r"one-click\s+│\s+2\s+│", text)
    # campaign rows: forward, rewrite, reject, tempfail, total
    assert re.search(r"spring\s+│\s+1\s+│\s+1\s+│\s+3\s+│\s+0\s+│\s+5\s+│", text)
    rates = text[text.index("Bounces and complaints by campaign") :]
    assert "limit 0.3 %, aim < 0.1 %" in rates
    # campaign, sent (delivered), hard, soft, bounce %, complaints, complaint %, status
    assert re.search(
        r"autumn\s+│\s+1\s+│\s+0\s+│\s+0\s+│\s+0.00\s+│\s+1\s+│\s+100.000\s+│\s+over-limit", rates
    )
    assert re.search(r"spring\s+│\s+2\s+│\s+1\s+│\s+0\s+│\s+50.00\s+│", rates)


async def test_relative_since_excludes_old_records(config: Path) -> None:
    result = await run_cli("report", "--since", "7d", "--format", "json", "--config", str(config))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["recipients"] == 0  # everything seeded is from 2025
    assert report["by_rule"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "yesterdayish"), "error: --since: 'yesterdayish' is neither a duration"),
        (("--until", "2025-02-30"), "error: --until: '2025-02-30' is not a valid date"),
        (
            ("--since", "2025-03-02", "--until", "2025-03-01"),
            "error: --until (2025-03-02T00:00:00Z) must be after --since",
        ),
        (("--format", "xml"), "error: Invalid value for '--format'"),
    ],
)
async def test_bad_arguments_give_one_line_and_exit_2(
    config: Path, args: tuple[str, ...], message: str
) -> None:
    result = await run_cli("report", *args, "--config", str(config))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(message)


async def test_unmigrated_database_is_one_line(tmp_path: Path, database_url: str) -> None:
    config = write_config(tmp_path, database_url)
    result = await run_cli("report", "--config", str(config))
    assert result.exit_code == 1
    assert "run `prospect-relay db upgrade`" in result.stderr
    assert "Traceback" not in result.output
