"""Throughput of prospect-relay against a bare aiosmtpd->aiosmtplib relay, in one run.

Processes: an aiosmtpd discard sink, the relays under test (the bare baseline; prospect-relay
with compliance off ("core"); prospect-relay with the full policy ("full": register lookups,
engine, per-recipient footer rewriting, List-Unsubscribe, audit records, decision log), all
forwarding to the sink over pooled connections) and this process as the load generator
(C concurrent aiosmtplib clients, each on one connection). Prints messages/s for each relay,
the ratios to the baseline, and the p99 latency per message of the baseline and of the full
relay. Compare ratios from the same run only.

    python bench/relay_bench.py --messages 1000 --concurrency 1,10,50 --sizes 4096,102400
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import SMTP

POOL_SIZE = 4
# A French company's generic address: lawful without consent (RULES.md S12), so the full
# policy takes its most expensive path: lookups, engine, footer rewrite, audit record.
RECIPIENT = "contact@acme-industrie.fr"


class _Discard:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


async def _serve_sink(conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(_Discard(), hostname="sink.bench", data_size_limit=None), "127.0.0.1", 0
    )
    conn.send(server.sockets[0].getsockname()[1])
    await loop.run_in_executor(None, conn.recv)  # until told to stop


class _BareRelay:
    """The baseline: forward in handle_DATA over a small pool, 250 after the upstream's 250."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.pool: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        self.size = 0

    async def _client(self) -> aiosmtplib.SMTP:
        if self.pool.empty() and self.size < POOL_SIZE:
            self.size += 1
            client = aiosmtplib.SMTP(
                hostname="127.0.0.1", port=self.port, local_hostname="bare.bench", start_tls=False
            )
            await client.connect()
            return client
        return await self.pool.get()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        client = await self._client()
        try:
            await client.sendmail(envelope.mail_from, envelope.rcpt_tos, envelope.content)
        except aiosmtplib.SMTPException as exc:
            client.close()
            self.size -= 1
            return f"451 4.4.1 {type(exc).__name__}"
        self.pool.put_nowait(client)
        return "250 OK"


async def _serve_bare(sink_port: int, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    handler = _BareRelay(sink_port)
    server = await loop.create_server(lambda: SMTP(handler, hostname="bare.bench"), "127.0.0.1", 0)
    conn.send(server.sockets[0].getsockname()[1])
    await loop.run_in_executor(None, conn.recv)


async def _serve_prospect(sink_port: int, conn: Connection, workdir: str) -> None:
    from proxy.app import RelayApp
    from proxy.audit import configure_logging
    from proxy.settings import Settings

    settings = Settings(
        smtp={"host": "127.0.0.1", "port": 0, "hostname": "relay.bench"},  # type: ignore[arg-type]
        upstream={"host": "127.0.0.1", "port": sink_port, "pool_size": POOL_SIZE},  # type: ignore[arg-type]
        security={"secret_file": os.path.join(workdir, "secret.key")},  # type: ignore[arg-type]
        log={"format": "json", "file": os.path.join(workdir, "relay.log")},  # type: ignore[arg-type]
    )
    configure_logging(settings.log)  # the decision log is written, as in production
    app = RelayApp(settings)
    await app.start()
    conn.send(app.smtp_port)
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    await app.stop(grace=5)


async def _serve_full(sink_port: int, conn: Connection, workdir: str) -> None:
    from proxy.app import build_relay
    from proxy.audit import configure_logging
    from proxy.settings import Settings
    from proxy.store.migrate import upgrade

    policy = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "config", "policy.toml")
    settings = Settings(
        smtp={"host": "127.0.0.1", "port": 0, "hostname": "relay.bench"},  # type: ignore[arg-type]
        upstream={"host": "127.0.0.1", "port": sink_port, "pool_size": POOL_SIZE},  # type: ignore[arg-type]
        security={"secret_file": os.path.join(workdir, "secret.key")},  # type: ignore[arg-type]
        log={"format": "json", "file": os.path.join(workdir, "full.log")},  # type: ignore[arg-type]
        database={"url": f"sqlite+aiosqlite:///{workdir}/bench.db"},  # type: ignore[arg-type]
        policy={"file": policy},  # type: ignore[arg-type]
        web={"port": 0},  # type: ignore[arg-type]
    )
    configure_logging(settings.log)
    await upgrade(settings.database)
    app = await build_relay(settings)
    await app.start()
    conn.send(app.smtp_port)
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    await app.stop(grace=5)


