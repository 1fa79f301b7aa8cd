"""A real browser (Debian's headless Chromium via Playwright) uses the unsubscribe page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from proxy.model import SuppressionOrigin
from tests.e2e.browser_helpers import screenshot_path
from tests.integration.web_helpers import Web, start_web

pytestmark = pytest.mark.browser


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    async for running in start_web(tmp_path):
        yield running


async def test_person_unsubscribes_with_the_button(browser: Browser, web: Web) -> None:
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    await page.goto(f"{web.base}/u/{web.token(language='fr')}")

    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Se désabonner")
    await expect(page.locator("main")).to_contain_text("ACME Industrie SAS")
    await expect(page.locator("main")).to_contain_text("Printemps 2026")
    await page.screenshot(path=screenshot_path("unsubscribe-page-desktop"), full_page=True)
    assert await web.suppressed() == []  # loading the page recorded nothing

    await page.get_by_role("button", name="Me désabonner").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes désabonné·e")
    await expect(page.get_by_role("status")).to_contain_text(
        "ACME Industrie SAS ne vous enverra plus de messages commerciaux."
    )
    await page.screenshot(path=screenshot_path("unsubscribe-done-desktop"), full_page=True)

    entries = await web.suppressed()
    assert [e.origin for e in entries] == [SuppressionOrigin.PAGE]
    # The inline stylesheet is allowed by its CSP hash: a mismatch would log a violation.
    assert not [text for text in blocked if "Content Security Policy" in text]
    await context.close()


async def test_page_fits_a_phone_screen(browser: Browser, web: Web) -> None:
    context = await browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="de-DE",
    )
    page = await context.new_page()
    await page.goto(f"{web.base}/u/{web.token(language='de')}")
    button = page.get_by_role("button", name="Abmelden")
    await expect(button).to_be_visible()
    # The inline stylesheet applied (its CSP hash matches): white on dark blue.
    await expect(button).to_have_css("background-color", "rgb(11, 83, 148)")
    box = await button.bounding_box()
    assert box is not None
    assert box["height"] >= 44  # a comfortable touch target
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360  # no horizontal scrolling
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    await page.screenshot(path=screenshot_path("unsubscribe-page-phone"), full_page=True)

    await button.tap()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sie sind abgemeldet")
    await page.screenshot(path=screenshot_path("unsubscribe-done-phone"), full_page=True)
    assert len(await web.suppressed()) == 1
    await context.close()
