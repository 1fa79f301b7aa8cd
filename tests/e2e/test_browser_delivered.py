"""A person opens the unsubscribe link of a delivered message in headless Chromium."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from proxy.model import SuppressionOrigin
from tests.e2e.browser_helpers import screenshot_path
from tests.e2e.conftest import FullRelayFactory
from tests.e2e.delivered import body_text, deliver_to, unsubscribe_links
from tests.unit.policy_factory import consented

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

MARIE = "marie@gmail.com"


async def test_link_from_the_delivered_message_unsubscribes_in_a_browser(
    full_relay: FullRelayFactory, browser: Browser
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE)])
    copy = await deliver_to(relay, MARIE)
    url, _ = unsubscribe_links(copy)
    assert url in body_text(copy, "html")  # the footer's link is the header's link

    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    await page.goto(relay.local_url(url))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Se désabonner")
    await expect(page.locator("main")).to_contain_text("Acme Prospecting SAS")
    assert await relay.store.is_suppressed(MARIE) == []  # opening the page changes nothing
    await page.get_by_role("button", name="Me désabonner").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes désabonné·e")
    await expect(page.get_by_role("status")).to_contain_text("Acme Prospecting SAS")
    await page.screenshot(path=screenshot_path("delivered-link-done"), full_page=True)
    await context.close()

    [entry] = await relay.store.is_suppressed(MARIE)
    assert entry.origin is SuppressionOrigin.PAGE
    again = await relay.send(MARIE)
    assert again.rcpt[MARIE].startswith("550 5.7.1 suppressed:"), again
    assert len(relay.delivered) == 1
