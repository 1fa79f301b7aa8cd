"""`prospect-relay serve` as a real process: schema check at start, SIGHUP policy reload."""

from __future__ import annotations

import json
import signal
import smtplib
from pathlib import Path

import pytest

from tests.e2e.serve_helpers import MESSAGE, run_proxy, serve_config, start_serve, wait_for_log


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    result = run_proxy("serve", "--config", str(serve_config(tmp_path)))
    assert result.returncode == 2
    assert "run `prospect-relay db upgrade`" in result.stderr
    assert "Traceback" not in result.stderr


def test_sighup_reloads_the_policy_and_keeps_the_old_one_when_invalid(tmp_path: Path) -> None:
    config = serve_config(tmp_path)
    assert run_proxy("db", "upgrade", "--config", str(config)).returncode == 0
    log = tmp_path / "relay.log"
    relay = start_serve(config)
    try:
        port = int(wait_for_log(log, r"SMTP listening on 127\.0\.0\.1:(\d+)").group(1))
        with smtplib.SMTP("127.0.0.1", port) as client:
            assert client.sendmail("news@example.com", ["info@acme-industrie.fr"], MESSAGE) == {}

        policy = tmp_path / "policy.toml"
        good = policy.read_text()
        policy.write_text(good + "\n[controllers.broken\n")
        relay.send_signal(signal.SIGHUP)
        wait_for_log(log, r"policy reload failed, keeping version")
        with smtplib.SMTP("127.0.0.1", port) as client:  # the old policy still decides
            assert client.sendmail("news@example.com", ["info@acme-industrie.fr"], MESSAGE) == {}

        # A valid change takes effect: the sending domain is no longer the controller's.
        policy.write_text(good.replace('"example.com", ', ""))
        relay.send_signal(signal.SIGHUP)
        wait_for_log(log, r"policy reloaded from")
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
