"""The running relay: SMTP listener and components started in order, drained and stopped in
reverse; SIGTERM/SIGINT stop, SIGHUP reloads.

Nothing here builds a collaborator: `proxy.app` (the composition root) builds them all and
hands them over. The components are the long-lived parts with `async start()` / `async
stop()` (store pool, audit writer, webhook dispatcher, web listeners, gauges).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.descriptors import ensure_descriptors
from proxy.errors import StoreUnavailable
from proxy.forward import Forwarder
from proxy.metrics import Metrics
from proxy.settings import Settings
from proxy.smtp.server import RelaySMTP, SessionTracker
from proxy.store import Store
from proxy.web import WebServer

__all__ = [
    "Component",
    "RelayApp",
    "StoreComponent",
    "SuppressionGauge",
    "WebComponent",
]

log = logging.getLogger(__name__)


class Component(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class RelayApp:
    """The relay process: the SMTP listener, the forwarder and the components."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: Callable[[], RelaySMTP],
        tracker: SessionTracker,
        forwarder: Forwarder,
        metrics: Metrics,
        components: Sequence[Component] = (),
        reloaders: Sequence[Callable[[], Awaitable[None]]] = (),
        smtp_socket: socket.socket | None = None,
    ) -> None:
        self.settings = settings
        self._session = session  # one RelaySMTP per client connection
        self._tracker = tracker
        self._forwarder = forwarder
        self.metrics = metrics
        self.components = list(components)
        self._reloaders = list(reloaders)
        # A listening socket inherited from the supervisor (workers > 1), else bind smtp.host.
        self._smtp_socket = smtp_socket
        self._server: asyncio.Server | None = None

    @property
    def smtp_port(self) -> int:
        """The bound SMTP port (useful with port 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("RelayApp not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def in_flight(self) -> int:
        """Transactions between end of DATA and their reply (what a stop waits for)."""
        return self._tracker.in_flight

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
        loop = asyncio.get_running_loop()
        if self._smtp_socket is not None:
            self._server = await loop.create_server(self._session, sock=self._smtp_socket)
        else:
            self._server = await loop.create_server(
                self._session, host=settings.smtp.host, port=settings.smtp.port, reuse_address=True
            )
        log.info(
            "SMTP listening on %s:%d, delivering to %s",
            settings.smtp.host,
            self.smtp_port,
            self._forwarder.destination,
        )
        for component in self.components:
            await component.start()

    async def stop(self, grace: float | None = None) -> None:
        """Stop accepting, drain in-flight transactions (bounded), then stop components."""
        if grace is None:
            grace = self.settings.smtp.shutdown_grace
        if self._server is not None:
            self._server.close()
            await self._tracker.drain(grace)
            await self._server.wait_closed()
            self._server = None
        for component in reversed(self.components):
            try:
                await component.stop()
            except Exception:
                log.exception("component failed to stop")
        await self._forwarder.close()

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


class StoreComponent:
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
