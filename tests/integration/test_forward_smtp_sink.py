"""The upstream client against a real MTA's SMTP server: Postfix's `smtp-sink`.

smtp-sink (Debian's postfix package, as in bench/relay_bench.py) offers PIPELINING unless
started with -p, dumps every transaction it accepts (-D: envelope records, then the message)
and can hang up right after the final dot (-q .). aiosmtpd (the other tests) reads commands
line by line; this is a C server parsing the batch as Postfix does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from proxy import replies
from proxy.forward import SmtpForwarder
from proxy.metrics import Metrics
from proxy.settings import UpstreamSettings
from tests.ports import free_port
from tests.waiting import wait_until

SMTP_SINK = "/usr/sbin/smtp-sink"
MESSAGE = b"Subject: sink\r\n\r\n.leading dot\r\nbody\r\n"
RECIPIENTS = ["b@example.org", "c@example.org"]

Sink = Callable[..., Coroutine[Any, Any, tuple[int, Path]]]


@pytest.fixture
async def smtp_sink() -> AsyncIterator[Sink]:
    """`await smtp_sink(*flags)`: (port, dump file) of a running smtp-sink."""
    processes: list[asyncio.subprocess.Process] = []
    # A directory smtp-sink can write after dropping to `nobody` (as root it must).
    directory = Path(tempfile.mkdtemp(prefix="prospect-relay-sink-"))
    directory.chmod(0o777)

    async def start(*flags: str) -> tuple[int, Path]:
        port, dump = free_port(), directory / f"dump-{len(processes)}"
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        process = await asyncio.create_subprocess_exec(
            SMTP_SINK, *user, *flags, "-D", str(dump), f"127.0.0.1:{port}", "16"
        )
        processes.append(process)

        async def listening() -> bool:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return True

        await wait_until(listening, "smtp-sink listening", ignore=(OSError,))
        return port, dump

    yield start
    for process in processes:
        process.terminate()
        await process.wait()
    shutil.rmtree(directory)


def _forwarder(port: int, metrics: Metrics | None = None) -> SmtpForwarder:
    settings = UpstreamSettings(host="127.0.0.1", port=port, timeout=10)
    return SmtpForwarder(settings, local_hostname="relay.test", metrics=metrics or Metrics())


async def _offers_pipelining(port: int) -> bool:
    probe = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10)
    await probe.connect()
    await probe.ehlo()
    offered = probe.supports_extension("pipelining")
    await probe.quit()
    return offered


def _transactions(dump: Path) -> list[tuple[list[str], bytes]]:
    """(envelope records, message body after smtp-sink's Received header) per transaction."""
    found = []
    for block in dump.read_bytes().split(b"X-Client-Addr: ")[1:]:
        head, _, rest = block.partition(b"Received: ")
        envelope = [line for line in head.decode().splitlines() if line.startswith("X-")]
        body = rest.split(b"\n", 3)[3]  # the Received header is three lines
        found.append((envelope, body))
    return found


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "lockstep"])
async def test_delivered_to_smtp_sink_with_and_without_pipelining(
    smtp_sink: Sink, pipelining: bool
) -> None:
    port, dump = await smtp_sink(*([] if pipelining else ["-p"]))
    assert await _offers_pipelining(port) is pipelining
    forwarder = _forwarder(port)
    results = [
        await forwarder.forward("a@example.com", RECIPIENTS, MESSAGE, queue_id=f"q{n}")
        for n in range(3)
    ]
    await forwarder.close()

    assert [r.accepted for r in results] == [tuple(RECIPIENTS)] * 3
    envelope = ["X-Mail-Args: <a@example.com>"] + [f"X-Rcpt-Args: <{r}>" for r in RECIPIENTS]
    await wait_until(lambda: dump.exists() and len(_transactions(dump)) == 3, "3 dumped")
    for records, body in _transactions(dump):
        assert [r for r in records if r.startswith(("X-Mail", "X-Rcpt"))] == envelope
        # smtp-sink stores lines with LF and the dot-stuffing undone: the message as sent.
        assert body == MESSAGE.replace(b"\r\n", b"\n") + b"\n"


async def test_smtp_sink_hanging_up_after_the_dot_is_delivery_unknown(smtp_sink: Sink) -> None:
    port, _ = await smtp_sink("-q", ".")
    metrics = Metrics()
    forwarder = _forwarder(port, metrics)
    result = await forwarder.forward("a@example.com", RECIPIENTS, MESSAGE, queue_id="q1")
    await forwarder.close()
    assert result.reply == replies.upstream_lost_after_data("q1") and result.accepted == ()
    sample = metrics.registry.get_sample_value(
        "prospect_relay_upstream_errors_total", {"kind": "after_dot"}
    )
    assert sample == 1
