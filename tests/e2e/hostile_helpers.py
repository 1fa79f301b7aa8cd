"""Sending from outside `allowed_networks` to the public unsubscribe mailbox (any network may
send there), timing the answer and /healthz meanwhile: the hostile-content tests' probe."""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.request
from dataclasses import dataclass

from tests.e2e.conftest import RELAY_HOSTNAME, FullRelay, Transcript
from tests.hostile import HOSTILE_SENDER
from tests.waiting import wait_until

__all__ = ["MAILBOX", "OUTSIDE", "Timed", "send_outside"]

OUTSIDE = "127.0.0.2"  # loopback, but outside allowed_networks
MAILBOX = f"unsubscribe@{RELAY_HOSTNAME}"


@dataclass
class Timed:
    transcript: Transcript
    seconds: float
    worst_healthz: float  # slowest /healthz answer while the message was processed
    healthz_answers: int


def poll_healthz(url: str, done: threading.Event, latencies: list[float]) -> None:
    """/healthz from another thread, as a load balancer sees it: a stalled event loop shows
    as a slow answer (a poller on the relay's own loop would not notice)."""
    while not done.is_set():
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as response:
            assert response.status == 200
        latencies.append(time.perf_counter() - started)
        done.wait(0.01)


async def send_outside(relay: FullRelay, message: bytes) -> Timed:
    """Send `message` to the unsubscribe mailbox from OUTSIDE, polling /healthz meanwhile."""
    done = threading.Event()
    latencies: list[float] = []
    poller = asyncio.create_task(
        asyncio.to_thread(poll_healthz, f"{relay.web_base}/healthz", done, latencies)
    )
    await wait_until(lambda: latencies, "a first /healthz answer, before the message")
    started = time.perf_counter()
    transcript = await relay.send(MAILBOX, message, sender=HOSTILE_SENDER, source_address=OUTSIDE)
    seconds = time.perf_counter() - started
    done.set()
    await poller
    return Timed(transcript, seconds, max(latencies, default=0.0), len(latencies))
