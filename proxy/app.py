"""Composition root: builds every concrete object from `Settings`, starts and stops them.

Extension points for the parts built elsewhere:
- `compliance=`: the decision step (engine + store + mime) behind `service.Compliance`;
  without it the relay forwards unchanged (`PassThroughCompliance`).
- `components=`: anything with `async start()` / `async stop()` (web server, store engine,
  policy watcher). Started in order after SMTP is bound, stopped in reverse after SMTP drained.
- `add_reloader(callback)`: coroutines run on SIGHUP (`reload()`), e.g. policy reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.compliance import RegisterCompliance, Unsubscriber
from proxy.descriptors import ensure_descriptors
from proxy.errors import ConfigError, ConfigProblem, StoreUnavailable
from proxy.feedback.dispatch import ErasureNotifier, WebhookDispatcher, event_routes
from proxy.feedback.esp import CertFetcher
from proxy.feedback.mailboxes import FeedbackMailboxes
from proxy.feedback.providers import EspReceiver, fetch_sns_certificate
from proxy.feedback.recorder import FeedbackRecorder
from proxy.feedback.returnpath import ReturnPath
from proxy.forward import Forwarder, OutboxForwarder, SmtpForwarder
from proxy.logs import DecisionLog, use_address_masking
from proxy.metrics import Metrics
from proxy.mime.dkim import DkimSigner
from proxy.policy.holder import PolicyHolder
from proxy.rights.desk import RightsDesk
from proxy.secrets import load_or_create_secret
from proxy.service import Compliance, PassThroughCompliance, RelayService
from proxy.settings import EventLoop, Settings
from proxy.smtp.auth import Authenticator
from proxy.smtp.handler import RelayHandler
from proxy.smtp.server import RelaySMTP, SessionTracker
from proxy.smtp.tls import server_context
from proxy.store import Store
from proxy.store.audit_writer import AuditTrail
from proxy.store.database import create_engine
from proxy.store.migrate import schema_status
from proxy.store.rights import RightsRegister
from proxy.store.webhook_queue import WebhookQueue
from proxy.tokens import TokenSigner
from proxy.web import (
    ListenerLimits,
    ReadinessCheck,
    WebDeps,
    WebServer,
    build_ops_app,
    build_web_app,
)

__all__ = [
    "Component",
    "RelayApp",
    "SuppressionGauge",
    "WebComponent",
    "build_authenticator",
    "build_forwarder",
    "build_relay",
    "build_tls_context",
    "event_loop_factory",
    "require_current_schema",
]

log = logging.getLogger(__name__)


class Component(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def build_tls_context(settings: Settings) -> ssl.SSLContext | None:
    """Server-side context for STARTTLS, or None when no certificate is configured (the
    settings checked the files; ConfigError if they changed since)."""
    smtp = settings.smtp
    if smtp.tls_cert is None or smtp.tls_key is None:
        return None
    try:
        return server_context(smtp.tls_cert, smtp.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError([ConfigProblem(str(smtp.tls_cert), "smtp.tls_cert", str(exc))]) from None


def build_authenticator(settings: Settings) -> Authenticator:
    """The SMTP AUTH users (their hashes checked by the settings)."""
    return Authenticator(
        {name: hashed.get_secret_value() for name, hashed in settings.smtp.users.items()}
    )


class RelayApp:
    """The relay process: SMTP listener + forwarder + optional components."""

    def __init__(
        self,
        settings: Settings,
        *,
        compliance: Compliance | None = None,
        forwarder: Forwarder | None = None,
        metrics: Metrics | None = None,
        components: Sequence[Component] = (),
        smtp_socket: socket.socket | None = None,
    ) -> None:
        self.settings = settings
        # A listening socket inherited from the supervisor (workers > 1), else bind smtp.host.
        self._smtp_socket = smtp_socket
        self.metrics = metrics or Metrics()
        self.compliance: Compliance = compliance or PassThroughCompliance()
        self.components = list(components)
        self._forwarder = forwarder
        self._reloaders: list[Callable[[], Awaitable[None]]] = []
        self._server: asyncio.Server | None = None
        self._tracker: SessionTracker | None = None
        self.service: RelayService | None = None
        self._stopped = asyncio.Event()

    @property
    def forwarder(self) -> Forwarder:
        if self._forwarder is None:
            raise RuntimeError("RelayApp not started")
        return self._forwarder

    @property
    def smtp_port(self) -> int:
        """The bound SMTP port (useful with port 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("RelayApp not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def in_flight(self) -> int:
        return self._tracker.in_flight if self._tracker else 0

    def add_reloader(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._reloaders.append(callback)

    async def reload(self) -> None:
        """SIGHUP: run every reloader; one failing does not stop the others."""
        for callback in self._reloaders:
            try:
                await callback()
            except Exception:
                log.exception("reload step failed")

    async def start(self) -> None:
        settings = self.settings
        ensure_descriptors(settings)
        tls_context = build_tls_context(settings)
        authenticator = build_authenticator(settings)
        hash_key = load_or_create_secret(settings.security)
        if self._forwarder is None:
            self._forwarder = self._build_forwarder()
        decision_log = DecisionLog(settings.log, hash_key)
        use_address_masking(decision_log.address)  # addresses inside every log line's text
        self.service = RelayService(
            settings, self._forwarder, decision_log, self.metrics, self.compliance
        )
        handler = RelayHandler(self.service, self.metrics)
        tracker = SessionTracker(settings.smtp, self.metrics)
        self._tracker = tracker

        def factory() -> RelaySMTP:
            return RelaySMTP(
                handler,
                settings=settings.smtp,
                tracker=tracker,
                authenticator=authenticator,
                tls_context=tls_context,
            )

        loop = asyncio.get_running_loop()
        if self._smtp_socket is not None:
            self._server = await loop.create_server(factory, sock=self._smtp_socket)
        else:
            self._server = await loop.create_server(
                factory, host=settings.smtp.host, port=settings.smtp.port, reuse_address=True
            )
        log.info(
            "SMTP listening on %s:%d, delivering to %s",
            settings.smtp.host,
            self.smtp_port,
            self._forwarder.destination,
        )
        for component in self.components:
            await component.start()

    def _build_forwarder(self) -> Forwarder:
        return build_forwarder(self.settings, self.metrics)

    async def stop(self, grace: float | None = None) -> None:
        """Stop accepting, drain in-flight transactions (bounded), then stop components."""
        if grace is None:
            grace = self.settings.smtp.shutdown_grace
        if self._server is not None:
            self._server.close()
            if self._tracker is not None:
                await self._tracker.drain(grace)
            await self._server.wait_closed()
            self._server = None
        for component in reversed(self.components):
            try:
                await component.stop()
            except Exception:
                log.exception("component failed to stop")
        if self._forwarder is not None:
            await self._forwarder.close()
        self._stopped.set()

    async def serve_forever(self, started: Callable[[], None] | None = None) -> None:
        """Start, then run until SIGTERM/SIGINT (graceful stop); SIGHUP reloads.

        `started` is called once every listener is up (a worker tells its supervisor).
        """
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop_requested.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload()))
        await self.start()
        if started is not None:
            started()
        try:
            await stop_requested.wait()
            log.info("stopping: draining in-flight transactions")
        finally:
            await self.stop()
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(signum)


def event_loop_factory(choice: EventLoop) -> Callable[[], asyncio.AbstractEventLoop]:
    """The loop `serve` runs on: uvloop (libuv) when wanted and installed, else asyncio's.

    uvloop makes the socket work of every SMTP session cheaper (bench/relay_bench.py
    measures both); the relay behaves the same on either loop.
    """
    if choice is not EventLoop.ASYNCIO:
        try:
            import uvloop
        except ImportError:
            if choice is EventLoop.UVLOOP:
                raise ConfigError(
                    [ConfigProblem("settings", "runtime.event_loop", "uvloop is not installed")]
                ) from None
        else:
            return uvloop.new_event_loop
    return asyncio.new_event_loop


def build_forwarder(settings: Settings, metrics: Metrics) -> Forwarder:
    """The upstream connection pool, or the Maildir outbox when no upstream is configured."""
    if settings.upstream.host:
        return SmtpForwarder(
            settings.upstream, local_hostname=settings.smtp.hostname, metrics=metrics
        )
    return OutboxForwarder(settings.outbox.path, hostname=settings.smtp.hostname, metrics=metrics)


class _StoreComponent:
    """Closes the database pool after SMTP has drained."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self._engine.dispose()


class SuppressionGauge:
    """Keeps the suppression-list size metric true to the database.

    Entries also come from other instances and from the command line, which this process
    cannot count; a COUNT every `interval` seconds (off the event loop's critical path) is
    cheap next to that blind spot.
    """

    def __init__(self, store: Store, metrics: Metrics, interval: float = 30.0) -> None:
        self._store = store
        self._metrics = metrics
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        try:
            self._metrics.suppression_entries.set(await self._store.suppression_count())
        except StoreUnavailable as exc:
            log.warning("suppression count unavailable: %s", exc)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.refresh()

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._run(), name="suppression-gauge")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class WebComponent:
    """One web listener in the relay's event loop: `web` (unsubscribe pages, /healthz) or
    `ops` (/healthz, /readyz, /metrics)."""

    def __init__(
        self,
        server: WebServer,
        host: str,
        port: int,
        name: str = "web",
        sock: socket.socket | None = None,
    ) -> None:
        self._server = server
        self._host = host
        self._port = port
        self.name = name
        self._sock = sock
        self.port: int | None = None

    async def start(self) -> None:
        self.port = await self._server.start(self._host, self._port, sock=self._sock)
        log.info("%s listening on %s:%d", self.name, self._host, self.port)

    async def stop(self) -> None:
        await self._server.stop()


def _delivery_check(settings: Settings) -> Callable[[], Awaitable[None]]:
    """Readiness of the delivery path: upstream accepts TCP, or the outbox is writable."""
    upstream = settings.upstream
    if upstream.host:
        host, port = upstream.host, upstream.port

        async def upstream_reachable() -> None:
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            await writer.wait_closed()

        return upstream_reachable
    outbox = settings.outbox.path

    async def outbox_writable() -> None:
        def check() -> None:
            outbox.mkdir(parents=True, exist_ok=True)
            if not os.access(outbox, os.W_OK):
                raise PermissionError(str(outbox))

        await asyncio.to_thread(check)

    return outbox_writable


def build_feedback(
    settings: Settings,
    key: bytes,
    recorder: FeedbackRecorder,
    store: Store,
    tokens: TokenSigner,
) -> FeedbackMailboxes | None:
    """The return path and complaints mailboxes, when `[feedback] enabled`."""
    feedback = settings.feedback
    if not feedback.enabled:
        return None
    return FeedbackMailboxes(
        return_path=ReturnPath(
            key, feedback.bounce_local_part, feedback.bounce_domain or settings.smtp.hostname
        ),
        complaints_local_part=feedback.complaints_local_part,
        recorder=recorder,
        store=store,
        tokens=tokens,
        max_report_bytes=feedback.max_report_bytes,
    )


def _email_lookup(store: Store) -> Callable[[str], Awaitable[str | None]]:
    """The clear address for a webhook: only while the register still holds the contact."""

    async def lookup(address_hash: str) -> str | None:
        contact = await store.get_contact_by_hash(address_hash)
        return contact.email if contact is not None else None

    return lookup


async def require_current_schema(settings: Settings) -> None:
    """Refuse to serve on a database whose schema is behind this version (ConfigError)."""
    status = await schema_status(settings.database)
    if not status.is_current:
        raise ConfigError(
            [
                ConfigProblem(
                    "settings",
                    "database.url",
                    f"the database schema is at revision {status.current or '(empty)'}, "
                    f"this version needs {status.head}: run `prospect-relay db upgrade`",
                )
            ]
        )


async def build_relay(
    settings: Settings,
    *,
    metrics: Metrics | None = None,
    today: Callable[[], date] | None = None,
    listeners: Mapping[str, socket.socket] | None = None,
    fetch_certificate: CertFetcher = fetch_sns_certificate,
) -> RelayApp:
    """The production relay: store, policy, compliance, web, SMTP. Raises ConfigError.

    `listeners`: sockets already bound by the supervisor, by name ("smtp", "web", "ops").
    `fetch_certificate` fetches SNS signing certificates (only from SNS hosts); tests give
    one that serves a test certificate, as there is no network.
    """
    await require_current_schema(settings)
    listeners = listeners or {}
    metrics = metrics or Metrics()
    hash_key = load_or_create_secret(settings.security)
    policy = PolicyHolder(settings.policy.file)
    dkim = DkimSigner.from_settings(settings.dkim)
    engine = create_engine(settings.database)
    store = Store(
        engine,
        hash_key,
        timeout=settings.database.timeout,
        routes=event_routes(settings.webhooks),
    )
    token_keys = [
        hash_key,
        *(k.get_secret_value().encode() for k in settings.security.previous_token_keys),
    ]
    tokens = TokenSigner(token_keys, settings.security.token_max_age_days)
    unsubscriber = Unsubscriber(store, metrics)
    audit_trail = AuditTrail(store)
    recorder = FeedbackRecorder(store, policy, metrics)
    feedback = build_feedback(settings, hash_key, recorder, store, tokens)
    esp = EspReceiver(settings.feedback, recorder, store, fetch_certificate=fetch_certificate)
    compliance = RegisterCompliance(
        settings=settings,
        store=store,
        policy=policy,
        tokens=tokens,
        unsubscriber=unsubscriber,
        audit_trail=audit_trail,
        marker_key=hash_key,
        dkim=dkim,
        feedback=feedback,
        **({"today": today} if today is not None else {}),
    )
    # Stopped in reverse: the audit trail's last batch is written before the pool closes.
    components: list[Component] = [
        _StoreComponent(engine),
        audit_trail,
        SuppressionGauge(store, metrics),
        WebhookDispatcher(settings.webhooks, WebhookQueue(engine), metrics, _email_lookup(store)),
    ]
    if settings.web.enabled:

        async def policy_loaded() -> None:
            if policy.current is None:
                raise RuntimeError("no policy")

        rights = RightsDesk(
            register=RightsRegister(engine, timeout=settings.database.timeout),
            store=store,
            policy=lambda: policy.current,
            forwarder=lambda: app.forwarder,  # built when the app starts
            from_address=settings.unsubscribe.rights_from
            or f"privacy@{settings.unsubscribe.mailto_domain or settings.smtp.hostname}",
            hostname=settings.smtp.hostname,
            audit_retention_days=settings.audit.retention_days,
            notifier=ErasureNotifier(event_routes(settings.webhooks)),
        )
        deps = WebDeps(
            tokens=tokens,
            unsubscriber=unsubscriber,
            policy=lambda: policy.current,
            readiness=(
                ReadinessCheck("database", store.ping),
                ReadinessCheck("policy", policy_loaded),
                ReadinessCheck("delivery", _delivery_check(settings)),
            ),
            render_metrics=metrics.render,
            public_url=settings.web.public_url,
            rate_limit_per_minute=settings.web.rate_limit_per_minute,
            trusted_proxies=settings.web.trusted_proxies,
            rights=rights,
            body_timeout=settings.web.body_timeout,
            esp=esp if esp.providers else None,
        )
        limits = ListenerLimits(
            max_connections=settings.web.max_connections,
            header_timeout=settings.web.header_timeout,
            max_requests_per_connection=settings.web.max_requests_per_connection,
        )
        components.append(
            WebComponent(
                WebServer(build_web_app(deps), limits=limits),
                settings.web.host,
                settings.web.port,
                sock=listeners.get("web"),
            )
        )
        components.append(
            WebComponent(
                WebServer(build_ops_app(deps), limits=limits),
                settings.web.ops_host,
                settings.web.ops_port,
                name="ops",
                sock=listeners.get("ops"),
            )
        )
    app = RelayApp(
        settings,
        compliance=compliance,
        metrics=metrics,
        components=components,
        smtp_socket=listeners.get("smtp"),
    )

    async def reload_policy() -> None:
        ok = policy.reload()
        metrics.policy_reloads_total.labels("ok" if ok else "failed").inc()

    app.add_reloader(reload_policy)
    return app
