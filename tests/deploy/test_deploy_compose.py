"""The deployment files agree with the code: compose, Dockerfile, systemd unit, Postfix snippets.

No Docker engine runs here, so the files are parsed and their commands and settings are
checked against what the package really provides (the click commands, the settings model).
The systemd unit and the Postfix snippets are checked by the real tools (systemd-analyze,
postconf).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from click.testing import CliRunner

from proxy.cli import cli
from proxy.settings import Settings, SmtpSettings, WebSettings, load_settings
from tests.ports import free_port
from tests.waiting import wait_until_blocking

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVE = ["prospect-relay", "serve"]
RELAYS = ("relay-1", "relay-2")


# -- Dockerfile ------------------------------------------------------------------------------


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """Instructions (KEYWORD, arguments) per build stage, continuations joined."""
    logical: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[list[tuple[str, str]]] = []
    for instruction in logical:
        keyword, _, arguments = instruction.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        assert stages, f"instruction before FROM: {instruction}"
        stages[-1].append((keyword.upper(), arguments.strip()))
    return stages


def _one(stage: list[tuple[str, str]], keyword: str) -> str:
    [value] = [args for key, args in stage if key == keyword]
    return value


def test_dockerfile_installs_the_lock_then_copies_the_venv_into_a_slim_runtime() -> None:
    builder, runtime = dockerfile_stages()
    assert re.fullmatch(r"python:3\.11-slim AS builder", _one(builder, "FROM"))
    install = " ".join(_one(builder, "RUN").split())
    # Exactly the committed lock, hashes checked, and the project without re-resolving.
    assert "--require-hashes --no-deps -r requirements/runtime.lock" in install
    assert "pip install --no-deps --no-build-isolation ." in install
    assert "requirements/runtime.lock" in " ".join(a for k, a in builder if k == "COPY")
    assert _one(runtime, "FROM") == "python:3.11-slim AS runtime"
    copies = [args for key, args in runtime if key == "COPY"]
    assert "--from=builder /opt/prospect-relay/venv /opt/prospect-relay/venv" in copies
    assert "PATH=/opt/prospect-relay/venv/bin:$PATH" in _one(runtime, "ENV")
    for key, args in (*builder, *runtime):
        if key == "COPY" and "--from=" not in args:
            sources = [s for s in args.split()[:-1] if not s.startswith("--")]
            for source in sources:
                assert (ROOT / source).exists(), f"COPY source missing: {source}"


def test_image_runs_the_documented_command_as_a_non_root_user() -> None:
    runtime = dockerfile_stages()[-1]
    assert json.loads(_one(runtime, "CMD")) == SERVE
    assert not [key for key, _ in runtime if key == "ENTRYPOINT"]
    user = _one(runtime, "USER").split(":")[0]
    assert user not in ("root", "0") and user
    assert "--user-group --home-dir /var/lib/prospect-relay" in _one(runtime, "RUN")
    # The console script named by CMD exists and `serve` is one of its commands.
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[SERVE[0]] == "proxy.cli:main"
    assert CliRunner().invoke(cli, [SERVE[1], "--help"]).exit_code == 0
    assert "`prospect-relay serve`" in (DEPLOY / "README.md").read_text()


def test_image_exposes_the_default_ports_and_reads_config_from_etc() -> None:
    runtime = dockerfile_stages()[-1]
    assert _one(runtime, "EXPOSE").split() == [
        str(SmtpSettings().port),
        str(WebSettings().port),
        str(WebSettings().ops_port),
    ]
    workdir = _one(runtime, "WORKDIR")
    install = _one(runtime, "RUN")
    # `serve` reads config/relay.toml relative to the working directory: /etc/prospect-relay.
    assert f"ln -s /etc/prospect-relay {workdir}/config" in install
    assert f"ln -s /var/lib/prospect-relay {workdir}/var" in install
    assert any(
        "/etc/prospect-relay/" in args and "--from=" not in args
        for key, args in runtime
        if key == "COPY"
    )


def healthcheck_command() -> list[str]:
    runtime = dockerfile_stages()[-1]
    check = _one(runtime, "HEALTHCHECK")
    options, _, command = check.partition(" CMD ")
    assert "--interval=" in options and "--timeout=" in options
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"]
    assert "urllib.request" in argv[2] and "/healthz" in argv[2]
    return [sys.executable, *argv[1:]]


def test_healthcheck_passes_against_a_live_health_endpoint_and_fails_without_one(
    tmp_path: Path,
) -> None:
    command = healthcheck_command()
    script = tmp_path / "health_server.py"
    script.write_text(
        "import sys\nfrom aiohttp import web\n"
        "app = web.Application()\n"
        "app.router.add_get('/healthz', lambda r: web.Response(text='ok'))\n"
        "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None)\n"
    )
    port = free_port()
    env = {**os.environ, "PROSPECT_RELAY_WEB__PORT": str(port)}
    assert subprocess.run(command, env=env, capture_output=True, timeout=10).returncode != 0
    server = subprocess.Popen([sys.executable, str(script), str(port)])
    runs: list[subprocess.CompletedProcess[bytes]] = []

    def passes() -> bool:
        runs.append(subprocess.run(command, env=env, capture_output=True, timeout=10))
        return runs[-1].returncode == 0

    try:
        wait_until_blocking(
            passes, "the healthcheck to pass against a live /healthz", detail=lambda: runs[-1]
        )
    finally:
        server.terminate()
        server.wait(10)


# -- docker-compose.yml ------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


_VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?])?([^}]*)\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?error} against `variables`."""

    def replace(match: re.Match[str]) -> str:
        name, rest = match.group(1), match.group(2)
        if name in variables:
            return variables[name]
        if match.group(0).startswith(f"${{{name}:?"):
            raise AssertionError(f"{name} is required: {rest}")
        return rest

    return _VARIABLE.sub(replace, value)


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def service_settings(name: str, variables: dict[str, str]) -> Settings:
    """The settings a service's container would load (image defaults + compose env)."""
    service = compose()["services"][name]
    env = {k: interpolate(str(v), variables) for k, v in service["environment"].items()}
    for key in env:  # pydantic-settings ignores unknown sections: catch typos here
        section = key.removeprefix("PROSPECT_RELAY_").split("__")[0].lower()
        assert key.startswith("PROSPECT_RELAY_") and section in Settings.model_fields, key
    runtime = dockerfile_stages()[-1]
    image_env = dict(re.findall(r"(PROSPECT_RELAY_\w+)=(\S+)", _one(runtime, "ENV")))
    with environment({**image_env, **env}):
        return load_settings(ROOT / "config" / "relay.toml")


