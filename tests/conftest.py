"""Shared fixtures: clean environment, settings factory, recording upstream, running relay,
the test database (tests/databases.py says which backend)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from ssl import SSLContext
from typing import Any

import hypothesis
import pytest
from aiosmtpd.smtp import SMTP
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.app import build_core
from proxy.lifecycle import RelayApp
from proxy.metrics import Metrics
from proxy.secrets import load_or_create_secret
from proxy.service import Compliance, PassThroughCompliance
from proxy.settings import Settings
from proxy.store.audit_export import EXPORT_COLUMNS, stream_audit_rows
from proxy.store.audit_rows import audit_record_from_row
from proxy.store.records import AuditRecord
from tests.databases import TEST_DB, TEST_PG_URL, pg_admin

# Property tests judge correctness, not speed: on a loaded 2-core CI machine a slow example
# must not fail the run. A failure prints the blob that reproduces it. Under CI the examples
# are derived from each test's name (reproducible runs); elsewhere they are fresh each time,
# so development keeps exploring new inputs.
hypothesis.settings.register_profile(
    "relay",
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
    print_blob=True,
    derandomize=os.environ.get("CI") == "true",
)
hypothesis.settings.load_profile("relay")


async def stored_audit(
    engine: AsyncEngine, since: datetime | None = None, until: datetime | None = None
) -> list[AuditRecord]:
    """The audit trail read the way `prospect-relay audit export` reads it, oldest first."""
    start = since or datetime(1970, 1, 1, tzinfo=UTC)
    return [
        audit_record_from_row({"basis_detail": None, **dict(zip(EXPORT_COLUMNS, row, strict=True))})
        async for batch in stream_audit_rows(engine, start, until)
        for row in batch
    ]


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """pydantic-settings must never read the developer's PROSPECT_RELAY_* variables."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("PROSPECT_RELAY_")}
    for key in saved:
        del os.environ[key]
    yield
    for key in [k for k in os.environ if k.startswith("PROSPECT_RELAY_")]:
        del os.environ[key]
    os.environ.update(saved)


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """`make_settings(smtp={"max_recipients": 2}, upstream={"host": ...})`: test settings.

    Sections are dicts merged over test defaults: SMTP, web and ops on 127.0.0.1 port 0, outbox,
    database and secret under tmp_path, JSON logs.
    """

    def factory(**overrides: Any) -> Settings:
        defaults: dict[str, Any] = {
            "smtp": {"host": "127.0.0.1", "port": 0, "hostname": "relay.test"},
            "web": {"host": "127.0.0.1", "port": 0, "ops_port": 0},
            "outbox": {"path": str(tmp_path / "outbox")},
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}"},
            "security": {"secret_file": str(tmp_path / "secret.key")},
            "policy": {"file": str(tmp_path / "policy.toml")},
            "log": {"format": "json"},
        }
        return Settings(**_merge(defaults, overrides))

    return factory


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    mail_options: list[str]

    def __post_init__(self) -> None:
        if self.mail_from == "<>":
            self.mail_from = ""


@dataclass
class UpstreamBehaviour:
    """What the recording upstream answers; tests change it between messages."""

    mail_reply: str | None = None  # e.g. "451 4.3.0 busy"
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address -> reply
    data_reply: str | None = None  # reply after the final dot
    delay: float = 0.0  # seconds to wait before answering the final dot
    drop_after_dot: bool = False  # close the connection instead of answering the dot
    pipelining: bool = False  # advertise PIPELINING (RFC 2920) in the EHLO reply
    # Replies for the next MAIL commands, one used per MAIL: "close" closes the connection
    # without a reply (an idle timeout that races the client's batch).
    mail_once: list[str] = field(default_factory=list)
    mail_delay: float = 0.0  # seconds to wait before answering MAIL
    # Refuse RCPT as rcpt_replies says but keep the address, so DATA still gets 354 (a
    # broken upstream: the client must end the empty DATA with a lone ".").
    data_despite_refusals: bool = False
    data_command_reply: str | None = None  # answer the DATA command itself with this


class RecordingHandler:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.behaviour = UpstreamBehaviour()
        self.connections = 0
        self.received: list[bytes] = []  # every chunk read from a client, in order

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # aiosmtpd leaves this to a 5-argument EHLO hook
        if self.behaviour.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.behaviour.mail_delay:
            await asyncio.sleep(self.behaviour.mail_delay)
        if self.behaviour.mail_once:
            reply = self.behaviour.mail_once.pop(0)
            if reply == "close":
                server.transport.close()
            return reply
        if self.behaviour.mail_reply:
            return self.behaviour.mail_reply
        # Stock aiosmtpd hands the null sender over as the literal "<>" (and needs a truthy
        # mail_from for RCPT); Received records it as "".
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self.behaviour.rcpt_replies.get(address)
        if reply:
            if self.behaviour.data_despite_refusals:
                envelope.rcpt_tos.append(address)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        behaviour = self.behaviour
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        if behaviour.drop_after_dot:
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, [])
            )
            server.transport.close()
            return "250 OK"
        if behaviour.data_reply:
            return behaviour.data_reply
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content,
                list(envelope.mail_options),
            )
        )
        return "250 2.0.0 Ok: queued"


