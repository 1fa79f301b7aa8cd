"""Hostile inputs against the full relay: processing time per input family at three sizes,
the growth ratio of the relay's CPU time from one size to the next (2.0 for each doubling is
linear, 4.0 quadratic), and /healthz latency (worst and 99th percentile) from another process
while each message is processed. Wall time includes sending the message and whatever else the
machine runs; the relay's CPU time per message (its process, all threads) is the figure to
compare. The load average is printed before and after: figures from a busy machine say less.

The relay runs in its own process with the full policy and its public unsubscribe mailbox;
this process sends each message to that mailbox from 127.0.0.2 (outside allowed_networks),
as any peer on the internet could, and polls /healthz every 10 ms meanwhile. The "relayed"
families go from an allowed client to a consented contact instead: the message is read,
decided, and its copy built (footer, List-Unsubscribe) and written to the outbox.

    python bench/adversarial_bench.py                # sizes 1x, 2x, 4x of each family's base
    python bench/adversarial_bench.py --scale 0.25   # smaller bases (for a slow, old relay)
    python bench/adversarial_bench.py --only large   # the families whose name has "large"
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import aiosmtplib

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile import (
    HOSTILE_SENDER as SENDER,
)
from tests.hostile import (
    address_runs,
    multipart,
    nested,
    raw_message,
    signed_lt_runs,
    unterminated_quote,
    unterminated_words,
    with_entity,
)

OUTSIDE = "127.0.0.2"
MAILBOX = "unsubscribe@relay.bench"
CONTACT = "marie@gmail.com"  # consented to the example controller of config/policy.toml
RELAYING = "news@example.com"


def _message(headers: list[str], body: str = "hello\r\n") -> bytes:
    return raw_message(["Subject: stop", "MIME-Version: 1.0", *headers], body, to=MAILBOX)


def _entity_message(entity: str) -> bytes:
    return with_entity(["Subject: stop"], entity, to=MAILBOX)


def encoded_word_subject(n: int) -> bytes:
    """Unterminated RFC 2047 words (decode_header's worst case), n octets of Subject."""
    return raw_message([unterminated_words(n)], to=MAILBOX)


def quote_parameter(n: int) -> bytes:
    """A Content-Type parameter with an unterminated quote full of `;`, n octets."""
    return _message([unterminated_quote(n)])


def lt_runs(n: int) -> bytes:
    """multipart/signed with 10 HTML parts, each a run of n/10 `<` (the mention scan)."""
    return _entity_message(signed_lt_runs(10, n // 10))


def at_runs(n: int) -> bytes:
    """A `To:` of `@` runs, n octets (the address-list parser)."""
    return _message([address_runs(n)])


def many_parts(n: int) -> bytes:
    """n tiny text parts (n up to max_mime_parts)."""
    return _entity_message(multipart("multipart/mixed", ["\r\nx"] * n))


def deep_nesting(n: int) -> bytes:
    """n levels of multipart (n up to max_mime_depth)."""
    return _entity_message(nested(n))


def long_header_lines(n: int) -> bytes:
    """n octets of header lines of 990 octets each (just under the RFC limit)."""
    return _message([f"X-Long-{i}: " + "x" * 978 for i in range(n // 990)])


def large_body(n: int) -> bytes:
    """A signed message whose HTML body is n octets of ordinary markup (the message size)."""
    html = "Content-Type: text/html\r\n\r\n" + "<p>hello <b>world</b></p>\r\n" * (n // 28)
    return _entity_message(multipart("multipart/signed", [html]))


def _relayed(entity: str) -> bytes:
    headers = [
        f"From: Example News <{RELAYING}>",
        f"To: {CONTACT}",
        "Subject: Our catalogue",
        "Date: Tue, 1 Dec 2026 10:00:00 +0000",
        "Message-ID: <catalogue@example.com>",
        "MIME-Version: 1.0",
    ]
    return ("\r\n".join(headers) + "\r\n" + entity).encode("ascii")


def large_attachment(n: int) -> bytes:
    """Relayed: a short text part (it gets the footer) and an n-octet base64 attachment."""
    raw = hashlib.shake_256(b"bench").digest(n * 57 // 78)  # 57 octets: a 78-octet line
    encoded = base64.encodebytes(raw).decode("ascii").replace("\n", "\r\n")
    return _relayed(
        multipart(
            "multipart/mixed",
            [
                "Content-Type: text/plain\r\n\r\nHello,\r\nthe catalogue is attached.\r\n",
                "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + encoded,
            ],
        )
    )


def large_text(n: int) -> bytes:
    """Relayed: n octets of plain text lines (the footer goes at its end)."""
    lines = "A line of the newsletter.\r\n" * (n // 27)
    return _relayed("Content-Type: text/plain\r\n\r\n" + lines)


# family, builder, base size (then 2x and 4x), relayed (else sent to the public mailbox)
FAMILIES: list[tuple[str, Callable[[int], bytes], int, bool]] = [
    ("encoded-word subject (octets)", encoded_word_subject, 15_000, False),
    ("unterminated quote (octets)", quote_parameter, 15_000, False),
    ("'<' runs in signed HTML (octets)", lt_runs, 80_000, False),
    ("'@' runs in To: (octets)", at_runs, 15_000, False),
    ("many parts (parts)", many_parts, 125, False),
    ("deep nesting (levels)", deep_nesting, 5, False),
    ("long header lines (octets)", long_header_lines, 15_000, False),
    ("large body (octets)", large_body, 6_000_000, False),
    ("relayed large attachment (octets)", large_attachment, 6_000_000, True),
    ("relayed large text (octets)", large_text, 6_000_000, True),
]


async def _serve(conn: Connection, workdir: str) -> None:
    from proxy.app import build_relay
    from proxy.logs import configure_logging
    from proxy.secrets import load_or_create_secret
    from proxy.settings import Settings
    from proxy.store import Store, create_engine
    from proxy.store.migrate import upgrade
    from tests.unit.policy_factory import consented

    policy = Path(__file__).resolve().parents[1] / "config" / "policy.toml"
    settings = Settings(
        smtp={"host": "127.0.0.1", "port": 0, "hostname": "relay.bench",  # type: ignore[arg-type]
              "allowed_networks": ["127.0.0.1/32"]},
        security={"secret_file": os.path.join(workdir, "secret.key")},  # type: ignore[arg-type]
        log={"format": "json", "file": os.path.join(workdir, "relay.log")},  # type: ignore[arg-type]
        database={"url": f"sqlite+aiosqlite:///{workdir}/bench.db"},  # type: ignore[arg-type]
        policy={"file": str(policy)},  # type: ignore[arg-type]
        outbox={"path": os.path.join(workdir, "outbox")},  # type: ignore[arg-type]
        web={"port": 0, "ops_port": 0},  # type: ignore[arg-type]
    )  # fmt: skip
    configure_logging(settings.log)
    await upgrade(settings.database)
    app = await build_relay(settings)
    await app.start()
    store = Store(create_engine(settings.database), load_or_create_secret(settings.security))
    await store.upsert_contacts([consented(CONTACT, consent_controller="example")])
    web_port = next(c.port for c in app.components if getattr(c, "name", "") == "web")
    conn.send((app.smtp_port, web_port))
    loop = asyncio.get_running_loop()
    while await loop.run_in_executor(None, conn.recv) == "cpu":
        conn.send(time.process_time())  # this process's CPU seconds so far, all threads
    await app.stop(grace=5)


def _relay_main(conn: Connection, workdir: str) -> None:
    asyncio.run(_serve(conn, workdir))


def _poll(url: str, conn: Connection) -> None:
    """In its own process (this one's GIL is busy sending): /healthz every 10 ms until told
    to stop, then the latencies back through `conn`."""
    latencies: list[float] = []
    while not conn.poll(0.01):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=120) as response:
            response.read()
        latencies.append(time.perf_counter() - started)
    conn.send(latencies)


async def _send(port: int, message: bytes, relayed: bool) -> tuple[float, str]:
    client = aiosmtplib.SMTP(
        hostname="127.0.0.1",
        port=port,
        timeout=300,
        source_address=("127.0.0.1" if relayed else OUTSIDE, 0),
    )
    await client.connect()
    try:
        await client.mail(RELAYING if relayed else SENDER)
        await client.rcpt(CONTACT if relayed else MAILBOX)
        started = time.perf_counter()
        try:
            response = await client.data(message)
            reply = f"{response.code} {response.message}"
        except aiosmtplib.SMTPDataError as exc:
            reply = f"{exc.code} {exc.message}"
        return time.perf_counter() - started, reply
    finally:
        await client.quit()


async def _measure(
    port: int, health: str, message: bytes, repeat: int, relayed: bool
) -> tuple[float, list[float], str]:
    """(median seconds per message, /healthz latencies in seconds, last reply)."""
    parent, child = mp.Pipe()
    poller = mp.Process(target=_poll, args=(health, child), daemon=True)
    poller.start()
    await asyncio.sleep(0.1)  # the poller is answering before the first message
    times, reply = [], ""
    for _ in range(repeat):
        seconds, reply = await _send(port, message, relayed)
        times.append(seconds)
    parent.send("stop")
    latencies: list[float] = parent.recv()
    poller.join()
    return statistics.median(times), latencies, reply


def _p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0.0


async def _run(
    smtp_port: int, web_port: int, relay: Connection, scale: float, repeat: int, only: str
) -> None:
    health = f"http://127.0.0.1:{web_port}/healthz"

    def relay_cpu() -> float:
        relay.send("cpu")
        return float(relay.recv())

    print(
        f"{'family':34} {'size':>9} {'wall ms':>8} {'cpu ms':>8} {'growth':>7} "
        f"{'healthz max ms':>15} {'p99 ms':>7} {'n':>5}  reply"
    )
    for name, build, base, relayed in FAMILIES:
        if only not in name:
            continue
        previous = None
        for factor in (1, 2, 4):
            size = max(1, int(base * scale)) * factor
            message = build(size)
            cpu = relay_cpu()
            seconds, latencies, reply = await _measure(smtp_port, health, message, repeat, relayed)
            cpu = (relay_cpu() - cpu) / repeat
            growth = f"{cpu / previous:.2f}" if previous else "-"
            previous = cpu
            worst = max(latencies, default=0.0)
            print(
                f"{name:34} {size:>9} {seconds * 1000:>8.1f} {cpu * 1000:>8.1f} {growth:>7} "
                f"{worst * 1000:>15.1f} {_p99(latencies) * 1000:>7.1f} {len(latencies):>5}  "
                f"{reply[:32]}",
                flush=True,
            )


def _print_load() -> None:
    one, five, fifteen = os.getloadavg()
    print(f"load average (1, 5, 15 min): {one:.2f} {five:.2f} {fifteen:.2f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every base size")
    parser.add_argument("--repeat", type=int, default=5, help="messages per size (median)")
    parser.add_argument("--only", default="", help="only the families whose name has this")
    args = parser.parse_args()
    _print_load()
    with tempfile.TemporaryDirectory() as workdir:
        parent, child = mp.Pipe()
        relay = mp.Process(target=_relay_main, args=(child, workdir), daemon=True)
        relay.start()
        if not parent.poll(60):
            raise RuntimeError("the relay did not start")
        smtp_port, web_port = parent.recv()
        try:
            asyncio.run(_run(smtp_port, web_port, parent, args.scale, args.repeat, args.only))
            _print_load()
        finally:
            parent.send("stop")
            relay.join(10)
            if relay.is_alive():
                relay.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
