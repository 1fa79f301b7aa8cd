"""Settings: file + environment, and `check-config` errors (one line per problem, exit 2)."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from proxy.cli import cli
from proxy.settings import load_settings
from proxy.smtp.auth import hash_password, verify_password


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = tmp_path / "relay.toml"
    config.write_text('[upstream]\nhost = "mx.example.net"\nport = 2526\n')
    os.environ["PROSPECT_RELAY_UPSTREAM__HOST"] = "smtp.example.org"
    settings = load_settings(config)
    assert settings.upstream.host == "smtp.example.org"
    assert settings.upstream.port == 2526


def test_check_config_prints_effective_config_with_secrets_masked(tmp_path: Path) -> None:
    config = tmp_path / "relay.toml"
    config.write_text(
        '[upstream]\nhost = "mx.example.net"\nusername = "u"\npassword = "hunter2"\n'
        '[database]\nurl = "postgresql+asyncpg://relay:s3cr%40t@db.internal:5432/r"\n'
    )
    result = CliRunner().invoke(cli, ["check-config", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert 'host = "mx.example.net"' in result.output
    assert "hunter2" not in result.output
    assert 'password = "**********"' in result.output
    # A password inside a URL too (it was printed in clear).
    assert 'url = "postgresql+asyncpg://relay:***@db.internal:5432/r"' in result.output
    assert "s3cr" not in result.output


def test_check_config_reports_each_problem_with_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "relay.toml"
    config.write_text(
        '[smtp]\nport = 70000\nusers = { tool = "plaintext" }\n[upstream]\ntls = "ssl"\n'
    )
    result = CliRunner().invoke(cli, ["check-config", "--config", str(config)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert f"error: {config}: smtp.port: Input should be less than or equal to 65535" in lines
    assert any("upstream.tls" in line for line in lines)
    assert "Traceback" not in result.output


def test_check_config_rejects_unhashed_passwords(tmp_path: Path) -> None:
    config = tmp_path / "relay.toml"
    config.write_text('[smtp.users]\ntool = "plaintext"\n')
    result = CliRunner().invoke(cli, ["check-config", "--config", str(config)])
    assert result.exit_code == 2
    assert f"error: {config}: smtp.users.tool: not a password hash" in result.output


def test_check_config_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check-config", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_hash_password_command_output_verifies() -> None:
    result = CliRunner().invoke(cli, ["hash-password", "--password-stdin"], input="s3cret\n")
    assert result.exit_code == 0
    encoded = result.output.strip()
    assert verify_password("s3cret", encoded)
    assert not verify_password("other", encoded)
    assert verify_password("x", hash_password("x", n=2**10))


def test_runtime_workers_is_a_count_or_auto(tmp_path: Path) -> None:
    config = tmp_path / "relay.toml"
    config.write_text('[runtime]\nworkers = "auto"\n')
    assert load_settings(config).runtime.worker_count() == len(os.sched_getaffinity(0))
    config.write_text("[runtime]\nworkers = 3\n")
    assert load_settings(config).runtime.worker_count() == 3
    assert load_settings(None).runtime.worker_count() == 1  # one process unless asked
    for bad in ("0", '"many"', "65"):
        config.write_text(f"[runtime]\nworkers = {bad}\n")
        result = CliRunner().invoke(cli, ["check-config", "--config", str(config)])
        assert result.exit_code == 2, bad
        assert f"error: {config}: runtime.workers" in result.output
        assert "Traceback" not in result.output


def test_check_config_names_the_environment_variable_not_the_file(tmp_path: Path) -> None:
    config = tmp_path / "relay.toml"
    config.write_text("[smtp]\nmax_recipients = 0\n")
    os.environ["PROSPECT_RELAY_SMTP__PORT"] = "70000"
    os.environ["PROSPECT_RELAY_UPSTREAM__PASSWORD"] = "hunter2"
    result = CliRunner().invoke(cli, ["check-config", "--config", str(config)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert (
        "error: environment variable PROSPECT_RELAY_SMTP__PORT: smtp.port: "
        "Input should be less than or equal to 65535"
    ) in lines
    assert any(line.startswith(f"error: {config}: smtp.max_recipients:") for line in lines)
    assert "hunter2" not in result.output


def test_check_config_reports_settings_and_policy_problems_at_once(tmp_path: Path) -> None:
    config = tmp_path / "relay.toml"
    missing = tmp_path / "no-policy.toml"
    config.write_text(f'[smtp]\nport = 70000\n[policy]\nfile = "{missing}"\n')
    result = CliRunner().invoke(cli, ["check-config", "--config", str(config)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert any("smtp.port" in line for line in lines)
    assert any(str(missing) in line for line in lines), lines


def test_check_config_blames_the_variable_for_a_bad_password_hash(tmp_path: Path) -> None:
    config = tmp_path / "relay.toml"
    config.write_text("[smtp]\nmax_recipients = 5\n")
    os.environ["PROSPECT_RELAY_SMTP__USERS"] = '{"tool": "plaintext"}'
    result = CliRunner().invoke(cli, ["check-config", "--config", str(config)])
    assert result.exit_code == 2
    assert (
        "error: environment variable PROSPECT_RELAY_SMTP__USERS: smtp.users.tool: "
        "not a password hash"
    ) in result.output


def test_serve_and_check_config_report_the_same_problems(tmp_path: Path) -> None:
    """The checks are the settings' validators: every command reports them alike."""
    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate")
    config = tmp_path / "relay.toml"
    config.write_text(
        f'[smtp]\ntls_cert = "{cert}"\ntls_key = "{cert}"\n'
        '[smtp.users]\ntool = "plaintext"\n[log]\nlevel = "LOUD"\n'
        '[dkim]\ndomain = "acme.example"\n'
    )
    outputs = []
    for command in ("check-config", "serve"):
        result = CliRunner().invoke(cli, [command, "--config", str(config)])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        outputs.append([line for line in result.output.splitlines() if line.startswith("error:")])
    assert outputs[0] == outputs[1]
    lines = outputs[0]
    assert f"error: {config}: smtp.users.tool: not a password hash" in " ".join(lines)
    assert any(
        line.startswith(f"error: {config}: smtp.tls_key: cannot load certificate/key")
        for line in lines
    ), lines
    assert f"error: {config}: log.level: must be DEBUG, INFO, WARNING, ERROR or CRITICAL" in lines
    assert any(
        line.startswith(f"error: {config}: dkim.private_key_file: DKIM signing needs")
        and "dkim.selector" in line
        for line in lines
    ), lines


def test_auth_without_tls_is_a_settings_problem(tmp_path: Path) -> None:
    config = tmp_path / "relay.toml"
    config.write_text(f'[smtp.users]\ntool = "{hash_password("x", n=2**10)}"\n')
    result = CliRunner().invoke(cli, ["check-config", "--config", str(config)])
    assert result.exit_code == 2
    assert (
        f"error: {config}: smtp.users: AUTH is offered only after STARTTLS: set smtp.tls_cert/key"
    ) in result.output
