"""`prospect-relay purge`: removes exactly what is past retention, keeps suppressions."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.model import Action, ConsentState, Contact, SuppressionOrigin
from proxy.ops.retention import cutoffs
from proxy.policy.derive import months_before
from proxy.policy.policy_file import Retention
from proxy.settings import AuditSettings, DatabaseSettings
from proxy.store import AuditRecord, Store, create_engine
from proxy.store.tables import audit_records, contacts, suppressions
from tests.integration.ops_helpers import run_cli, write_config

pytestmark = pytest.mark.postgres

AUDIT_DAYS = 30
OLD_AUDIT = 5003  # more than one delete batch
TODAY = datetime.now(UTC).date()
P = months_before(TODAY, 36)  # prospect window start
C = months_before(TODAY, 24)  # customer window start
DAY = timedelta(days=1)

# email -> (contact, purged?)
CONTACTS: dict[str, tuple[Contact, bool]] = {
    "old@p.example": (
        Contact("old@p.example", collected_at=P - 400 * DAY, last_interaction=P - DAY),
        True,
    ),
    "boundary-old@p.example": (Contact("boundary-old@p.example", collected_at=P - DAY), True),
    "boundary-kept@p.example": (Contact("boundary-kept@p.example", collected_at=P), False),
    "clicked@p.example": (
        Contact("clicked@p.example", collected_at=P - 900 * DAY, last_interaction=TODAY - DAY),
        False,
    ),
    "undated@p.example": (Contact("undated@p.example"), False),
    "consented@p.example": (
        Contact(
            "consented@p.example",
            collected_at=P - 10 * DAY,
            consent=ConsentState.GRANTED,
            consent_at=TODAY - 10 * DAY,
        ),
        False,
    ),
    "customer@p.example": (  # bought within the prospect window (36 > 24 months): kept
        Contact(
            "customer@p.example",
            collected_at=P - 500 * DAY,
            customer_of=("shoes",),
            last_purchase=C - 30 * DAY,
        ),
        False,
    ),
    "lapsed@p.example": (
        Contact(
            "lapsed@p.example",
            collected_at=P - 500 * DAY,
            customer_of=("shoes",),
            last_purchase=P - DAY,
        ),
        True,
    ),
    "objected@p.example": (  # withdrawn: the import adds a suppression, which must stay
        Contact(
            "objected@p.example",
            collected_at=P - 300 * DAY,
            consent=ConsentState.WITHDRAWN,
            consent_at=P - 200 * DAY,
        ),
        True,
    ),
}
PURGED = sorted(email for email, (_, purged) in CONTACTS.items() if purged)
KEPT = sorted(email for email, (_, purged) in CONTACTS.items() if not purged)


def _audit(n: int, at: datetime) -> AuditRecord:
    return AuditRecord(
        created_at=at,
        queue_id=f"q{n}",
        sender_hash="c" * 64,
        recipient_hash=f"{n:064x}",
        action=Action.FORWARD,
    )


@pytest.fixture
async def config(store: Store, migrated_url: str, tmp_path: Path) -> Path:
    now = datetime.now(UTC)
    old = now - timedelta(days=AUDIT_DAYS, minutes=5)
    recent = now - timedelta(days=AUDIT_DAYS) + timedelta(minutes=5)
    await store.record_audit(
        [_audit(n, old - timedelta(seconds=n)) for n in range(OLD_AUDIT)]
        + [_audit(-n, recent + timedelta(seconds=n)) for n in range(1, 8)]
    )
    await store.upsert_contacts([contact for contact, _ in CONTACTS.values()])
    await store.add_suppression(address="old@p.example", origin=SuppressionOrigin.ONE_CLICK)
    return write_config(
        tmp_path, migrated_url, audit_days=AUDIT_DAYS, prospect_months=36, customer_months=24
    )


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(url=migrated_url))
    yield engine
    await engine.dispose()


async def _state(engine: AsyncEngine) -> tuple[int, list[str], int]:
    async with engine.connect() as connection:
        audit = await connection.scalar(select(func.count()).select_from(audit_records))
        emails = (await connection.scalars(select(contacts.c.email))).all()
        listed = await connection.scalar(select(func.count()).select_from(suppressions))
    return int(audit or 0), sorted(emails), int(listed or 0)


def _counts(output: str) -> tuple[int, int]:
    audit = re.search(r"^audit records: (?:would remove|removed) ([\d,]+) ", output, re.M)
    people = re.search(r"^contacts: (?:would remove|removed) ([\d,]+) ", output, re.M)
    assert audit is not None and people is not None, output
    return int(audit.group(1).replace(",", "")), int(people.group(1).replace(",", ""))


async def test_dry_run_removes_nothing_and_counts_the_same(
    store: Store, engine: AsyncEngine, config: Path
) -> None:
    before = await _state(engine)
    assert before == (OLD_AUDIT + 7, sorted(CONTACTS), 2)  # one-click + withdrawn consent
    dry = await run_cli("purge", "--dry-run", "--config", str(config))
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.startswith("dry run: nothing was removed\n")
    assert _counts(dry.stdout) == (OLD_AUDIT, len(PURGED))
    assert await _state(engine) == before

    real = await run_cli("purge", "--config", str(config))
    assert real.exit_code == 0, real.output
    assert "dry run" not in real.stdout
    assert _counts(real.stdout) == (OLD_AUDIT, len(PURGED))
    assert "their suppression entries are kept" in real.stdout
    audit, emails, listed = await _state(engine)
    assert audit == 7
    assert emails == KEPT
    assert listed == 2
    assert await store.is_suppressed("old@p.example")
    assert await store.is_suppressed("objected@p.example")

    again = await run_cli("purge", "--config", str(config))
    assert again.exit_code == 0, again.output
    assert _counts(again.stdout) == (0, 0)


async def test_recent_audit_records_are_untouched(engine: AsyncEngine, config: Path) -> None:
    result = await run_cli("purge", "--config", str(config))
    assert result.exit_code == 0, result.output
    async with engine.connect() as connection:
        queue_ids = set((await connection.scalars(select(audit_records.c.queue_id))).all())
    assert queue_ids == {f"q{-n}" for n in range(1, 8)}


async def test_missing_policy_is_one_line(tmp_path: Path, migrated_url: str) -> None:
    config = write_config(tmp_path, migrated_url)
    (tmp_path / "policy.toml").unlink()
    result = await run_cli("purge", "--config", str(config))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'policy.toml'}: policy file not found"


async def test_bad_option_is_one_line(config: Path) -> None:
    result = await run_cli("purge", "--dry-rnu", "--config", str(config))
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: No such option '--dry-rnu'. Did you mean '--dry-run'?")


def test_cutoffs_follow_settings_and_policy() -> None:
    now = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    limits = cutoffs(
        AuditSettings(retention_days=10), Retention(prospect_months=36, customer_months=1), now
    )
    assert limits.audit_before == datetime(2026, 3, 21, 12, 0, tzinfo=UTC)
    assert limits.prospect_before == date(2023, 3, 31)
    assert limits.customer_before == date(2026, 2, 28)