def _process_main(kind: str, sink_port: int, conn: Connection, workdir: str, loop: str) -> None:
    if kind == "sink":
        asyncio.run(_serve_sink(conn))
    elif kind == "bare":
        asyncio.run(_serve_bare(sink_port, conn))
    else:  # prospect-relay on the loop `serve` would pick (runtime.event_loop)
        from proxy.app import event_loop_factory
        from proxy.settings import EventLoop

        serve = _serve_full if kind == "full" else _serve_prospect
        with asyncio.Runner(loop_factory=event_loop_factory(EventLoop(loop))) as runner:
            runner.run(serve(sink_port, conn, workdir))


def _start(
    kind: str, sink_port: int, workdir: str, loop: str = "auto"
) -> tuple[mp.Process, Connection, int]:
    parent, child = mp.Pipe()
    process = mp.Process(
        target=_process_main, args=(kind, sink_port, child, workdir, loop), daemon=True
    )
    process.start()
    if not parent.poll(30):
        raise RuntimeError(f"{kind} did not start")
    return process, parent, int(parent.recv())


def _stop(process: mp.Process, conn: Connection) -> None:
    conn.send("stop")
    process.join(10)
    if process.is_alive():
        process.terminate()


def _make_message(size: int) -> bytes:
    header = (
        b"From: Sender <news@example.com>\r\nTo: <contact@acme-industrie.fr>\r\n"
        b"Subject: benchmark\r\nMessage-ID: <bench@example.com>\r\n"
        b"X-Prospect-Source: trade fair Lyon 2025\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    )
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tem.\r\n"
    body = line * max(1, (size - len(header)) // len(line))
    return header + body


async def _load(port: int, total: int, concurrency: int, message: bytes) -> tuple[float, float]:
    """Send `total` messages over `concurrency` connections: (messages/s, p99 latency s)."""
    latencies: list[float] = []

    async def worker(count: int) -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="load.bench")
        await client.connect()
        for _ in range(count):
            sent = time.perf_counter()
            await client.sendmail("news@example.com", [RECIPIENT], message)
            latencies.append(time.perf_counter() - sent)
        await client.quit()

    shares = [
        total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)
    ]
    await worker(min(20, total))  # warm-up: pools filled, code paths hot
    latencies.clear()
    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in shares if n))
    rate = total / (time.perf_counter() - started)
    return rate, statistics.quantiles(latencies, n=100)[98]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000, help="messages per measurement")
    parser.add_argument("--concurrency", default="1,10,50", help="comma-separated C values")
    parser.add_argument("--sizes", default="4096,102400", help="comma-separated sizes in bytes")
    parser.add_argument(
        "--loop",
        default="auto",
        choices=["auto", "asyncio", "uvloop"],
        help="prospect-relay's event loop (runtime.event_loop); the bare baseline uses asyncio",
    )
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as workdir:
        sink, sink_conn, sink_port = _start("sink", 0, workdir)
        bare, bare_conn, bare_port = _start("bare", sink_port, workdir)
        relay, relay_conn, relay_port = _start("prospect", sink_port, workdir, args.loop)
        full, full_conn, full_port = _start("full", sink_port, workdir, args.loop)
        print(f"bare relay: asyncio loop; prospect-relay: runtime.event_loop = {args.loop}")
        try:
            print(
                f"{'size':>7} {'C':>3} {'bare msg/s':>11} {'core msg/s':>11} {'full msg/s':>11}"
                f" {'core/bare':>10} {'full/bare':>10} {'p99 bare':>9} {'p99 full':>9}"
                f" {'p99 added':>10}"
            )
            for size in sizes:
                message = _make_message(size)
                for concurrency in concurrencies:
                    base, base_p99 = asyncio.run(
                        _load(bare_port, args.messages, concurrency, message)
                    )
                    core, _ = asyncio.run(_load(relay_port, args.messages, concurrency, message))
                    fully, full_p99 = asyncio.run(
                        _load(full_port, args.messages, concurrency, message)
                    )
                    print(
                        f"{size // 1024:>5}KB {concurrency:>3} {base:>11.0f} {core:>11.0f}"
                        f" {fully:>11.0f} {core / base:>10.2f} {fully / base:>10.2f}"
                        f" {base_p99 * 1000:>7.1f}ms {full_p99 * 1000:>7.1f}ms"
                        f" {(full_p99 - base_p99) * 1000:>8.1f}ms",
                        flush=True,
                    )
        finally:
            _stop(full, full_conn)
            _stop(relay, relay_conn)
            _stop(bare, bare_conn)
            _stop(sink, sink_conn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
