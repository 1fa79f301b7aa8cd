"""Two relay processes on one database: objections, imports and suppressions do not race.

Runs against SQLite (two processes on one WAL file) by default and against PostgreSQL when
PROSPECT_RELAY_TEST_DB=postgresql (see conftest.py). The relay keeps no cache of compliance
facts: every RCPT reads the suppression list and the register from the database, so a change
made through one instance is seen by the very next decision of every other instance.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import aiosmtplib
import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.model import SuppressionOrigin
from proxy.settings import DatabaseSettings
from proxy.store import Store, create_engine
from proxy.store.tables import contacts, suppressions
from tests.conftest import RecordingUpstream
from tests.ports import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.postgres

SECRET = "two-instances-shared-secret-0123456789abcdef"
PUBLIC_URL = "https://unsubscribe.example.test"
RECIPIENT = "contact@acme-industrie.fr"

POLICY = """\
[controllers.example]
legal_name = "Example SAS"
postal_address = "10 rue de l'Exemple, 75002 Paris, France"
domains = ["example.com"]
privacy_url = "https://www.example.com/privacy"
"""


def child_env() -> dict[str, str]:
    """The environment of every relay process: the shared secret comes from the environment,
    as in deploy/docker-compose.yml (suppression hashes and tokens must agree everywhere)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROSPECT_RELAY_")}
    env["PROSPECT_RELAY_SECURITY__SECRET_KEY"] = SECRET
    return env


def write_config(
    directory: Path, name: str, database_url: str, upstream_port: int | None = None
) -> Path:
    """`directory/<name>.toml` with its own SMTP and web ports; the policy is shared."""
    policy = directory / "policy.toml"
    if not policy.exists():
        policy.write_text(POLICY)
    upstream = (
        f'[upstream]\nhost = "127.0.0.1"\nport = {upstream_port}\ntimeout = 5\n\n'
        if upstream_port
        else ""
    )
    config = directory / f"{name}.toml"
    config.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\nhostname = "{name}.relay.test"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {free_port()}\nops_port = {free_port()}\n'
        f'public_url = "{PUBLIC_URL}"\n\n'
        f"{upstream}"
        f'[database]\nurl = "{database_url}"\n\n'
        f'[policy]\nfile = "{policy}"\n\n'
        f'[outbox]\npath = "{directory / name / "outbox"}"\n\n'
        f'[log]\nformat = "json"\nlevel = "WARNING"\n\n'
        f'[audit]\ninstance = "{name}"\n'
    )
    return config


@dataclass
class RelayProcess:
    """`python -m proxy serve` in a child process, with the ports its config file names."""

    name: str
    process: asyncio.subprocess.Process
    smtp_port: int
    web_port: int
    ops_port: int
    log: Path

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def ops(self) -> str:
        return f"http://127.0.0.1:{self.ops_port}"


def _ports(config: Path) -> tuple[int, int, int]:
    """SMTP, public web and operations ports."""
    data = tomllib.loads(config.read_text())
    web = data["web"]
    return int(data["smtp"]["port"]), int(web["port"]), int(web["ops_port"])


async def start_relay_process(directory: Path, name: str, config: Path) -> RelayProcess:
    """Start the relay and wait until /readyz answers 200 (database, policy and delivery ok)."""
    smtp_port, web_port, ops_port = _ports(config)
    log = directory / f"{name}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "proxy",
            "serve",
            "--config",
            str(config),
            cwd=directory,
            env=child_env(),
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )
    relay = RelayProcess(name, process, smtp_port, web_port, ops_port, log)

    async def ready(session: aiohttp.ClientSession) -> bool:
        if process.returncode is not None:
            pytest.fail(f"{name} exited {process.returncode}: {log.read_text()}")
        async with session.get(f"{relay.ops}/readyz") as response:
            return response.status == 200

    async with aiohttp.ClientSession() as session:
        try:
            await wait_until(
                lambda: ready(session),
                f"{name}'s /readyz to answer 200",
                ignore=(aiohttp.ClientError,),
                detail=log.read_text,
            )
        except AssertionError:
            await stop_relay_process(relay)
            raise
    return relay


async def stop_relay_process(relay: RelayProcess) -> None:
    if relay.process.returncode is None:
        relay.process.terminate()
        try:
            await asyncio.wait_for(relay.process.wait(), 15)
        except TimeoutError:
            relay.process.kill()
            await relay.process.wait()


StartRelays = Callable[[int], Awaitable[list[RelayProcess]]]


@pytest.fixture
async def start_relays(
    tmp_path: Path, migrated_url: str, recording_upstream: RecordingUpstream
) -> AsyncIterator[StartRelays]:
    """`await start_relays(2)`: N relay processes on one database and one upstream."""
    started: list[RelayProcess] = []

    async def start(count: int) -> list[RelayProcess]:
        configs = [
            (name, write_config(tmp_path, name, migrated_url, recording_upstream.port))
            for name in (f"relay-{chr(ord('a') + i)}" for i in range(count))
        ]
        relays = await asyncio.gather(
            *(start_relay_process(tmp_path, name, config) for name, config in configs)
        )
        started.extend(relays)
        return list(relays)

    yield start
    await asyncio.gather(*(stop_relay_process(relay) for relay in started))
    for relay in started:
        assert relay.process.returncode == 0, relay.log.read_text()


