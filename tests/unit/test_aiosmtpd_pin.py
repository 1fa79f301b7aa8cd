"""aiosmtpd is pinned exactly because proxy/smtp/server.py relies on its private members.

This fails when another aiosmtpd is installed or pinned (re-check each member, then move the
pin), when a listed member is gone, and when server.py starts using an unlisted one.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from aiosmtpd.smtp import SMTP

from proxy.smtp import server

ROOT = Path(__file__).resolve().parents[2]
PINNED = "1.4.6"


def test_installed_and_declared_version_is_the_pinned_one() -> None:
    assert version("aiosmtpd") == PINNED
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"aiosmtpd=={PINNED}" in deps


def test_every_listed_private_member_exists_in_aiosmtpd() -> None:
    instance_attrs = set(SMTP.__init__.__code__.co_names) | set(
        SMTP.connection_made.__code__.co_names
    )
    for name in server.AIOSMTPD_PRIVATE_MEMBERS:
        assert hasattr(SMTP, name) or name in instance_attrs, f"aiosmtpd.SMTP has no {name}"


def test_server_uses_no_unlisted_private_member_of_aiosmtpd() -> None:
    source = Path(server.__file__).read_text()
    used = set(re.findall(r"(?:self|super\(\))\.(_[A-Za-z]\w*)", source))
    ours = set(vars(server.RelaySMTP)) - set(vars(SMTP))
    instance_attrs = set(SMTP.__init__.__code__.co_names) | set(
        SMTP.connection_made.__code__.co_names
    )
    from_aiosmtpd = {n for n in used - ours if hasattr(SMTP, n) or n in instance_attrs}
    assert from_aiosmtpd <= set(server.AIOSMTPD_PRIVATE_MEMBERS), from_aiosmtpd - set(
        server.AIOSMTPD_PRIVATE_MEMBERS
    )


def test_sessions_find_every_command_and_auth_method_through_the_short_dir() -> None:
    """RelaySMTP.__dir__ lists only smtp_* and auth_* names (aiosmtpd's __init__ scans dir()
    on every connection): aiosmtpd must still find each command and AUTH mechanism."""
    from proxy.metrics import Metrics
    from proxy.settings import SmtpSettings
    from proxy.smtp.auth import Authenticator

    smtp = SmtpSettings()
    session = server.RelaySMTP(
        object(),
        settings=smtp,
        tracker=server.SessionTracker(smtp, Metrics()),
        authenticator=Authenticator({}),
        tls_context=None,
    )
    every = object.__dir__(session)
    commands = {name.removeprefix("smtp_") for name in every if name.startswith("smtp_")}
    mechanisms = {
        getattr(
            getattr(session, name),
            "__auth_mechanism_name__",
            name.removeprefix("auth_").replace("__", "-"),
        )
        for name in every
        if name.startswith("auth_")
    }
    assert {"EHLO", "MAIL", "RCPT", "DATA", "AUTH", "STARTTLS", "QUIT"} <= commands
    assert set(session._smtp_methods) == commands
    assert set(session._auth_methods) == mechanisms


def test_sessions_find_the_handlers_hooks_through_its_short_dir() -> None:
    """RelayHandler.__dir__ lists only its handle_* hooks (aiosmtpd scans dir(handler) and
    getattr's each member on every connection): each hook must still be found, and no
    AUTH method appears from the handler."""
    from proxy.metrics import Metrics
    from proxy.settings import SmtpSettings
    from proxy.smtp.auth import Authenticator
    from proxy.smtp.handler import RelayHandler

    smtp = SmtpSettings()
    metrics = Metrics()
    handler = RelayHandler(None, metrics)  # type: ignore[arg-type]  # the service is not called
    session = server.RelaySMTP(
        handler,
        settings=smtp,
        tracker=server.SessionTracker(smtp, metrics),
        authenticator=Authenticator({}),
        tls_context=None,
    )
    assert "exception" in session._handle_hooks
    every = object.__dir__(handler)
    hooks = {name.removeprefix("handle_") for name in every if name.startswith("handle_")}
    assert set(session._handle_hooks) == hooks
    assert all(impl.is_builtin for impl in session._auth_methods.values())
