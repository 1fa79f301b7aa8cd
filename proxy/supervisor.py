"""Several worker processes on one port (`[runtime] workers`): the supervisor.

One Python process saturates one core at a few hundred messages per second; Postfix spreads
the same work over several processes, and so does the relay once `workers` > 1.

Shape, a pre-forked accept loop: the supervisor binds every listener once (SMTP, web), then
starts N `serve` workers as fresh interpreters that inherit the listening sockets (no fork of
a process that already runs threads). The kernel hands each new connection to a worker that
is waiting in accept, so a busy worker takes fewer. A worker that dies loses no queued
connection (the socket stays open in the supervisor and the other workers) and is started
again. SIGTERM/SIGINT are forwarded and every worker drains its transactions; the supervisor
exits 0 when all did. SIGHUP is forwarded: every worker reloads its policy. No worker
outlives the supervisor: each watches a pipe only the supervisor holds open and drains as on
SIGTERM when it closes, so even a `kill -9` of the supervisor frees the ports. Metrics use
prometheus_client's multiprocess mode in a private directory, so /metrics answered by any
worker counts the messages of all of them (proxy/metrics.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from prometheus_client import multiprocess

from proxy.metrics import MULTIPROCESS_DIR_ENV
from proxy.settings import Settings

__all__ = [
    "Supervisor",
    "bind_listeners",
    "inherited_listeners",
    "listener_addresses",
    "notify_ready",
    "watch_lifeline",
    "worker_command",
]

log = logging.getLogger(__name__)

_READY = b"R"
_MAX_RESTART_DELAY = 30.0


def listener_addresses(settings: Settings) -> dict[str, tuple[str, int]]:
    """Every TCP listener a worker serves, by name: what the supervisor binds for them."""
    addresses = {"smtp": (settings.smtp.host, settings.smtp.port)}
    if settings.web.enabled:
        addresses["web"] = (settings.web.host, settings.web.port)
        addresses["ops"] = (settings.web.ops_host, settings.web.ops_port)
    return addresses


def bind_listeners(addresses: Mapping[str, tuple[str, int]]) -> dict[str, socket.socket]:
    """Bind each address once (first address the host resolves to); port 0 picks one."""
    bound: dict[str, socket.socket] = {}
    try:
        for name, (host, port) in addresses.items():
            family = socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )[0][0]
            bound[name] = socket.create_server(
                (host, port), family=family, backlog=socket.SOMAXCONN
            )
    except OSError:
        for sock in bound.values():
            sock.close()
        raise
    return bound


def inherited_listeners(spec: str) -> dict[str, socket.socket]:
    """The sockets a worker got from its supervisor: `smtp=3,web=4` -> name: socket."""
    listeners: dict[str, socket.socket] = {}
    for item in filter(None, spec.split(",")):
        name, _, fd = item.partition("=")
        listeners[name] = socket.socket(fileno=int(fd))
    return listeners


def notify_ready(fd: int) -> None:
    """Tell the supervisor this worker listens (it waits for it before starting the next)."""
    with contextlib.suppress(OSError):
        os.write(fd, _READY)
    os.close(fd)


def watch_lifeline(fd: int) -> None:
    """In a worker: SIGTERM ourselves (a graceful drain) once the supervisor is gone.

    The pipe's write end lives only in the supervisor, so the read end turns readable (end
    of file) exactly when the supervisor exited, however it died.
    """
    loop = asyncio.get_running_loop()

    def orphaned() -> None:
        loop.remove_reader(fd)
        log.warning("the supervisor is gone: stopping")
        os.kill(os.getpid(), signal.SIGTERM)

    loop.add_reader(fd, orphaned)


def worker_command(config_file: Path | None) -> list[str]:
    """`serve` as a worker, with the same configuration file (and the inherited env)."""
    command = [sys.executable, "-m", "proxy", "serve"]
    if config_file is not None:
        command += ["--config", str(config_file)]
    return command


class Supervisor:
    """Starts `count` workers on shared listeners and keeps them running until SIGTERM."""

    def __init__(
        self, count: int, command: Sequence[str], listeners: Mapping[str, socket.socket]
    ) -> None:
        self._count = count
        self._command = list(command)
        self._listeners = dict(listeners)
        self._workers: dict[int, asyncio.subprocess.Process] = {}
        self._serving: set[int] = set()  # pids that said they listen (signal handlers set)
        # pids that were starting when a SIGHUP came: they may have read the policy before the
        # change, so they get the SIGHUP once they listen.
        self._reload_when_ready: set[int] = set()
        self._stopping = asyncio.Event()
        self._metrics_dir = Path(tempfile.mkdtemp(prefix="prospect-relay-metrics-"))
        self._lifeline_read, self._lifeline_write = os.pipe()

    async def run(self) -> int:
        """The process exit code: 0 when every worker drained and stopped cleanly."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self._forward, signal.SIGHUP)
        try:
            return await self._supervise()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(signum)
            for sock in self._listeners.values():
                sock.close()
            shutil.rmtree(self._metrics_dir, ignore_errors=True)
            os.close(self._lifeline_read)
            os.close(self._lifeline_write)

    async def _supervise(self) -> int:
        started = await asyncio.gather(*(self._start(slot) for slot in range(self._count)))
        failed = next((code for code in started if code is not None), None)
        if failed is not None:  # a configuration problem: restarting would not help
            log.error("a worker could not start (exit code %s); stopping", failed)
            await self._stop_all()
            return failed if failed > 0 else 1
        pids = sorted(process.pid for process in self._workers.values())
        log.info("%d workers serving (pids %s)", self._count, pids)
        slots = [asyncio.create_task(self._keep(slot)) for slot in range(self._count)]
        await self._stopping.wait()
        log.info("stopping: forwarding SIGTERM to %d workers", len(self._workers))
        codes = await self._stop_all(slots)
        return 0 if all(code in (0, -signal.SIGTERM) for code in codes) else 1

    async def _start(self, slot: int) -> int | None:
        """Start the worker of `slot`; None once it listens, else its exit code."""
        read_end, write_end = os.pipe()
        fds = {name: sock.fileno() for name, sock in self._listeners.items()}
        argv = [
            *self._command,
            "--listen-fds",
            ",".join(f"{name}={fd}" for name, fd in fds.items()),
            "--ready-fd",
            str(write_end),
            "--lifeline-fd",
            str(self._lifeline_read),
        ]
        env = {**os.environ, MULTIPROCESS_DIR_ENV: str(self._metrics_dir)}
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, pass_fds=(*fds.values(), write_end, self._lifeline_read), env=env
            )
        finally:
            os.close(write_end)
        self._workers[slot] = process
        ready = await asyncio.to_thread(_read_and_close, read_end)
        if ready == _READY:
            self._serving.add(process.pid)
            if self._stopping.is_set():  # SIGTERM arrived while it was starting
                process.send_signal(signal.SIGTERM)
            elif process.pid in self._reload_when_ready:
                self._reload_when_ready.discard(process.pid)
                process.send_signal(signal.SIGHUP)
            return None
        return await process.wait()

    async def _keep(self, slot: int) -> int:
        """Wait for the worker of `slot`; start a new one if it dies before SIGTERM."""
        delay = 0.5
        while True:
            process = self._workers[slot]
            code = await process.wait()
            if self._stopping.is_set():
                return code
            multiprocess.mark_process_dead(process.pid, str(self._metrics_dir))  # type: ignore[no-untyped-call]
            log.warning(
                "worker pid %d exited with %s; starting another in %.1f s", process.pid, code, delay
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return 0
            failed = await self._start(slot)
            delay = 0.5 if failed is None else min(delay * 2, _MAX_RESTART_DELAY)

    async def _stop_all(self, slots: Sequence[asyncio.Task[int]] = ()) -> list[int]:
        """Stop accepting here, SIGTERM every worker, wait until each has drained."""
        self._stopping.set()
        for sock in self._listeners.values():
            sock.close()  # the workers' copies keep accepting until each one stops
        self._forward(signal.SIGTERM)
        if slots:
            return list(await asyncio.gather(*slots))
        return [await process.wait() for process in self._workers.values()]

    def _forward(self, signum: int) -> None:
        for process in self._workers.values():
            if signum == signal.SIGHUP and process.pid not in self._serving:
                # Still starting: SIGHUP would kill it (no handler yet), and it may have read
                # the policy before the change: it gets the SIGHUP once it listens.
                self._reload_when_ready.add(process.pid)
                continue
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signum)


def _read_and_close(fd: int) -> bytes:
    try:
        return os.read(fd, 1)
    finally:
        os.close(fd)
