"""`prospect-relay audit export`: the period's records as CSV, streamed, oldest first."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from proxy.model import Action, Basis
from proxy.store import AuditRecord, Store
from tests.integration.ops_helpers import run_cli, write_config

pytestmark = pytest.mark.postgres

START = datetime(2025, 3, 1, tzinfo=UTC)
HEADER = [
    "created_at",
    "queue_id",
    "campaign",
    "sender_hash",
    "recipient_hash",
    "country",
    "action",
    "rule_ids",
    "basis",
    "instance",
    "would_action",
    "would_rule_ids",
]
MANY = 4321  # more than two fetch batches of the server-side cursor


def _record(n: int, at: datetime, **overrides: object) -> AuditRecord:
    values: dict[str, object] = {
        "created_at": at,
        "queue_id": f"q{n}",
        "sender_hash": "b" * 64,
        "recipient_hash": f"{n:064x}",
        "action": Action.FORWARD,
        "basis": Basis.CONSENT,
        "campaign": "spring",
        "country": "FR",
        "instance": "relay-1",
    }
    values.update(overrides)
    return AuditRecord(**values)  # type: ignore[arg-type]


@pytest.fixture
async def config(store: Store, migrated_url: str, tmp_path: Path) -> Path:
    # Inserted newest first, so the export's order comes from the query, not from insertion.
    records = [_record(n, START + timedelta(seconds=n)) for n in range(MANY, 0, -1)]
    records.append(
        _record(
            0,
            START,
            action=Action.REJECT,
            rule_ids=("suppressed", "b2c-no-consent"),
            basis=Basis.NONE,
            campaign=None,
            country=None,
            instance="relay-2",
        )
    )
    records.append(_record(-1, START - timedelta(microseconds=1)))  # before --since
    records.append(_record(-2, datetime(2025, 3, 2, tzinfo=UTC)))  # at --until: excluded
    await store.record_audit(records)
    return write_config(tmp_path, migrated_url)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def test_export_streams_every_row_of_the_period(config: Path) -> None:
    args = ("audit", "export", "--since", "2025-03-01", "--until", "2025-03-02T00:00:00")
    result = await run_cli(*args, "--config", str(config))
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert rows[0] == HEADER
    body = rows[1:]
    assert len(body) == MANY + 1
    assert result.stderr.strip() == f"exported {MANY + 1:,} audit records"
    assert body[0] == [
        "2025-03-01T00:00:00.000000Z",
        "q0",
        "",
        "b" * 64,
        f"{0:064x}",
        "",
        "reject",
        "suppressed,b2c-no-consent",
        "none",
        "relay-2",
        "",
        "",
    ]
    assert body[1][:2] == ["2025-03-01T00:00:01.000000Z", "q1"]
    assert body[-1][:2] == [
        (START + timedelta(seconds=MANY)).strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
        f"q{MANY}",
    ]
    stamps = [row[0] for row in body]
    assert stamps == sorted(stamps)
    assert "q-1" not in {row[1] for row in body}
    assert "q-2" not in {row[1] for row in body}


async def test_until_date_includes_that_whole_day(config: Path) -> None:
    args = ("audit", "export", "--since", "2025-02-28", "--until", "2025-03-02")
    result = await run_cli(*args, "--config", str(config))
    assert result.exit_code == 0, result.output
    ids = {row[1] for row in _rows(result.stdout)[1:]}
    assert len(ids) == MANY + 3
    assert {"q-1", "q-2", "q0"} <= ids


async def test_empty_period_gives_the_header_only(config: Path) -> None:
    result = await run_cli("audit", "export", "--since", "2030-01-01", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert _rows(result.stdout) == [HEADER]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "error: Missing option '--since'"),
        (("--since", "last tuesday"), "error: --since: 'last tuesday' is neither a duration"),
        (("--since", "2025-03-01", "--until", "soon"), "error: --until: 'soon' is neither"),
    ],
)
async def test_bad_arguments_give_one_line_and_exit_2(
    config: Path, args: tuple[str, ...], message: str
) -> None:
    result = await run_cli("audit", "export", *args, "--config", str(config))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(message)


@pytest.mark.parametrize("command", ["export", "feedback"])
async def test_a_reader_that_goes_away_gets_no_traceback(config: Path, command: str) -> None:
    """`prospect-relay audit export ... | head`: the reader has closed the pipe; the command
    exits 1 with one line on stderr that says so, never a traceback."""
    relay = Path(sys.executable).parent / "prospect-relay"
    args = [str(relay), "audit", command, "--since", "2000-01-01", "--config", str(config)]
    reader, writer = os.pipe()
    os.close(reader)  # like `head` having exited: every write to the pipe fails (EPIPE)
    try:
        process = await asyncio.create_subprocess_exec(
            *args, stdout=writer, stderr=asyncio.subprocess.PIPE
        )
    finally:
        os.close(writer)
    assert process.stderr is not None
    stderr = await asyncio.wait_for(process.stderr.read(), 120)
    assert await process.wait() == 1
    assert stderr == b"Error: Broken pipe\n"
