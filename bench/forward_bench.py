"""The upstream client alone: `SmtpForwarder` sending to Postfix's `smtp-sink`, in process.

CPU microseconds and wall time per message for the forwarding step only (payload, pooled
upstream transaction), on asyncio's loop and on uvloop, sequentially and with concurrent
senders. smtp-sink advertises PIPELINING, so this measures the pipelined client; for an A/B,
run the same file from a checkout of another commit (it imports the `proxy` next to it).
The process's CPU time excludes smtp-sink. Everything binds 127.0.0.1.

    python bench/forward_bench.py --messages 3000 --size 4096 --concurrency 1,10
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import uvloop

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.relay_bench import SMTP_SINK, _wait_for_banner, make_message  # noqa: E402
from proxy.forward import SmtpForwarder  # noqa: E402
from proxy.metrics import Metrics  # noqa: E402
from proxy.settings import UpstreamSettings  # noqa: E402
from tests.ports import free_port  # noqa: E402


async def _measure(
    port: int, message: bytes, messages: int, concurrency: int
) -> tuple[float, float]:
    """(CPU us per message, wall us per message) for `messages` forwards."""
    settings = UpstreamSettings(host="127.0.0.1", port=port, pool_size=4, timeout=30)
    forwarder = SmtpForwarder(settings, local_hostname="bench.test", metrics=Metrics())
    share = messages // concurrency

    async def sender(n: int) -> None:
        for i in range(share):
            result = await forwarder.forward(
                "news@example.com", ["contact@example.org"], message, queue_id=f"q{n}-{i}"
            )
            if result.reply.code != 250:
                raise RuntimeError(result.reply.line)

    await sender(-1)  # connections opened before the clock starts
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(sender(n) for n in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await forwarder.close()
    done = share * concurrency
    return cpu / done * 1e6, wall / done * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--concurrency", default="1,10")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    message = make_message(args.size)
    port = free_port()
    with tempfile.TemporaryFile() as out:
        sink = subprocess.Popen(
            [SMTP_SINK, "-c", "-u", "nobody", f"127.0.0.1:{port}", "1000"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_banner(port, sink)
            loops: dict[str, Callable[[Coroutine[Any, Any, Any]], Any]] = {
                "asyncio": asyncio.run,
                "uvloop": uvloop.run,
            }
            print(f"{len(message)} B message, {args.messages} per run, median of {args.repeat}")
            print("loop     conc  CPU us/msg  wall us/msg")
            for name, run in loops.items():
                for concurrency in (int(c) for c in args.concurrency.split(",")):
                    runs = [
                        run(_measure(port, message, args.messages, concurrency))
                        for _ in range(args.repeat)
                    ]
                    cpu = statistics.median(r[0] for r in runs)
                    wall = statistics.median(r[1] for r in runs)
                    print(f"{name:8} {concurrency:4}  {cpu:10.0f}  {wall:11.0f}")
        finally:
            sink.terminate()
            sink.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
