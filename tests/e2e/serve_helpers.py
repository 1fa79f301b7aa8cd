"""`prospect-relay serve` as a real process: its configuration, CLI runs and waits on its log."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.waiting import wait_until_blocking

__all__ = ["MESSAGE", "run_proxy", "serve_config", "start_serve", "wait_for_count", "wait_for_log"]

REPO = Path(__file__).resolve().parents[2]
MESSAGE = (
    "From: news@example.com\r\nTo: info@acme-industrie.fr\r\nSubject: Offre\r\n"
    "X-Prospect-Source: salon Lyon 2025\r\n\r\nBonjour.\r\n"
)
# seconds: starting `python -m proxy` and its workers on a loaded 2-core machine is slow
PATIENCE = 90.0


def serve_config(tmp_path: Path) -> Path:
    """relay.toml under `tmp_path`: the shipped policy, SQLite, outbox, JSON log file
    (relay.log), every listener on port 0 (the log says which port it got)."""
    shutil.copy(REPO / "config" / "policy.toml", tmp_path / "policy.toml")
    config = tmp_path / "relay.toml"
    config.write_text(
        f"""
[smtp]
port = 0
[web]
port = 0
ops_port = 0
[database]
url = "sqlite+aiosqlite:///{tmp_path / "relay.db"}"
[outbox]
path = "{tmp_path / "outbox"}"
[security]
secret_file = "{tmp_path / "secret.key"}"
[policy]
file = "{tmp_path / "policy.toml"}"
[log]
format = "json"
file = "{tmp_path / "relay.log"}"
"""
    )
    return config


def run_proxy(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m proxy ARGS` to completion (bounded: 60 s)."""
    return subprocess.run(
        [sys.executable, "-m", "proxy", *args], capture_output=True, text=True, timeout=60
    )


def start_serve(config: Path) -> subprocess.Popen[bytes]:
    """`serve --config CONFIG` in the background, without the developer's PROSPECT_RELAY_*
    variables; it speaks through its log file."""
    return subprocess.Popen(
        [sys.executable, "-m", "proxy", "serve", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith("PROSPECT_RELAY_")},
    )


def _text(log: Path) -> str:
    return log.read_text() if log.exists() else ""


def wait_for_log(log: Path, pattern: str, timeout: float = PATIENCE) -> re.Match[str]:
    """The first match of `pattern` in `log`, once it is there."""
    return wait_until_blocking(
        lambda: re.search(pattern, _text(log)),
        f"{pattern!r} in {log.name}",
        timeout=timeout,
        detail=lambda: f"log:\n{_text(log)}",
    )


def wait_for_count(log: Path, pattern: str, count: int, timeout: float = PATIENCE) -> list[str]:
    """Every match of `pattern` in `log`, once there are at least `count`."""

    def enough() -> list[str]:
        found = re.findall(pattern, _text(log))
        return found if len(found) >= count else []

    return wait_until_blocking(
        enough,
        f"{pattern!r} {count} times in {log.name}",
        timeout=timeout,
        detail=lambda: f"log:\n{_text(log)}",
    )
