"""Helpers of the CLI tests: run the real CLI against the test database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner, Result

from proxy.cli import cli

POLICY = """
[controllers.example]
legal_name = "Example SAS"
postal_address = "10 rue de l'Exemple, 75002 Paris, France"
domains = ["example.com"]
privacy_url = "https://example.com/privacy"

[retention]
prospect_months = {prospect_months}
customer_months = {customer_months}
"""


def write_config(
    tmp_path: Path,
    database_url: str,
    *,
    audit_days: int = 1095,
    prospect_months: int = 36,
    customer_months: int = 36,
) -> Path:
    """A relay.toml (and policy.toml) pointing at the test database."""
    policy = tmp_path / "policy.toml"
    policy.write_text(
        POLICY.format(prospect_months=prospect_months, customer_months=customer_months)
    )
    config = tmp_path / "relay.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n\n'
        f'[policy]\nfile = "{policy}"\n\n'
        f"[audit]\nretention_days = {audit_days}\n"
    )
    return config


async def run_cli(*args: str) -> Result:
    """Invoke `prospect-relay ARGS` in a worker thread (the command runs its own event loop)."""
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, cli, list(args), catch_exceptions=False)


class Cli:
    """`run("contacts", "show", ADDRESS)`: the CLI in-process on the test database and a
    secret under tmp_path, asserting the exit code (0 unless `code=`) and no traceback."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.secret = tmp_path / "var" / "secret.key"
        self.env = {
            "PROSPECT_RELAY_DATABASE__URL": url,
            "PROSPECT_RELAY_SECURITY__SECRET_FILE": str(self.secret),
        }

    def __call__(self, *args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(cli, list(args), env=self.env, catch_exceptions=False)
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        return result

    def write(self, name: str, text: str) -> str:
        path = self.tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)
