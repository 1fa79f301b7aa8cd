"""Import direction between layers: the core never imports the SMTP listener, and the
policy (the compliance engine) imports only value types, pure helpers and itself.

The service, the compliance step, the forwarder and the reply table are imported by
`proxy.smtp`, never the other way round (a loop service <-> smtp existed while the reply
table lived in `proxy/smtp/replies.py`).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import proxy

PROXY = Path(proxy.__file__).parent
CORE = (
    "service.py",
    "compliance.py",
    "copies.py",
    "local_mail.py",
    "forward.py",
    "replies.py",
    "model.py",
)


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


@pytest.mark.parametrize("name", CORE)
def test_core_modules_import_nothing_from_the_smtp_layer(name: str) -> None:
    imported = _imported_modules(PROXY / name)
    assert not {m for m in imported if m == "proxy.smtp" or m.startswith("proxy.smtp.")}


def test_the_smtp_layer_sends_no_reply_literal() -> None:
    """Every reply line of `proxy.smtp` comes from `proxy.replies` (no "250 ..." strings)."""
    for path in (PROXY / "smtp").glob("*.py"):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not _looks_like_reply(node.value), (path.name, node.value)


def _looks_like_reply(text: str) -> bool:
    head = text[:4]
    return len(head) == 4 and head[:3].isdigit() and head[0] in "2345" and head[3] in " -"


_POLICY_MAY_IMPORT = ("proxy.model", "proxy.errors", "proxy.networks", "proxy.policy")


@pytest.mark.parametrize(
    "path", sorted((PROXY / "policy").rglob("*.py")), ids=lambda p: str(p.relative_to(PROXY))
)
def test_the_policy_imports_only_value_types_and_itself(path: Path) -> None:
    """The compliance engine stays pure: no settings, store, SMTP or mime layer."""
    ours = {m for m in _imported_modules(path) if m == "proxy" or m.startswith("proxy.")}
    outside = {m for m in ours if not m.startswith(_POLICY_MAY_IMPORT)}
    assert not outside, outside


def test_the_policy_loads_no_io_library() -> None:
    """Transitively too (a fresh interpreter: this one has them loaded already)."""
    code = (
        "import sys, proxy.policy.engine, proxy.policy.mode, proxy.policy.placement\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'aiosmtpd', 'aiosmtplib', 'sqlalchemy', 'dkim'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
