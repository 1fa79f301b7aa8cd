"""`serve` with `[runtime] workers = 2` as real processes: a supervisor and two workers
sharing the SMTP and web listeners; reload, restart, metrics across workers, drain."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.serve_helpers import (
    MESSAGE,
    run_proxy,
    serve_config,
    start_serve,
    wait_for_count,
    wait_for_log,
)
from tests.waiting import wait_until_blocking


def _metric(ops_port: int, sample: str) -> float:
    """One sample of /metrics, e.g. 'prospect_relay_messages_total{action="rewrite"}'."""
    with urllib.request.urlopen(f"http://127.0.0.1:{ops_port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == sample:
            return float(value)
    return 0.0


def _send(port: int) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        assert client.sendmail("news@example.com", ["info@acme-industrie.fr"], MESSAGE) == {}


def _reply(conn: socket.socket) -> bytes:
    data = b""
    while not re.search(rb"(^|\r\n)\d{3} [^\r\n]*\r\n$", data):
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture
def workers_config(tmp_path: Path) -> Path:
    config = serve_config(tmp_path)
    config.write_text(config.read_text() + "\n[runtime]\nworkers = 2\n")
    assert run_proxy("db", "upgrade", "--config", str(config)).returncode == 0
    return config


def _start(config: Path, log: Path) -> tuple[subprocess.Popen[bytes], list[int], int]:
    """`serve` with two workers, once both listen: (supervisor, worker pids, SMTP port)."""
    relay = start_serve(config)
    try:
        found = wait_for_log(log, r"2 workers serving \(pids \[(\d+), (\d+)\]", timeout=90)
        smtp_port = int(wait_for_log(log, r"SMTP listening on 127\.0\.0\.1:(\d+)").group(1))
    except BaseException:
        relay.kill()
        relay.wait()
        raise
    return relay, [int(pid) for pid in found.groups()], smtp_port


def test_two_workers_share_the_port_reload_restart_count_and_drain(
    workers_config: Path, tmp_path: Path
) -> None:
    log = tmp_path / "relay.log"
    relay, pids, smtp_port = _start(workers_config, log)
    try:
        ops_port = int(wait_for_log(log, r"ops listening on 127\.0\.0\.1:(\d+)").group(1))
        # Both workers serve the same SMTP, web and operations ports the supervisor bound.
        for listener in ("SMTP", "web", "ops"):
            pattern = rf"{listener} listening on 127\.0\.0\.1:(\d+)"
            assert len(set(re.findall(pattern, log.read_text()))) == 1, listener

        for _ in range(6):
            _send(smtp_port)
        # Whichever worker answers /metrics counts the messages of both.
        for _ in range(4):
            assert _metric(ops_port, 'prospect_relay_messages_total{action="rewrite"}') == 6

        # SIGHUP to the supervisor reaches every worker: two reloads, counted across workers.
        relay.send_signal(signal.SIGHUP)
        wait_for_count(log, r"policy reloaded from", 2)
        for _ in range(4):
            assert _metric(ops_port, 'prospect_relay_policy_reloads_total{result="ok"}') == 2

        # A killed worker is replaced; the port keeps serving and its counts are kept.
        os.kill(pids[0], signal.SIGKILL)
        wait_for_log(log, rf"worker pid {pids[0]} exited with -9; starting another", 90)
        wait_for_count(log, r"SMTP listening on 127\.0\.0\.1:", 3)
        _send(smtp_port)
        assert _metric(ops_port, 'prospect_relay_messages_total{action="rewrite"}') == 7
        relay.send_signal(signal.SIGHUP)  # reaches the new worker too
        wait_for_count(log, r"policy reloaded from", 4)

        # SIGTERM drains: a message in the middle of DATA is still accepted, then exit 0.
        with socket.create_connection(("127.0.0.1", smtp_port), timeout=30) as conn:
            assert _reply(conn).startswith(b"220")
            for command in (
                b"EHLO client.example\r\n",
                b"MAIL FROM:<news@example.com>\r\n",
                b"RCPT TO:<info@acme-industrie.fr>\r\n",
            ):
                conn.sendall(command)
                assert _reply(conn).startswith(b"250"), command
            conn.sendall(b"DATA\r\n")
            assert _reply(conn).startswith(b"354")
            head, _, body = MESSAGE.partition("\r\n\r\n")
            conn.sendall(head.encode() + b"\r\n\r\n")
            relay.send_signal(signal.SIGTERM)
            wait_for_count(log, r"stopping: draining in-flight transactions", 2)
            conn.sendall(body.encode() + b".\r\n")
            assert _reply(conn).startswith(b"250")
        assert relay.wait(timeout=60) == 0
    finally:
        if relay.poll() is None:
            relay.kill()
            relay.wait()
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 8
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", smtp_port), timeout=5)


def test_workers_refuse_a_database_that_is_not_migrated_once(tmp_path: Path) -> None:
    config = serve_config(tmp_path)
    config.write_text(config.read_text() + "\n[runtime]\nworkers = 2\n")
    result = run_proxy("serve", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.count("run `prospect-relay db upgrade`") == 1
    assert "Traceback" not in result.stderr


def test_workers_drain_and_exit_when_the_supervisor_is_killed(
    workers_config: Path, tmp_path: Path
) -> None:
    log = tmp_path / "relay.log"
    relay, _, smtp_port = _start(workers_config, log)
    try:
        _send(smtp_port)
    finally:
        relay.kill()  # no chance to forward anything
        relay.wait()
    wait_for_count(log, r"the supervisor is gone: stopping", 2)

    def refused() -> bool:
        try:
            socket.create_connection(("127.0.0.1", smtp_port), timeout=5).close()
        except ConnectionRefusedError:
            return True
        return False

    # The orphans let go of the port: a new relay could bind it.
    wait_until_blocking(refused, "the workers to stop accepting connections", timeout=90)
