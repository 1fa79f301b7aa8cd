"""The committed locks agree with pyproject.toml, so `scripts/venv` installs what it promises.

Offline checks on the files themselves: a dependency added to or removed from pyproject without
`scripts/lock`, a range the locked version falls outside of, an exact pin that differs, a
runtime lock that drifted from the test lock, or an entry without hashes all fail here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def _lock(name: str) -> dict[str, tuple[str, list[str], list[str]]]:
    """Package -> (version, hashes, what it is required by), from a pip-compile lock."""
    entries: dict[str, tuple[str, list[str], list[str]]] = {}
    current: str | None = None
    via_block = False
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        match = _ENTRY.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            entries[current] = (match.group(2), [], [])
            via_block = False
            continue
        stripped = line.strip()
        if current is None or not stripped:
            continue
        if stripped.startswith("--hash="):
            entries[current][1].append(stripped.removeprefix("--hash=").rstrip(" \\"))
        elif stripped.startswith("# via"):
            rest = stripped.removeprefix("# via").strip()
            via_block = not rest
            if rest:
                entries[current][2].append(rest)
        elif via_block and stripped.startswith("#"):
            entries[current][2].append(stripped.lstrip("# ").strip())
    return entries


def _requirements(extra: str | None) -> list[Requirement]:
    project = PYPROJECT["project"]
    raw = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(item) for item in raw]


def _direct(lock: dict[str, tuple[str, list[str], list[str]]]) -> set[str]:
    return {
        name
        for name, (_, _, via) in lock.items()
        if any(v.startswith("prospect-relay") and "build-system" not in v for v in via)
    }


@pytest.mark.parametrize(
    ("lock_name", "extras"), [("runtime.lock", [None]), ("test.lock", [None, "test"])]
)
def test_lock_satisfies_every_pyproject_requirement(
    lock_name: str, extras: list[str | None]
) -> None:
    lock = _lock(lock_name)
    wanted = [req for extra in extras for req in _requirements(extra)]
    for req in wanted:
        name = canonicalize_name(req.name)
        assert name in lock, f"{req} is in pyproject.toml but not in {lock_name}: run scripts/lock"
        version = lock[name][0]
        assert req.specifier.contains(version, prereleases=True), (
            f"{lock_name} has {name}=={version}, outside pyproject's {req}: run scripts/lock"
        )
    # Nothing locked as a direct dependency that pyproject no longer asks for.
    assert _direct(lock) == {canonicalize_name(req.name) for req in wanted}


def test_every_locked_package_has_hashes() -> None:
    for lock_name in ("runtime.lock", "test.lock"):
        for name, (version, hashes, _) in _lock(lock_name).items():
            assert hashes and all(h.startswith("sha256:") for h in hashes), (
                f"{lock_name}: {name}=={version} has no sha256 hash"
            )


def test_runtime_lock_is_the_test_lock_restricted_to_runtime() -> None:
    runtime, test = _lock("runtime.lock"), _lock("test.lock")
    for name, (version, hashes, _) in runtime.items():
        assert name in test, f"{name} is in runtime.lock only"
        assert test[name][0] == version, f"{name}: runtime {version}, test {test[name][0]}"
        assert set(hashes) == set(test[name][1]), f"{name}: hashes differ between the locks"


def test_lint_and_type_tools_are_pinned_exactly() -> None:
    pins = {canonicalize_name(r.name): r for r in _requirements("test")}
    for tool in ("mypy", "ruff"):
        (spec,) = pins[tool].specifier
        assert spec.operator == "==", f"{tool} must be pinned exactly, not {spec}"


def test_build_backend_is_locked() -> None:
    """scripts/venv installs with --no-build-isolation: setuptools must come from the lock."""
    backend = Requirement(PYPROJECT["build-system"]["requires"][0])
    for lock_name in ("runtime.lock", "test.lock"):
        version = _lock(lock_name)[canonicalize_name(backend.name)][0]
        assert backend.specifier.contains(version)


def test_parser_reads_a_known_entry() -> None:
    """The parser itself: a pinned, hashed, directly required entry is read in full."""
    version, hashes, via = _lock("runtime.lock")["aiosmtpd"]
    assert version == "1.4.6" and len(hashes) >= 1 and any("prospect-relay" in v for v in via)
