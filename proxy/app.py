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
import logging
import signal
import ssl
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from proxy.audit import DecisionLog
from proxy.errors import ConfigError, ConfigProblem
from proxy.forward import Forwarder, OutboxForwarder, SmtpForwarder
from proxy.metrics import Metrics
from proxy.secrets import load_or_create_secret
from proxy.service import Compliance, PassThroughCompliance, RelayService
from proxy.settings import Settings
from proxy.smtp.auth import Authenticator
from proxy.smtp.handler import RelayHandler
from proxy.smtp.server import RelaySMTP, SessionTracker

__all__ = ["Component", "RelayApp", "build_authenticator", "build_tls_context"]

log = logging.getLogger(__name__)


class Component(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def build_tls_context(settings: Settings) -> ssl.SSLContext | None:
    """Server-side context for STARTTLS, or None when no certificate is configured."""
    smtp = settings.smtp
    if smtp.tls_cert is None or smtp.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(smtp.tls_cert, smtp.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError([ConfigProblem(str(smtp.tls_cert), "smtp.tls_cert", str(exc))]) from None
    return context


def build_authenticator(settings: Settings) -> Authenticator:
    problems = []
    users: dict[str, str] = {}
    for name, secret in settings.smtp.users.items():
        users[name] = secret.get_secret_value()
    try:
        return Authenticator(users)
    except ValueError as exc:
        problems.append(ConfigProblem("settings", "smtp.users", str(exc)))
        raise ConfigError(problems) from None


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
    ) -> None:
        self.settings = settings
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
        tls_context = build_tls_context(settings)
        authenticator = build_authenticator(settings)
        hash_key = load_or_create_secret(settings.security)
        if self._forwarder is None:
            self._forwarder = self._build_forwarder()
        decision_log = DecisionLog(settings.log, hash_key)
        self.service = RelayService(
            settings, self._forwarder, decision_log, self.metrics, self.compliance
        )
        handler = RelayHandler(self.service, self.metrics)
        tracker = SessionTracker(settings.smtp.max_connections, self.metrics)
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
        settings = self.settings
        if settings.upstream.host:
            return SmtpForwarder(
                settings.upstream, local_hostname=settings.smtp.hostname, metrics=self.metrics
            )
        return OutboxForwarder(
            settings.outbox.path, hostname=settings.smtp.hostname, metrics=self.metrics
        )

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

    async def serve_forever(self) -> None:
        """Start, then run until SIGTERM/SIGINT (graceful stop); SIGHUP reloads."""
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop_requested.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload()))
        await self.start()
        try:
            await stop_requested.wait()
            log.info("stopping: draining in-flight transactions")
        finally:
            await self.stop()
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(signum)

    def run(self) -> int:
        """Blocking entry point for the CLI; returns the process exit code."""
        asyncio.run(self.serve_forever())
        return 0
