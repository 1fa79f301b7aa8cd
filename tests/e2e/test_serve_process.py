"""`prospect-relay serve` as a real process: schema check at start, SIGHUP policy reload."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MESSAGE = (
    "From: news@example.com\r\nTo: info@acme-industrie.fr\r\nSubject: Offre\r\n"
    "X-Prospect-Source: salon Lyon 2025\r\n\r\nBonjour.\r\n"
)


def _config(tmp_path: Path) -> Path:
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


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proxy", *args], capture_output=True, text=True, timeout=60
    )


def _wait_for_log(log: Path, pattern: str, timeout: float = 20.0) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists():
            found = re.search(pattern, log.read_text())
            if found:
                return found
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} not logged; log:\n{log.read_text() if log.exists() else ''}")


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    result = _cli("serve", "--config", str(_config(tmp_path)))
    assert result.returncode == 2
    assert "run `prospect-relay db upgrade`" in result.stderr
    assert "Traceback" not in result.stderr


def test_sighup_reloads_the_policy_and_keeps_the_old_one_when_invalid(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert _cli("db", "upgrade", "--config", str(config)).returncode == 0
    log = tmp_path / "relay.log"
    relay = subprocess.Popen(
        [sys.executable, "-m", "proxy", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("PROSPECT_RELAY_")},
    )
    try:
        port = int(_wait_for_log(log, r"SMTP listening on 127\.0\.0\.1:(\d+)").group(1))
        with smtplib.SMTP("127.0.0.1", port) as client:
            assert client.sendmail("news@example.com", ["info@acme-industrie.fr"], MESSAGE) == {}

        policy = tmp_path / "policy.toml"
        good = policy.read_text()
        policy.write_text(good + "\n[controllers.broken\n")
        relay.send_signal(signal.SIGHUP)
        _wait_for_log(log, r"policy reload failed, keeping version")
        with smtplib.SMTP("127.0.0.1", port) as client:  # the old policy still decides
            assert client.sendmail("news@example.com", ["info@acme-industrie.fr"], MESSAGE) == {}

        # A valid change takes effect: the sending domain is no longer the controller's.
        policy.write_text(good.replace('"example.com", ', ""))
        relay.send_signal(signal.SIGHUP)
        _wait_for_log(log, r"policy reloaded from")
        with (
            smtplib.SMTP("127.0.0.1", port) as client,
            pytest.raises(smtplib.SMTPDataError) as refused,
        ):
            client.sendmail("news@example.com", ["info@acme-industrie.fr"], MESSAGE)
        assert refused.value.smtp_code == 550
        assert b"sender-not-allowed" in refused.value.smtp_error

        relay.send_signal(signal.SIGTERM)
        assert relay.wait(timeout=30) == 0
    finally:
        if relay.poll() is None:
            relay.kill()
            relay.wait()
    decisions = [
        json.loads(line) for line in log.read_text().splitlines() if '"event": "decision"' in line
    ]
    assert [d["action"] for d in decisions] == ["rewrite", "rewrite", "reject"]
