"""The production relay end to end: store, policy, compliance, web, SMTP on port 0.

`full_relay(...)` builds the relay exactly as `serve` does (`build_relay`) on a migrated
database of the selected backend (SQLite file, or PostgreSQL when PROSPECT_RELAY_TEST_DB
says so), a policy file written into tmp_path, "today" fixed at 2026-12-01, and the recording
upstream. The returned `FullRelay` sends real SMTP, scrapes the web port, seeds the register
through its own `Store`, runs the CLI on the same settings, and can take the database away.
"""

from __future__ import annotations

import asyncio
import email.utils
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import aiosmtplib
import pytest
import trustme
from click.testing import CliRunner, Result
from playwright.async_api import Browser, async_playwright
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.app import build_relay
from proxy.cli import cli
from proxy.feedback.esp import CertFetcher
from proxy.feedback.providers import fetch_sns_certificate
from proxy.lifecycle import RelayApp, StoreComponent, WebComponent
from proxy.metrics import Metrics
from proxy.secrets import load_or_create_secret
from proxy.settings import Settings
from proxy.store import Store, create_engine, upgrade
from proxy.store.audit_writer import AuditTrail
from tests.conftest import Received, RecordingUpstream
from tests.databases import pg_admin
from tests.e2e.browser_helpers import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.log_capture import LogCapture, production_logging

TODAY = date(2026, 12, 1)
PUBLIC_URL = "https://unsubscribe.relay.test"
RELAY_HOSTNAME = "relay.test"
SENDER = "news@example.com"

POLICY = """\
mode = "{mode}"
visible_recipients = "reject"

[controllers.acme]
legal_name = "Acme Prospecting SAS"
postal_address = "1 rue de la Paix, 75002 Paris, France"
domains = ["example.com", "example.fr"]
privacy_url = "https://example.com/privacy"
default = true

[transactional]
senders = ["noreply@example.com"]
sender_networks = ["127.0.0.1/32"]

[campaigns.lunch]
targets = ["facilities"]
source = "trade fair Lyon 2025"
"""


def policy_text(mode: str = "enforce", extra: str = "") -> str:
    """The test policy: one controller (acme) owning example.com and example.fr."""
    return POLICY.format(mode=mode) + extra


def make_message(
    to: str | Sequence[str] = "marie@gmail.com",
    *,
    from_: str = f"Acme News <{SENDER}>",
    subject: str = "Our new collection",
    headers: dict[str, str] | None = None,
    text: str = "Hello,\nour new collection is out.\n",
    html: str | None = "<html><body><p>Hello, our new collection is out.</p></body></html>",
    message_id: str | None = None,
) -> bytes:
    """A marketing message (text, plus HTML unless html=None) as CRLF bytes."""
    msg = EmailMessage()
    msg["From"] = from_
    msg["To"] = to if isinstance(to, str) else ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@example.com>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


@dataclass
class Transcript:
    """The replies of one SMTP transaction: MAIL, each RCPT, and DATA (None if not sent)."""

    mail: str
    rcpt: dict[str, str]
    data: str | None

    @property
    def accepted(self) -> bool:
        return self.data is not None and self.data.startswith("250")


def _reply(code: int, message: str) -> str:
    return f"{code} {message}"


