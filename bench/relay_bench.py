"""prospect-relay against a bare Python relay and Postfix as a relay, side by side in one run.

Every target forwards to the same Postfix `smtp-sink`; the load is Postfix's `smtp-source`
(a new connection per message, HELO, one recipient) sending a real MIME message of about
4 KB (multipart/alternative, quoted-printable text and HTML) or 100 KB (the same plus a base64
PDF). A message counts when the sink has it. Targets:

- bare: aiosmtpd -> aiosmtplib, pooled upstream connections, uvloop: a relay doing no
  compliance work at all (the shape of ours);
- core-1, core-N: prospect-relay with compliance off (`build_core` around `PassThroughCompliance`),
  one worker and N workers (`[runtime] workers = auto`: one per CPU);
- full-1, full-N: `prospect-relay serve` with the shipped policy, a migrated SQLite register,
  footer rewriting, List-Unsubscribe, audit records and the decision log;
- postfix: a private Postfix instance (tests/postfix.py, as in the Postfix chain test) with
  `relayhost` = the sink and `in_flow_delay = 0`. Needs root; skipped otherwise.

Per size and number of sessions it prints messages/s, the ratios the issue asks for (full vs
bare, full vs Postfix) and CPU milliseconds per message (the whole process tree of the
target: supervisor, workers, Postfix's daemons). Then, per size, latency p50/p99 of an
open-loop load at half full-1's highest rate (the same rate for every target), and the p99
full-1 adds over bare. Absolute figures drift between runs on a shared machine; compare
ratios from the same run. Everything binds 127.0.0.1; every loop is bounded.

    python bench/relay_bench.py --messages 600 --sessions 1,10,50 --sizes 4096,102400
    python bench/relay_bench.py --targets "" --no-postfix --sessions 10   # bare vs full-1 only
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Any

import aiosmtplib

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.ports import free_port  # noqa: E402
from tests.postfix import POSTFIX, main_cf, new_root, prepare  # noqa: E402

SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
POOL_SIZE = 4
SENDER = "news@example.com"
# A French company's generic address: lawful without consent (RULES.md S12), so the full
# policy takes its most expensive path: lookups, engine, footer rewrite, audit record.
RECIPIENT = "contact@acme-industrie.fr"
START_TIMEOUT = 60.0


def make_message(size: int) -> bytes:
    """A real campaign message of about `size` bytes: multipart/alternative (quoted-printable
    text and HTML, French accents) and, when there is room, a base64 PDF attachment."""
    paragraph = (
        "Découvrez nos presses hydrauliques de décembre : 15 % de remise jusqu'au 31/12, "
        "livraison offerte en France métropolitaine. Répondez à ce message pour un devis.\n"
    )

    def build(paragraphs: int, attachment: int) -> bytes:
        message = EmailMessage(policy=SMTP_POLICY)
        message["From"] = f"Acme Ventes <{SENDER}>"
        message["To"] = f"<{RECIPIENT}>"
        message["Subject"] = "Nouveautés de décembre"
        message["Date"] = "Tue, 01 Dec 2026 09:00:00 +0000"
        message["Message-ID"] = "<bench.0001@example.com>"
        message["X-Prospect-Source"] = "salon Industrie Lyon 2025"
        text = "Bonjour,\n\n" + paragraph * paragraphs
        html = (
            "<html><body><p>Bonjour,</p>"
            + "".join(f"<p>{paragraph.strip()}</p>" for _ in range(paragraphs))
            + "</body></html>"
        )
        message.set_content(text, cte="quoted-printable")
        message.add_alternative(html, subtype="html", cte="quoted-printable")
        if attachment:
            blob = random.Random(size).randbytes(attachment)
            message.add_attachment(
                blob, maintype="application", subtype="pdf", filename="catalogue.pdf"
            )
        return message.as_bytes()

    if size < 16384:
        one, two = len(build(1, 0)), len(build(2, 0))
        return build(max(1, 1 + (size - one) // (two - one)), 0)
    text_only = len(build(8, 0))
    return build(8, max(0, (size - text_only) * 3 // 4 - 300))


# ---------------------------------------------------------------- processes under test


def tree_cpu(pid: int) -> float:
    """CPU seconds of `pid` and every descendant, live or reaped (cutime/cstime)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(v) for v in fields[11:15]) / tick
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += times.get(current, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == current)
    return total


