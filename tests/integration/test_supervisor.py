"""The supervisor with real worker processes (tiny Python programs standing in for `serve`)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from proxy.supervisor import Supervisor, bind_listeners
from tests.waiting import wait_until


async def test_a_worker_that_cannot_start_stops_the_others_with_its_exit_code() -> None:
    listeners = bind_listeners({"smtp": ("127.0.0.1", 0)})
    code = await Supervisor(2, [sys.executable, "-c", "raise SystemExit(3)"], listeners).run()
    assert code == 3
    assert listeners["smtp"].fileno() == -1  # closed: nobody is left to accept


# A worker that is slow to start: it says it listens (and handles SIGTERM and SIGHUP) only on
# SIGUSR1. Until then SIGHUP has its default action, which would kill it.
_SLOW = """
import os, signal, sys, time
args = sys.argv[1:]
ready = int(args[args.index("--ready-fd") + 1])
def reloaded(*_):
    with open(os.environ["RELOAD_FILE"], "a") as handle:
        handle.write("reloaded\\n")
def listening(*_):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGHUP, reloaded)
    os.write(ready, b"R")
signal.signal(signal.SIGUSR1, listening)
with open(os.environ["PID_FILE"], "w") as handle:
    handle.write(str(os.getpid()))
while True:
    time.sleep(1)
"""


async def test_sighup_reaches_a_worker_still_starting_once_it_listens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not before (the default action would kill it), and not never: it may have read the
    policy before the change."""
    pid_file, reload_file = tmp_path / "worker.pid", tmp_path / "reloads"
    monkeypatch.setenv("PID_FILE", str(pid_file))
    monkeypatch.setenv("RELOAD_FILE", str(reload_file))
    listeners = bind_listeners({"smtp": ("127.0.0.1", 0)})
    run = asyncio.create_task(Supervisor(1, [sys.executable, "-c", _SLOW], listeners).run())
    await wait_until(lambda: pid_file.exists() and pid_file.read_text(), "the worker's pid file")
    os.kill(os.getpid(), signal.SIGHUP)  # the supervisor's handler: a reload request
    await asyncio.sleep(0.5)
    os.kill(int(pid_file.read_text()), signal.SIGUSR1)  # now it listens
    await wait_until(reload_file.exists, "the deferred SIGHUP at the worker")
    os.kill(os.getpid(), signal.SIGTERM)
    assert await run == 0  # it survived the reload request and stopped cleanly
    assert reload_file.read_text() == "reloaded\n"  # once