@dataclass
class FullRelay:
    app: RelayApp
    settings: Settings
    store: Store  # its own engine on the relay's database, for seeding and checks
    upstream: RecordingUpstream
    policy_file: Path
    config_file: Path  # relay.toml with the same database, secret and policy, for the CLI
    database_url: str
    engine: AsyncEngine  # the engine of `store`

    @property
    def metrics(self) -> Metrics:
        return self.app.metrics

    @property
    def smtp_port(self) -> int:
        return self.app.smtp_port

    def _listener_port(self, name: str) -> int:
        for component in self.app.components:
            if (
                isinstance(component, WebComponent)
                and component.name == name
                and component.port is not None
            ):
                return component.port
        raise RuntimeError(f"the {name} listener is not running")

    @property
    def web_port(self) -> int:
        return self._listener_port("web")

    @property
    def web_base(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def ops_base(self) -> str:
        """The operations listener (/healthz, /readyz, /metrics)."""
        return f"http://127.0.0.1:{self._listener_port('ops')}"

    @property
    def delivered(self) -> list[Received]:
        return self.upstream.messages

    def local_url(self, public: str) -> str:
        """A link built on `web.public_url` (a reverse proxy in production) -> our web port."""
        parts = urlsplit(public)
        assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL, public
        return f"{self.web_base}{parts.path}"

    async def send(
        self,
        recipients: str | Sequence[str],
        message: bytes | None = None,
        *,
        sender: str = SENDER,
        source_address: str | None = None,
    ) -> Transcript:
        """One transaction over a real socket; refusals are returned, not raised."""
        rcpts = [recipients] if isinstance(recipients, str) else list(recipients)
        if message is None:
            message = make_message(rcpts[0])
        client = aiosmtplib.SMTP(
            hostname="127.0.0.1",
            port=self.smtp_port,
            timeout=10,
            source_address=(source_address, 0) if source_address else None,
        )
        await client.connect()
        try:
            mail = await client.mail(sender)
            replies: dict[str, str] = {}
            for rcpt in rcpts:
                try:
                    response = await client.rcpt(rcpt)
                    replies[rcpt] = _reply(response.code, response.message)
                except aiosmtplib.SMTPRecipientRefused as exc:
                    replies[rcpt] = _reply(exc.code, exc.message)
            data: str | None = None
            if any(reply.startswith("250") for reply in replies.values()):
                try:
                    response = await client.data(message)
                    data = _reply(response.code, response.message)
                except aiosmtplib.SMTPDataError as exc:
                    data = _reply(exc.code, exc.message)
            else:
                await client.rset()
            return Transcript(_reply(mail.code, mail.message), replies, data)
        finally:
            await client.quit()

    async def get(self, path: str, *, ops: bool = False) -> tuple[int, str]:
        """GET on the public listener, or the operations one (`ops=True`)."""
        base = self.ops_base if ops else self.web_base
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{base}{path}") as response,
        ):
            return response.status, await response.text()

    async def post_form(self, url: str, form: dict[str, str]) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=form, allow_redirects=False) as response,
        ):
            return response.status, await response.text()

    async def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """GET /metrics, parsed: (sample name, sorted labels) -> value."""
        status, body = await self.get("/metrics", ops=True)
        assert status == 200
        samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    async def cli(self, *args: str) -> Result:
        """`prospect-relay ARGS --config <this relay's settings>` in a thread (it runs its own
        event loop, as from a shell)."""
        runner = CliRunner()
        return await asyncio.to_thread(
            runner.invoke, cli, [*args, "--config", str(self.config_file)], catch_exceptions=False
        )

    @asynccontextmanager
    async def database_down(self) -> AsyncIterator[None]:
        """The database becomes unreachable inside the block and comes back after it.

        PostgreSQL: the database refuses new connections and its sessions are terminated.
        SQLite: the database's directory goes away and the pools are emptied, so every new
        connection fails to open the file.
        """
        url = make_url(self.database_url)
        if url.get_backend_name() == "postgresql":
            name = url.database
            admin = await pg_admin(url.set(database="postgres").render_as_string(False))
            try:
                await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    name,
                )
                yield
            finally:
                await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
                await admin.close()
            return
        assert url.database is not None
        directory = Path(url.database).parent
        away = directory.with_name(directory.name + "-away")
        await self._dispose_pools()
        directory.rename(away)
        try:
            yield
        finally:
            await self._dispose_pools()
            away.rename(directory)

    async def _dispose_pools(self) -> None:
        # The relay's store component closes its pool on stop(); the engine stays usable.
        for component in self.app.components:
            if isinstance(component, StoreComponent):
                await component.stop()
        await self.engine.dispose()

    async def flush_audit(self) -> None:
        """Write the audit records the relay has buffered so far."""
        [trail] = [c for c in self.app.components if isinstance(c, AuditTrail)]
        await trail.flush()


FullRelayFactory = Callable[..., Awaitable[FullRelay]]


def _toml_config(settings: Settings, path: Path) -> None:
    """The CLI's settings file: same database, secret, policy and SMTP host name."""
    path.write_text(
        "[smtp]\n"
        f'hostname = "{settings.smtp.hostname}"\n'
        "[database]\n"
        f'url = "{settings.database.url}"\n'
        "[security]\n"
        f'secret_file = "{settings.security.secret_file}"\n'
        "[policy]\n"
        f'file = "{settings.policy.file}"\n',
        encoding="utf-8",
    )


@pytest.fixture
async def full_relay(
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    recording_upstream: RecordingUpstream,
    database_url: str,
) -> AsyncIterator[FullRelayFactory]:
    """`await full_relay(policy=..., today=..., **settings_sections)`: a started relay."""
    relays: list[FullRelay] = []
    migrated = False

    async def start(
        *,
        policy: str | None = None,
        today: date = TODAY,
        fetch_certificate: CertFetcher = fetch_sns_certificate,
        **overrides: Any,
    ) -> FullRelay:
        nonlocal migrated
        if not migrated:
            await upgrade(database_url)
            migrated = True
        policy_file = tmp_path / "policy.toml"
        policy_file.write_text(policy if policy is not None else policy_text(), encoding="utf-8")
        sections: dict[str, Any] = {
            "smtp": {"hostname": RELAY_HOSTNAME},
            "upstream": {"host": recording_upstream.host, "port": recording_upstream.port},
            "database": {"url": database_url},
            "web": {"public_url": PUBLIC_URL},
            "policy": {"file": str(policy_file)},
        }
        for section, values in overrides.items():
            sections[section] = {**sections.get(section, {}), **values}
        settings = make_settings(**sections)
        config_file = tmp_path / "relay.toml"
        _toml_config(settings, config_file)
        app = await build_relay(
            settings, metrics=Metrics(), today=lambda: today, fetch_certificate=fetch_certificate
        )
        await app.start()
        engine = create_engine(settings.database)
        store = Store(engine, load_or_create_secret(settings.security))
        relay = FullRelay(
            app, settings, store, recording_upstream, policy_file, config_file, database_url, engine
        )
        relays.append(relay)
        return relay

    yield start
    for relay in relays:
        await relay.app.stop(grace=1.0)
        await relay.engine.dispose()


def mailbox(messages: Sequence[Received], address: str) -> list[Received]:
    """The upstream deliveries that carry `address` as an envelope recipient."""
    return [m for m in messages if address in m.rcpt_tos]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_files(ca: trustme.CA, tmp_path: Path) -> dict[str, str]:
    """A certificate for the relay's STARTTLS: `make_settings(smtp={**tls_files, ...})`."""
    cert = ca.issue_cert("relay.test", "127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    return {"tls_cert": str(cert_file), "tls_key": str(key_file)}


@pytest.fixture
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium (Debian's), driven through Playwright."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
def log_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[LogCapture]:
    """The production logging setup (JSON lines) at DEBUG, plus a text-format handler."""
    with production_logging() as capture:
        yield capture
