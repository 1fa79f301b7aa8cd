"""`prospect-relay webhooks list|test|replay` and the events register commands queue, against
the test database and a real HTTP receiver."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from proxy.settings import DatabaseSettings
from proxy.store import Store, create_engine
from proxy.store.webhook_queue import WebhookQueue
from tests.integration.ops_helpers import run_cli, write_config
from tests.ports import free_port
from tests.webhook_receiver import WebhookReceiver, new_secret

pytestmark = pytest.mark.postgres


@pytest.fixture
def receiver() -> WebhookReceiver:
    return WebhookReceiver(free_port(), new_secret())


@pytest.fixture
async def config(
    store: Store, migrated_url: str, tmp_path: Path, receiver: WebhookReceiver
) -> Path:
    path = write_config(tmp_path, migrated_url)
    with path.open("a") as config:
        config.write(
            "[[webhooks.endpoints]]\n"
            'name = "crm"\n'
            f'url = "{receiver.url}"\n'
            f'secret = "{receiver.secret}"\n'
            'events = ["objection", "suppression"]\n'
        )
    return path


async def test_register_commands_queue_events_and_list_shows_them(config: Path) -> None:
    assert (
        await run_cli("consent", "withdraw", "a@example.fr", "--config", str(config))
    ).exit_code == 0
    assert (
        await run_cli("suppress", "add", "b@example.fr", "--config", str(config))
    ).exit_code == 0
    assert (await run_cli("forget", "c@example.fr", "--config", str(config))).exit_code == 0

    listed = await run_cli("webhooks", "list", "--config", str(config))

    assert listed.exit_code == 0, listed.output
    # withdraw: objection + suppression; suppress add: suppression; forget: erasure filtered out
    # endpoint, url, events, sends, pending, delivered, failed, oldest pending
    assert re.search(
        r"crm\s+│\s+http://127\.0\.0\.1:\d+\S*\s+│\s+objection,suppression\s+│\s+hash\s+│"
        r"\s+3\s+│\s+0\s+│\s+0\s+│\s+\d{4}-\d\d-\d\dT",
        listed.output,
    ), listed.output


async def test_test_command_reports_the_answer(config: Path, receiver: WebhookReceiver) -> None:
    down = await run_cli("webhooks", "test", "crm", "--config", str(config))
    assert down.exit_code == 1 and "crm: not delivered" in down.output
    await receiver.start()
    try:
        up = await run_cli("webhooks", "test", "crm", "--config", str(config))
    finally:
        await receiver.stop()
    assert up.exit_code == 0 and "crm: HTTP 204" in up.output
    assert [hook.type for hook in receiver.received] == ["test"]
    unknown = await run_cli("webhooks", "test", "erp", "--config", str(config))
    assert unknown.exit_code == 1 and "no webhook endpoint named 'erp'" in unknown.output


async def test_replay_requeues_settled_events(config: Path, migrated_url: str) -> None:
    assert (
        await run_cli("suppress", "add", "b@example.fr", "--config", str(config))
    ).exit_code == 0
    engine = create_engine(DatabaseSettings(url=migrated_url))
    try:
        await _replay(config, WebhookQueue(engine))
    finally:
        await engine.dispose()


async def _replay(config: Path, queue: WebhookQueue) -> None:
    [row] = await queue.pending("crm", 10)
    await queue.delivered(row.id, datetime.now(UTC), 1)
    listed = (await run_cli("webhooks", "list", "--config", str(config))).output
    assert re.search(r"crm\s+│.*│\s+0\s+│\s+1\s+│\s+0\s+│\s+-\s+│", listed), listed

    replayed = await run_cli("webhooks", "replay", "--since", "1h", "--config", str(config))

    assert replayed.exit_code == 0 and replayed.output.startswith("1 deliveries queued again")
    [again] = await queue.pending("crm", 10)
    assert again.event.id == row.event.id  # the same webhook-id: receivers deduplicate
    bad = await run_cli("webhooks", "replay", "--since", "soon", "--config", str(config))
    assert bad.exit_code == 2


async def test_prune_deletes_only_settled_rows(config: Path, migrated_url: str) -> None:
    for address in ("b@example.fr", "c@example.fr"):
        result = await run_cli("suppress", "add", address, "--config", str(config))
        assert result.exit_code == 0
    engine = create_engine(DatabaseSettings(url=migrated_url))
    try:
        queue = WebhookQueue(engine)
        first, _ = await queue.pending("crm", 10)
        now = datetime.now(UTC)
        await queue.delivered(first.id, now, 1)
        assert await queue.prune(now - timedelta(seconds=1)) == 0
        assert await queue.prune(now + timedelta(seconds=1)) == 1
        assert await queue.pending_counts() == {"crm": 1}
    finally:
        await engine.dispose()
