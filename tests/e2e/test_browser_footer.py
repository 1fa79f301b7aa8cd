"""Issue 12: copies delivered by the relay, their HTML rendered in headless Chromium: the footer
text is on the page (innerText: what is displayed, hidden elements excluded) and its
unsubscribe link is visible."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.browser_helpers import screenshot_path
from tests.e2e.conftest import SENDER, FullRelayFactory, make_message
from tests.unit.policy_factory import consented

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

MARIE = "marie@gmail.com"
FOOTER = "Ce message est une prospection commerciale de Acme Prospecting SAS"
SHAPES = {
    "hidden-preheader": (
        '<html><body><p>Offre -20 %</p><div style="display:none;max-height:0">'
        "preheader</body></html>"
    ),
    "unclosed-table": "<html><body><table><tr><td>Offre du mois</body></html>",
    "unterminated-comment": "<html><body><p>Offer!</p><!-- </body></html>",
}


def _html_parts(raw: bytes) -> list[str]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return [
        part.get_content()
        for part in message.walk()
        if part.get_content_type() == "text/html" and part.get_content_disposition() is None
    ]


@pytest.mark.parametrize("shape", sorted(SHAPES))
async def test_the_footer_is_on_the_rendered_page(
    full_relay: FullRelayFactory, browser: Browser, shape: str
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE)])
    message = make_message(MARIE, html=SHAPES[shape])
    assert (await relay.send(MARIE, message, sender=SENDER)).accepted
    [copy] = relay.delivered
    url = copy.content.split(b"List-Unsubscribe: <", 1)[1].split(b">", 1)[0].decode()

    shown: list[str] = []
    page = await browser.new_page()
    for index, html in enumerate(_html_parts(copy.content)):
        await page.set_content(html)
        text = await page.inner_text("body")
        shown.append(text)
        if FOOTER in " ".join(text.split()):
            link = page.locator(f'a[href="{url}"]').first
            await expect(link).to_be_visible()
            await page.screenshot(path=screenshot_path(f"footer-{shape}-{index}"), full_page=True)
    await page.close()
    assert any(FOOTER in " ".join(text.split()) for text in shown), shown