def test_compose_starts_postgres_then_migrate_then_two_relays() -> None:
    services = compose()["services"]
    assert set(services) >= {"postgres", "migrate", *RELAYS, "upstream"}
    assert "healthcheck" in services["postgres"]
    migrate = services["migrate"]
    assert migrate["command"] == ["prospect-relay", "db", "upgrade"]
    assert CliRunner().invoke(cli, ["db", "upgrade", "--help"]).exit_code == 0
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    ports: list[str] = []
    for name in RELAYS:
        relay = services[name]
        assert "command" not in relay and "entrypoint" not in relay  # the image's CMD: serve
        assert relay["image"] == migrate["image"]
        assert relay["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        context = (DEPLOY / relay["build"]["context"]).resolve()
        assert (context / relay["build"]["dockerfile"]) == ROOT / "Dockerfile"
        for volume in relay.get("volumes", []):
            assert (DEPLOY / volume.split(":")[0]).exists(), volume
        ports.extend(p.rsplit(":", 1)[0] for p in relay["ports"])
    assert len(ports) == len(set(ports))


def test_relays_and_migrate_share_database_and_secret_key() -> None:
    variables = {"PROSPECT_RELAY_SECRET_KEY": "k" * 64}
    with pytest.raises(AssertionError, match="PROSPECT_RELAY_SECRET_KEY is required"):
        service_settings("relay-1", {})
    loaded = {name: service_settings(name, variables) for name in ("migrate", *RELAYS)}
    postgres = compose()["services"]["postgres"]["environment"]
    for settings in loaded.values():
        assert settings.security.secret_key is not None
        assert settings.security.secret_key.get_secret_value() == "k" * 64
        url = settings.database.url
        assert url == loaded["migrate"].database.url
        assert url.startswith("postgresql+asyncpg://")
        assert f"@postgres:5432/{postgres['POSTGRES_DB']}" in url
        assert settings.upstream.host in compose()["services"]
        assert settings.smtp.host == "0.0.0.0" and settings.web.host == "0.0.0.0"
    assert loaded["relay-1"].audit.instance != loaded["relay-2"].audit.instance


# -- systemd unit ------------------------------------------------------------------------------


def unit() -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for raw in (DEPLOY / "prospect-relay.service").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
            continue
        key, _, value = line.partition("=")
        sections[current].append((key, value))
    return sections


def test_systemd_unit_is_hardened_and_reloads_with_sighup() -> None:
    service = dict(unit()["Service"])  # last value wins, as in systemd for these keys
    assert service.get("DynamicUser") == "yes" or service.get("User", "root") != "root"
    assert service["StateDirectory"] == "prospect-relay"
    assert service["ProtectSystem"] == "strict"
    assert service["ProtectHome"] == "yes"
    assert service["NoNewPrivileges"] == "yes"
    assert service["PrivateTmp"] == "yes"
    assert set(service["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["ExecStart"].endswith(
        "/prospect-relay serve --config /etc/prospect-relay/relay.toml"
    )
    assert float(service["TimeoutStopSec"]) > SmtpSettings().shutdown_grace


def test_systemd_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    """`verify` (syntax, executables) and `security` (exposure score) on the real tool."""
    # The console script next to the running interpreter: found with or without an activated
    # venv (PATH is not consulted).
    executable = str(Path(sys.executable).parent / "prospect-relay")
    assert Path(executable).is_file(), executable
    text = (DEPLOY / "prospect-relay.service").read_text()
    local = tmp_path / "prospect-relay.service"
    local.write_text(text.replace("/opt/prospect-relay/venv/bin/prospect-relay", executable))
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(local)], capture_output=True, text=True, timeout=30
    )
    assert verify.returncode == 0 and not verify.stderr.strip(), verify.stderr
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(local)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    match = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)
    assert match is not None, security.stdout + security.stderr
    assert float(match.group(1)) <= 2.0, security.stdout


# -- Postfix snippets --------------------------------------------------------------------------


def test_postfix_snippets_are_valid_postfix_configuration(tmp_path: Path) -> None:
    """postconf warns about unknown parameters and malformed master.cf lines."""
    for name in ("main.cf", "master.cf"):
        shutil.copy(DEPLOY / "postfix" / name, tmp_path / name)
    outputs = {}
    for flag in ("-n", "-P"):
        result = subprocess.run(
            ["/usr/sbin/postconf", "-c", str(tmp_path), flag],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
        outputs[flag] = result.stdout
    assert "relayhost = [127.0.0.1]:2525" in outputs["-n"]
    assert "587/inet/content_filter = prospect-relay:[127.0.0.1]:2525" in outputs["-P"]
    assert "127.0.0.1:10025/inet/content_filter =\n" in outputs["-P"]
