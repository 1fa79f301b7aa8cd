"""axe-core, pinned in tests/a11y/package-lock.json, run inside the page by Playwright.

`npm ci` installs the locked version into tests/a11y/node_modules the first time (or when the
installed version is not the locked one); the script is evaluated through the DevTools
protocol, which the page's Content-Security-Policy (no script at all) does not govern.
"""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path
from typing import Any

from playwright.async_api import Page

__all__ = ["assert_accessible"]

A11Y = Path(__file__).resolve().parents[1] / "a11y"
AXE_PACKAGE = A11Y / "node_modules" / "axe-core"


def _locked_version() -> str:
    lock = json.loads((A11Y / "package-lock.json").read_text(encoding="utf-8"))
    return str(lock["packages"]["node_modules/axe-core"]["version"])


def _installed_version() -> str | None:
    manifest = AXE_PACKAGE / "package.json"
    if not manifest.exists():
        return None
    return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])


@functools.cache
def axe_source() -> str:
    if _installed_version() != _locked_version():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=A11Y,
            check=True,
            timeout=300,
        )
    return (AXE_PACKAGE / "axe.min.js").read_text(encoding="utf-8")


async def assert_accessible(page: Page) -> None:
    """No axe-core violation (WCAG 2.x A/AA and best practices) in the page as shown."""
    await page.evaluate(axe_source())
    result: dict[str, Any] = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(str(node["target"]) for node in v["nodes"])
        for v in result["violations"]
    ]
    assert violations == [], f"{page.url}: {violations}"
