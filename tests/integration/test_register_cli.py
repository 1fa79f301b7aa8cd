"""The register commands through click's CliRunner, on a real database."""

from __future__ import annotations

import csv
import io
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr

from proxy.errors import ConfigError
from proxy.secrets import load_or_create_secret
from proxy.settings import SecuritySettings
from proxy.store import sha256_hash
from tests.integration.ops_helpers import Cli


def test_commands_refuse_an_old_schema_and_db_upgrade_fixes_it(run: Cli) -> None:
    result = run("contacts", "show", "a@x.fr", code=1)
    assert "run `prospect-relay db upgrade`" in result.output
    status = run("db", "status", code=1).output
    assert re.search(r"needs \d{4}: run `prospect-relay db upgrade`", status), status
    assert "upgraded from (empty) to revision" in run("db", "upgrade").output
    assert "up to date" in run("db", "upgrade").output
    assert "up to date" in run("db", "status").output
    run("contacts", "show", "a@x.fr")
    assert stat.S_IMODE(run.secret.stat().st_mode) == 0o600
    assert len(run.secret.read_text().strip()) == 64


def test_import_show_and_bad_rows(run: Cli) -> None:
    run("db", "upgrade")
    path = run.write(
        "contacts.csv",
        "email,kind,country,consent,consent_at,marketing_refused,customer_of\n"
        "Jo.Doe+x@Example.COM,b2c,fr,granted,2024-01-02,no,shoes;socks\n"
        "broken,b2c,FR,,,,\n"
        "z@ex.fr,b2b,DE,withdrawn,,yes,\n",
    )
    result = run("contacts", "import", path, code=1)
    assert f"{path}:3: email: not a valid address: 'broken'" in result.output
    assert "3 rows read: 2 inserted, 0 updated, 1 rejected; 1 suppressions created" in (
        result.output
    )
    shown = run("contacts", "show", "JO.DOE+X@example.com").output
    assert "jo.doe+x@example.com" in shown and "shoes; socks" in shown
    assert "suppressed:         no" in shown
    shown = run("contacts", "show", "z@ex.fr").output
    assert "scope global, origin objection" in shown


def test_unknown_column_is_one_clear_error(run: Cli) -> None:
    run("db", "upgrade")
    result = run("contacts", "import", run.write("c.csv", "email,colour\na@x.fr,red\n"), code=1)
    assert "unknown column 'colour'" in result.output
    assert "0 rows read" not in result.output
    result = run("contacts", "import", str(run.tmp_path / "missing.csv"), code=2)
    assert "does not exist" in result.output


def test_suppress_add_check_remove_scopes_and_domains(run: Cli) -> None:
    run("db", "upgrade")
    assert (
        "suppressed (controller:acme)"
        in run("suppress", "add", "a@x.fr", "--scope", "controller:acme").output
    )
    assert (
        "already suppressed"
        in run("suppress", "add", "A@X.fr", "--scope", "controller:acme").output
    )
    assert "scope controller:acme, origin manual" in run("suppress", "check", "a@x.fr").output
    run("suppress", "check", "a@x.fr", "--scope", "global", code=1)
    run("suppress", "add", "--domain", "Spam.example", "--scope", "national:at")
    assert (
        "domain suppressed, scope national:AT"
        in run("suppress", "check", "anyone@spam.example").output
    )
    assert (
        "1 suppression(s) removed"
        in run("suppress", "remove", "a@x.fr", "--scope", "controller:acme").output
    )
    assert "no suppression found" in run("suppress", "remove", "a@x.fr", code=1).output
    assert "not suppressed" in run("suppress", "check", "a@x.fr", code=1).output
    assert "bad scope" in run("suppress", "add", "b@x.fr", "--scope", "brand", code=2).output
    assert "exactly one" in run("suppress", "add", code=2).output
    assert "not a valid address" in run("suppress", "add", "nobody", code=2).output
    assert "64 hexadecimal" in run("suppress", "add", "--sha256", "abc", code=1).output


def test_suppress_import_export_round_trip_without_clear_text(run: Cli) -> None:
    run("db", "upgrade")
    plain = sha256_hash("other.tool@x.fr")
    source = run.write("optouts.csv", f"email\nA@x.fr\n{plain}\nwho?\n")
    result = run("suppress", "import", source, "--scope", "controller:acme", code=1)
    assert f"{source}:4: neither an address nor a SHA-256 hash" in result.output
    assert "3 rows read: 2 suppressions added, 0 already listed, 1 rejected" in result.output
    assert "origin import" in run("suppress", "check", "Other.Tool@x.fr").output
    exported = run("suppress", "export").output
    assert "@" not in exported
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == ["hash", "kind", "scope", "origin", "created_at"]
    assert sorted(row[1] for row in rows[1:]) == ["address", "sha256"]
    assert plain not in exported  # imported hashes are keyed: no one can test addresses
    out = run.tmp_path / "export.csv"
    assert "2 suppressions written" in run("suppress", "export", str(out)).output
    # Importing our own export keeps each entry's scope; nothing new is added twice.
    result = run("suppress", "import", str(out))
    assert "2 rows read: 0 suppressions added, 2 already listed, 0 rejected" in result.output


def test_consent_grant_withdraw_and_forget(run: Cli) -> None:
    run("db", "upgrade")
    result = run(
        "consent", "grant", "new@x.fr", "--method", "double-opt-in", "--proof", "form-12",
        "--controller", "acme", "--at", "2025-01-01",
    )  # fmt: skip
    assert "consent recorded for new@x.fr" in result.output
    shown = run("contacts", "show", "new@x.fr").output
    assert "double-opt-in" in shown and "2025-01-01" in shown and "form-12" in shown
    assert "suppression added" in run("consent", "withdraw", "new@x.fr").output
    result = run("consent", "grant", "new@x.fr", "--method", "checkbox")
    assert "still address suppressed" in result.output
    result = run("forget", "new@x.fr")
    assert "register entry erased" in result.output
    assert "suppression kept" in result.output
    shown = run("contacts", "show", "new@x.fr").output
    assert "not in the register" in shown and "origin objection" in shown
    assert "suppression added (origin erasure)" in run("forget", "other@x.fr").output
    assert (
        "invalid" in run("consent", "grant", "a@x.fr", "--method", "guess", code=2).output.lower()
    )


def test_bad_settings_are_one_line_not_a_traceback(run: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "relay.toml"
    bad.write_text("[database]\npool_size = 0\n")
    # Configuration problems exit 2 with `error: file: key: problem`, as in check-config.
    result = run("db", "status", "--config", str(bad), code=2)
    assert f"error: {bad}: database.pool_size:" in result.output
    run.env["PROSPECT_RELAY_DATABASE__URL"] = "mysql://x@localhost/db"
    assert "unsupported database" in run("db", "upgrade", code=2).output


def test_secret_is_created_once_and_the_setting_wins(tmp_path: Path) -> None:
    security = SecuritySettings(secret_file=tmp_path / "deep" / "secret.key")
    with ThreadPoolExecutor(4) as pool:
        keys = set(pool.map(lambda _: load_or_create_secret(security), range(8)))
    assert len(keys) == 1 and len(keys.pop()) == 64
    configured = SecuritySettings(secret_key=SecretStr("from-settings"), secret_file=tmp_path / "x")
    assert load_or_create_secret(configured) == b"from-settings"
    assert not (tmp_path / "x").exists()
    (tmp_path / "empty.key").write_text("\n")
    with pytest.raises(ConfigError, match="empty"):
        load_or_create_secret(SecuritySettings(secret_file=tmp_path / "empty.key"))