def _offer(number: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Ventes <ventes@example.com>"
    msg["To"] = RECIPIENT
    msg["Subject"] = f"Nouvelle offre {number}"
    msg["X-Prospect-Source"] = "salon Lyon 2025"
    msg.set_content("Bonjour,\n\nnotre nouvelle offre.\n")
    return msg


async def _rcpt_reply(port: int) -> tuple[int, str]:
    """The relay's reply to RCPT TO:<RECIPIENT> (the session is then reset and closed)."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10)
    async with client:
        await client.mail("ventes@example.com")
        try:
            response = await client.rcpt(RECIPIENT)
        except aiosmtplib.SMTPRecipientRefused as refused:
            return refused.code, refused.message
        await client.rset()
        return response.code, response.message


async def test_one_click_on_one_instance_refuses_the_next_message_on_the_other(
    start_relays: StartRelays, recording_upstream: RecordingUpstream
) -> None:
    relay_a, relay_b = await start_relays(2)

    # B delivers the first offer (and reads the recipient's facts: a cache would be warm now).
    await aiosmtplib.send(_offer(1), hostname="127.0.0.1", port=relay_b.smtp_port)
    [delivered] = recording_upstream.messages
    header = message_from_bytes(delivered.content)["List-Unsubscribe"]
    assert header is not None
    url = next(part.strip("<> ") for part in header.split(",") if PUBLIC_URL in part)
    path = url.removeprefix(PUBLIC_URL)
    assert path.startswith("/u/")

    # The person clicks one-click unsubscribe; the load balancer happens to pick A.
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{relay_a.web}{path}", data={"List-Unsubscribe": "One-Click"}) as response,
    ):
        assert response.status == 200, await response.text()

    # No cache to expire: the very next RCPT on either instance sees the objection.
    for relay in (relay_b, relay_a):
        code, message = await _rcpt_reply(relay.smtp_port)
        assert code == 550
        assert message.startswith("5.7.1 suppressed"), message
    assert len(recording_upstream.messages) == 1


async def _run_cli(directory: Path, config: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "proxy",
        *args,
        "--config",
        str(config),
        cwd=directory,
        env=child_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """The test's own connection pool to the shared database."""
    engine = create_engine(DatabaseSettings(url=migrated_url))
    try:
        yield engine
    finally:
        await engine.dispose()


async def _count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def test_two_overlapping_imports_at_once_leave_one_row_per_address(
    tmp_path: Path, migrated_url: str, engine: AsyncEngine
) -> None:
    config = write_config(tmp_path, "cli", migrated_url)
    header = "email,kind,country,source,source_kind\n"
    first = [f"p{i}@firm{i % 7}.example" for i in range(0, 300)]
    second = [f"p{i}@firm{i % 7}.example" for i in range(150, 450)]
    files = []
    for name, addresses in (("first.csv", first), ("second.csv", second)):
        path = tmp_path / name
        path.write_text(header + "".join(f"{a},b2b,FR,salon 2025,event\n" for a in addresses))
        files.append(path)

    results = await asyncio.gather(
        *(_run_cli(tmp_path, config, "contacts", "import", str(path)) for path in files)
    )
    for code, output in results:
        assert code == 0, output
    assert await _count(engine, contacts) == len(set(first) | set(second)) == 450
    contact = await Store(engine, SECRET.encode()).get_contact("p200@firm4.example")
    assert contact is not None and contact.source == "salon 2025"


async def test_the_same_address_suppressed_twice_at_once_is_one_row(
    tmp_path: Path, migrated_url: str, engine: AsyncEngine
) -> None:
    config = write_config(tmp_path, "cli", migrated_url)
    store = Store(engine, SECRET.encode())
    address = "Marie.Curie@Example.FR"
    results = await asyncio.gather(
        *(_run_cli(tmp_path, config, "suppress", "add", address) for _ in range(2))
    )
    for code, output in results:
        assert code == 0, output

    # Two more "instances" (own engines, own pools) racing many times on one new address.
    second_engine = create_engine(DatabaseSettings(url=migrated_url))
    try:
        other = Store(second_engine, SECRET.encode())
        created = await asyncio.gather(
            *(
                s.add_suppression(address="racer@example.org", origin=SuppressionOrigin.ONE_CLICK)
                for _ in range(10)
                for s in (store, other)
            )
        )
    finally:
        await second_engine.dispose()
    assert created.count(True) == 1

    for listed in (address, "racer@example.org"):
        assert len(await store.is_suppressed(listed)) == 1
    assert await _count(engine, suppressions) == 2