@dataclass
class RecordingUpstream:
    host: str
    port: int
    handler: RecordingHandler
    server: asyncio.Server

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    @property
    def behaviour(self) -> UpstreamBehaviour:
        return self.handler.behaviour

    @property
    def connections(self) -> int:
        return self.handler.connections

    def commands(self) -> list[str]:
        """The command lines clients sent (message bodies left out), in order."""
        verbs = ("EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "QUIT", "NOOP", "STARTTLS", "AUTH")
        lines = b"".join(self.handler.received).decode("utf-8", "replace").split("\r\n")
        return [line for line in lines if line.startswith(verbs)]

    def mail_chunks(self) -> list[bytes]:
        """The chunks (reads) that began with MAIL: the MAIL line alone from a client that
        waits for each reply; MAIL, every RCPT and DATA from one that pipelines."""
        return [chunk for chunk in self.handler.received if chunk.startswith(b"MAIL FROM:")]

    def close_connections(self) -> None:
        """Close every open upstream session (simulates an idle timeout on the upstream)."""
        for protocol in list(self.handler_protocols):
            if protocol.transport is not None:
                protocol.transport.close()

    handler_protocols: set[SMTP] = field(default_factory=set)


async def start_recording_upstream(
    *, ssl: SSLContext | None = None, **options: Any
) -> RecordingUpstream:
    """An aiosmtpd server in the test's own loop, on 127.0.0.1 and an ephemeral port.

    `ssl`: implicit TLS; `options` go to aiosmtpd's SMTP (tls_context for STARTTLS,
    authenticator, auth_require_tls...).
    """
    handler = RecordingHandler()
    protocols: set[SMTP] = set()

    class _Tracked(SMTP):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            if self._original_transport is None:
                handler.connections += 1
                protocols.add(self)
            super().connection_made(transport)

        async def smtp_DATA(self, arg: str) -> None:
            if handler.behaviour.data_command_reply:
                await self.push(handler.behaviour.data_command_reply)
                return
            await super().smtp_DATA(arg)

        def data_received(self, data: bytes) -> None:
            handler.received.append(data)
            super().data_received(data)

        def connection_lost(self, error: Exception | None) -> None:
            protocols.discard(self)
            super().connection_lost(error)

    def factory() -> SMTP:
        settings = {"hostname": "upstream.test", "enable_SMTPUTF8": True, **options}
        return _Tracked(handler, **settings)

    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0, ssl=ssl)
    port = server.sockets[0].getsockname()[1]
    return RecordingUpstream("127.0.0.1", port, handler, server, protocols)


@pytest.fixture
async def recording_upstream() -> AsyncIterator[RecordingUpstream]:
    upstream = await start_recording_upstream()
    yield upstream
    upstream.server.close()
    upstream.close_connections()
    await upstream.server.wait_closed()


def core_relay(settings: Settings, compliance: Compliance | None = None) -> RelayApp:
    """The relay as the composition root wires its SMTP side (`build_core`), around
    `compliance` (default: forward unchanged); not started."""
    return build_core(
        settings,
        compliance or PassThroughCompliance(),
        hash_key=load_or_create_secret(settings.security),
        metrics=Metrics(),
    )


StartRelay = Callable[..., Awaitable[RelayApp]]


@pytest.fixture
async def start_relay() -> AsyncIterator[StartRelay]:
    """`await start_relay(settings, compliance=...)`: a started RelayApp, stopped at teardown."""
    apps: list[RelayApp] = []

    async def start(settings: Settings, compliance: Compliance | None = None) -> RelayApp:
        app = core_relay(settings, compliance)
        await app.start()
        apps.append(app)
        return app

    yield start
    for app in apps:
        await app.stop(grace=1.0)


@pytest.fixture
async def running_relay(
    start_relay: StartRelay,
    make_settings: Callable[..., Settings],
    recording_upstream: RecordingUpstream,
) -> RelayApp:
    """The relay on 127.0.0.1:<ephemeral>, forwarding to `recording_upstream` (timeout 2 s)."""
    settings = make_settings(
        upstream={"host": recording_upstream.host, "port": recording_upstream.port, "timeout": 2}
    )
    return await start_relay(settings)


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """An empty database (no schema) of the selected backend."""
    if TEST_DB == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'var' / 'relay.db'}"
        return
    if TEST_DB != "postgresql":
        pytest.fail(f"PROSPECT_RELAY_TEST_DB must be sqlite or postgresql, not {TEST_DB!r}")
    if not TEST_PG_URL:
        pytest.fail("PROSPECT_RELAY_TEST_PG_URL is not set (run scripts/pg-start.sh)")
    name = f"prt_{uuid.uuid4().hex[:16]}"
    admin = await pg_admin(TEST_PG_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield make_url(TEST_PG_URL).set(database=name).render_as_string(hide_password=False)
    admin = await pg_admin(TEST_PG_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