@dataclass
class Target:
    name: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    cpu_root: int = 0
    rates: dict[tuple[int, int], list[float]] = field(default_factory=dict)
    cpu: dict[tuple[int, int], list[float]] = field(default_factory=dict)
    latency: dict[int, tuple[float, float]] = field(default_factory=dict)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_for_banner(port: int, process: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process on port {port} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
            if s.recv(3) == b"220":
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


def _wait_for_log(path: Path, pattern: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if path.exists() and re.search(pattern, path.read_text()):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{pattern!r} not in {path}")


def start_python_target(name: str, kind: str, workers: int, sink_port: int, work: Path) -> Target:
    """bare or core: this script in --serve mode (core with N workers under the supervisor)."""
    target = Target(name, free_port())
    target.process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            kind,
            "--workers",
            str(workers),
            "--port",
            str(target.port),
            "--upstream-port",
            str(sink_port),
            "--workdir",
            str(work / name),
        ],
        cwd=REPO,
    )
    target.cpu_root = target.process.pid
    _wait_for_banner(target.port, target.process)
    if workers > 1:
        _wait_for_log(work / name / "relay.log", r"\d+ workers serving")
    return target


def start_full(name: str, workers: str, sink_port: int, work: Path) -> Target:
    """`prospect-relay serve` itself, the full policy, on a migrated SQLite register."""
    target = Target(name, free_port())
    home = work / name
    home.mkdir(parents=True)
    config = home / "relay.toml"
    config.write_text(
        f"""
[smtp]
host = "127.0.0.1"
port = {target.port}
hostname = "relay.bench"
max_connections = 500
[upstream]
host = "127.0.0.1"
port = {sink_port}
pool_size = {POOL_SIZE}
[database]
url = "sqlite+aiosqlite:///{home / "register.db"}"
[web]
port = 0
ops_port = 0
[security]
secret_file = "{home / "secret.key"}"
[policy]
file = "{REPO / "config" / "policy.toml"}"
[log]
format = "json"
file = "{home / "relay.log"}"
[runtime]
workers = {workers if workers == "auto" else int(workers)}
""".replace("workers = auto", 'workers = "auto"')
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROSPECT_RELAY_")}
    cli = [sys.executable, "-m", "proxy"]
    subprocess.run([*cli, "db", "upgrade", "--config", str(config)], check=True, env=env, cwd=REPO)
    target.process = subprocess.Popen([*cli, "serve", "--config", str(config)], env=env, cwd=REPO)
    target.cpu_root = target.process.pid
    _wait_for_banner(target.port, target.process)
    if workers != "1":
        _wait_for_log(home / "relay.log", r"\d+ workers serving")
    return target


def start_postfix(sink_port: int) -> tuple[Target, Path] | None:
    if os.geteuid() != 0 or not Path(POSTFIX).exists():
        print("postfix: skipped (needs root and Debian's postfix package)")
        return None
    root = new_root("prospect-relay-bench-postfix-")
    target = Target("postfix", free_port())
    config = main_cf(root, "postfix.bench", relayhost=f"[127.0.0.1]:{sink_port}", in_flow_delay="0")
    conf = prepare(root, target.port, config)
    for command in ("check", "start"):
        subprocess.run([POSTFIX, "-c", str(conf), command], check=True, capture_output=True)
    pid_file = root / "queue" / "pid" / "master.pid"
    _wait_for_banner(target.port, None)
    target.cpu_root = int(pid_file.read_text().split()[0])
    return target, root


def stop_postfix(root: Path) -> None:
    subprocess.run([POSTFIX, "-c", str(root / "conf"), "stop"], capture_output=True)
    time.sleep(1)
    shutil.rmtree(root, ignore_errors=True)


class Sink:
    """One `smtp-sink` for every target; its running counter (-c) says how many arrived."""

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self._out = work / "sink.out"
        self._handle = self._out.open("wb")
        self.process = subprocess.Popen(
            [SMTP_SINK, "-c", "-u", "nobody", f"127.0.0.1:{self.port}", "1000"],
            stdout=self._handle,
            stderr=subprocess.STDOUT,
        )
        _wait_for_banner(self.port, self.process)

    def count(self) -> int:
        with self._out.open("rb") as handle:
            handle.seek(max(0, self._out.stat().st_size - 200))
            found = re.findall(rb"mesg=(\d+)", handle.read())
        return int(found[-1]) if found else 0

    def wait_for(self, total: int, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < total:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the sink has {self.count()} messages, expected {total}")
            time.sleep(0.005)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()
        self._handle.close()


# ---------------------------------------------------------------- load


def throughput(
    target: Target, sink: Sink, message_file: Path, sessions: int, messages: int
) -> tuple[float, float]:
    """smtp-source against `target`: (messages/s until the sink has them all, CPU ms/msg)."""
    before = sink.count()
    cpu_before = tree_cpu(target.cpu_root)
    started = time.perf_counter()
    subprocess.run(
        [
            SMTP_SOURCE,
            "-s",
            str(sessions),
            "-m",
            str(messages),
            "-F",
            str(message_file),
            "-f",
            SENDER,
            "-t",
            RECIPIENT,
            "-M",
            "load.bench",
            f"127.0.0.1:{target.port}",
        ],
        check=True,
        timeout=600,
    )
    sink.wait_for(before + messages)
    elapsed = time.perf_counter() - started
    cpu = tree_cpu(target.cpu_root) - cpu_before
    return messages / elapsed, cpu / messages * 1000


async def _open_loop(port: int, message: bytes, rate: float, count: int) -> list[float]:
    """`count` messages at `rate`/s on new connections, whatever the answers' pace."""
    latencies: list[float] = []

    async def one() -> None:
        started = time.perf_counter()
        client = aiosmtplib.SMTP(
            hostname="127.0.0.1", port=port, local_hostname="probe.bench", start_tls=False
        )
        await client.connect()
        await client.sendmail(SENDER, [RECIPIENT], message)
        latencies.append(time.perf_counter() - started)
        await client.quit()

    tasks = []
    began = time.perf_counter()
    for n in range(count):
        delay = began + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    return latencies


def latency(target: Target, message: bytes, rate: float, count: int) -> tuple[float, float]:
    values = asyncio.run(_open_loop(target.port, message, rate, count))
    cuts = statistics.quantiles(values, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


# ---------------------------------------------------------------- targets' own processes


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


async def _serve_bare(port: int, upstream_port: int) -> None:
    from aiosmtpd.smtp import SMTP

    loop = asyncio.get_running_loop()
    handler = _BareRelay(upstream_port)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="bare.bench"), "127.0.0.1", port
    )
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()


async def _serve_core(args: argparse.Namespace) -> int:
    """prospect-relay with compliance off: one worker, or the supervisor of N."""
    from proxy.app import build_core
    from proxy.logs import configure_logging
    from proxy.metrics import Metrics
    from proxy.secrets import load_or_create_secret
    from proxy.service import PassThroughCompliance
    from proxy.settings import Settings
    from proxy.supervisor import (
        Supervisor,
        bind_listeners,
        inherited_listeners,
        notify_ready,
        watch_lifeline,
    )

    work = Path(args.workdir)
    settings = Settings(
        smtp={"host": "127.0.0.1", "port": args.port, "hostname": "relay.bench"},  # type: ignore[arg-type]
        upstream={"host": "127.0.0.1", "port": args.upstream_port, "pool_size": POOL_SIZE},  # type: ignore[arg-type]
        security={"secret_file": str(work / "secret.key")},  # type: ignore[arg-type]
        log={"format": "json", "file": str(work / "relay.log")},  # type: ignore[arg-type]
    )
    configure_logging(settings.log)  # the decision log is written, as in production
    if args.listen_fds is None and args.workers > 1:
        command = [sys.executable, __file__, "--serve", "core", "--workers", "1"]
        command += ["--port", str(args.port), "--upstream-port", str(args.upstream_port)]
        command += ["--workdir", str(work)]
        listeners = bind_listeners({"smtp": ("127.0.0.1", args.port)})
        return await Supervisor(args.workers, command, listeners).run()
    if args.lifeline_fd is not None:
        watch_lifeline(args.lifeline_fd)
    listeners = inherited_listeners(args.listen_fds or "")
    app = build_core(
        settings,
        PassThroughCompliance(),
        hash_key=load_or_create_secret(settings.security),
        metrics=Metrics(),
        smtp_socket=listeners.get("smtp"),
    )
    ready_fd = args.ready_fd
    await app.serve_forever(None if ready_fd is None else lambda: notify_ready(ready_fd))
    return 0


def serve(args: argparse.Namespace) -> int:
    from proxy.app import event_loop_factory
    from proxy.settings import EventLoop

    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    with asyncio.Runner(loop_factory=event_loop_factory(EventLoop.AUTO)) as runner:
        if args.serve == "bare":
            runner.run(_serve_bare(args.port, args.upstream_port))
            return 0
        return runner.run(_serve_core(args))


# ---------------------------------------------------------------- the run


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b and b == b and a == a else "-"


@contextlib.contextmanager
def _targets(args: argparse.Namespace, sink: Sink, work: Path) -> Iterator[list[Target]]:
    auto = str(len(os.sched_getaffinity(0)))
    targets: list[Target] = []
    postfix_root: Path | None = None
    wanted = set(args.targets.replace("-N", f"-{auto}").split(","))
    try:
        targets.append(start_python_target("bare", "bare", 1, sink.port, work))
        if "core-1" in wanted:
            targets.append(start_python_target("core-1", "core", 1, sink.port, work))
        if f"core-{auto}" in wanted:
            targets.append(start_python_target(f"core-{auto}", "core", int(auto), sink.port, work))
        targets.append(start_full("full-1", "1", sink.port, work))
        if f"full-{auto}" in wanted:
            targets.append(start_full(f"full-{auto}", "auto", sink.port, work))
        if not args.no_postfix:
            started = start_postfix(sink.port)
            if started is not None:
                targets.append(started[0])
                postfix_root = started[1]
        yield targets
    finally:
        for target in targets:
            if target.name != "postfix":
                target.stop()
        if postfix_root is not None:
            stop_postfix(postfix_root)


def run(args: argparse.Namespace) -> int:
    sessions = [int(s) for s in args.sessions.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="prospect-relay-bench-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        sink = Sink(work)
        try:
            with _targets(args, sink, work) as targets:
                names = [t.name for t in targets]
                print(
                    f"{os.cpu_count()} CPUs; {args.messages} messages per measurement, "
                    f"median of {args.repeat}; targets: {', '.join(names)}",
                    flush=True,
                )
                for size in sizes:
                    message = make_message(size)
                    message_file = work / f"message-{size}.eml"
                    # smtp-source ends each line of the file with CRLF itself.
                    message_file.write_bytes(message.replace(b"\r\n", b"\n"))
                    for target in targets:  # warm-up: pools filled, code paths hot
                        throughput(target, sink, message_file, 2, 20)
                    for count in sessions:
                        for _ in range(args.repeat):
                            for target in targets:
                                rate, cpu = throughput(
                                    target, sink, message_file, count, args.messages
                                )
                                target.rates.setdefault((size, count), []).append(rate)
                                target.cpu.setdefault((size, count), []).append(cpu)
                    full = next(t for t in targets if t.name == "full-1")
                    best = max(_median(v) for k, v in full.rates.items() if k[0] == size)
                    probe_rate = best / 2
                    count = max(50, min(args.latency_messages, int(probe_rate * 5)))
                    for target in targets:
                        target.latency[size] = latency(target, message, probe_rate, count)
                    print(f"{len(message)} B message: open-loop latency at {probe_rate:.0f}/s")
                _report(targets, sizes, sessions)
        finally:
            sink.stop()
    return 0


def _report(targets: list[Target], sizes: list[int], sessions: list[int]) -> None:
    by = {t.name: t for t in targets}
    fulls = [t for t in targets if t.name.startswith("full")]
    bare, postfix = by["bare"], by.get("postfix")
    head = f"{'size':>6} {'sess':>4} " + " ".join(f"{t.name:>9}" for t in targets)
    head += " " + " ".join(f"{t.name + '/bare':>12}" for t in fulls)
    if postfix is not None:
        head += " " + " ".join(f"{t.name + '/pfx':>11}" for t in fulls)
    print("\nmessages/s (and ratios)\n" + head)
    for size in sizes:
        for count in sessions:
            key = (size, count)
            line = f"{size // 1024:>4}KB {count:>4} "
            line += " ".join(f"{_median(t.rates[key]):>9.0f}" for t in targets)
            line += " " + " ".join(
                f"{_ratio(_median(t.rates[key]), _median(bare.rates[key])):>12}" for t in fulls
            )
            if postfix is not None:
                line += " " + " ".join(
                    f"{_ratio(_median(t.rates[key]), _median(postfix.rates[key])):>11}"
                    for t in fulls
                )
            print(line)
    print("\nCPU ms per message (whole process tree)")
    print(f"{'size':>6} {'sess':>4} " + " ".join(f"{t.name:>9}" for t in targets))
    for size in sizes:
        for count in sessions:
            key = (size, count)
            line = f"{size // 1024:>4}KB {count:>4} "
            print(line + " ".join(f"{_median(t.cpu[key]):>9.2f}" for t in targets))
    print("\nopen-loop latency p50/p99 ms at half full-1's best rate")
    print(f"{'size':>6} " + " ".join(f"{t.name:>13}" for t in targets) + "  p99 full-1 - bare")
    for size in sizes:
        cells = " ".join(f"{t.latency[size][0]:>6.1f}/{t.latency[size][1]:<6.1f}" for t in targets)
        added = by["full-1"].latency[size][1] - bare.latency[size][1]
        print(f"{size // 1024:>4}KB {cells}  {added:>+8.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600, help="messages per measurement")
    parser.add_argument("--sessions", default="1,10,50", help="comma-separated session counts")
    parser.add_argument("--sizes", default="4096,102400", help="comma-separated sizes in bytes")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions (medians are shown)")
    parser.add_argument("--latency-messages", type=int, default=300, help="open-loop probe size")
    parser.add_argument("--no-postfix", action="store_true", help="leave Postfix out")
    parser.add_argument(
        "--targets",
        default="core-1,core-N,full-N",
        help="which of core-1, core-N, full-N to run besides bare and full-1 (always run)",
    )
    # Internal: this script as one of the targets.
    parser.add_argument("--serve", choices=["bare", "core"], help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--listen-fds", help=argparse.SUPPRESS)
    parser.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--lifeline-fd", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args)
    for tool in (SMTP_SOURCE, SMTP_SINK):
        if not Path(tool).exists():
            print(f"{tool} is missing: install Debian's postfix package", file=sys.stderr)
            return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
