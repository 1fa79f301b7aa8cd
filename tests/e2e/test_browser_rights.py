"""The recipient's side in headless Chromium: why am I receiving this, a copy, erasure.

Each test delivers a real message through the relay to the recording upstream, opens the
footer's link in the browser and follows the page's own links and buttons; axe-core checks
every page state it shows.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import date, timedelta
from email.message import EmailMessage

import pytest
from playwright.async_api import Browser, Page, expect

from proxy.model import ConsentMethod, Contact
from proxy.secrets import load_or_create_secret
from proxy.tokens import TokenSigner
from tests.conftest import Received
from tests.e2e.axe import assert_accessible
from tests.e2e.browser_helpers import screenshot_path
from tests.e2e.conftest import RELAY_HOSTNAME, FullRelay, FullRelayFactory, mailbox
from tests.e2e.delivered import deliver_to, unsubscribe_links
from tests.unit.policy_factory import consented, customer, prospect

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

MARIE = "marie@gmail.com"
ANNA = "anna@gmail.com"
PAUL = "paul.martin@client.fr"
RIGHTS_FROM = f"privacy@{RELAY_HOSTNAME}"
PHONE = {"width": 375, "height": 740}
WHY_FR = "Pourquoi est-ce que je reçois ce message ?"


async def _delivered_link(relay: FullRelay, address: str, headers: dict[str, str]) -> str:
    copy = await deliver_to(relay, address, headers=headers)
    url, _ = unsubscribe_links(copy)
    await relay.flush_audit()  # the send record the page reads
    return relay.local_url(url)


async def _relay_and_link(
    full_relay: FullRelayFactory, contact: Contact, headers: dict[str, str]
) -> tuple[FullRelay, str]:
    """A relay whose register holds `contact`, and the footer link of a copy sent to them."""
    relay = await full_relay()
    await relay.store.upsert_contacts([contact])
    return relay, await _delivered_link(relay, contact.email, headers)


async def _shows(page: Page, *texts: str) -> None:
    main = page.locator("main")
    for text in texts:
        await expect(main).to_contain_text(text)


async def _open_why(browser: Browser, url: str, link: str) -> Page:
    """The footer's link, then the page's own "why" link, as a person would."""
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(url)
    await page.get_by_role("link", name=link).click()
    await assert_accessible(page)
    return page


async def _fits_phone(page: Page) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


def _copies(relay: FullRelay, address: str) -> list[Received]:
    """The copies of their data the relay mailed to `address` (From privacy@<relay>)."""
    return [m for m in mailbox(relay.delivered, address) if m.mail_from == RIGHTS_FROM]


def _text(received_content: bytes) -> str:
    message = email.message_from_bytes(received_content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def test_consent_contact_reads_why_gets_a_copy_then_erases(
    full_relay: FullRelayFactory,
    browser: Browser,
) -> None:
    relay, url = await _relay_and_link(
        full_relay, consented(MARIE), {"X-Prospect-Campaign": "spring"}
    )
    page = await _open_why(browser, url, WHY_FR)

    main = page.locator("main")
    await expect(page.get_by_role("heading", level=1)).to_have_text(WHY_FR)
    await _shows(
        page,
        "Acme Prospecting SAS",
        "1 rue de la Paix, 75002 Paris, France",
        "newsletter form on acme.fr",
        "2025-03-10",  # collected, and consent date
        "Telle qu'enregistrée à l'envoi du message",
        "votre consentement",
        "checkbox",
        "spring",
        "Le 2028-03-10 au plus tard",  # 36 months
    )
    await expect(main).not_to_contain_text(MARIE)  # the address itself is never shown
    await expect(main).not_to_contain_text("form-log-123")  # nor the proof: that is the copy
    await _fits_phone(page)
    await page.screenshot(path=screenshot_path("rights-why-consent-fr-phone"), full_page=True)

    # A copy (art. 15): mailed to the address itself, in French, recorded.
    await page.get_by_role("button", name="M'envoyer une copie de mes données").click()
    await expect(page.get_by_role("status")).to_contain_text("Une copie de vos données")
    await assert_accessible(page)
    await page.screenshot(path=screenshot_path("rights-copy-sent-fr-phone"), full_page=True)
    [copy] = _copies(relay, MARIE)
    text = _text(copy.content)
    assert copy.rcpt_tos == [MARIE]
    assert "Vos données détenues par Acme Prospecting SAS" in email.message_from_bytes(
        copy.content, policy=email.policy.default
    ).get("Subject", "")
    for held in ("newsletter form on acme.fr", "form-log-123", "(consent_at): 2025-03-10"):
        assert held in text
    assert "spring  rewrite  consent" in text  # the decision recorded for the message

    # Asking again the same day sends nothing more: the mailbox already has it.
    await page.get_by_role("link", name="Retour aux explications").click()
    await page.get_by_role("button", name="M'envoyer une copie de mes données").click()
    await expect(page.get_by_role("status")).to_contain_text("déjà été envoyée")
    await assert_accessible(page)
    assert len(_copies(relay, MARIE)) == 1

    # Erasure (art. 17): a confirmation step, then the same erasure as `forget`.
    await page.get_by_role("link", name="Retour aux explications").click()
    await page.get_by_role("link", name="Effacer mes données").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Effacer mes données")
    await assert_accessible(page)
    await page.screenshot(path=screenshot_path("rights-erase-confirm-fr-phone"), full_page=True)
    assert await relay.store.get_contact(MARIE) is not None  # the GET erased nothing
    await page.get_by_role("button", name="Oui, effacer mes données").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vos données sont effacées")
    await assert_accessible(page)
    await page.screenshot(path=screenshot_path("rights-erase-done-fr-phone"), full_page=True)

    again = await relay.send(MARIE)
    assert again.rcpt[MARIE].startswith("550 5.7.1 suppressed:"), again
    shown = await relay.cli("contacts", "show", MARIE)
    assert "not in the register" in shown.output, shown.output
    assert "newsletter" not in shown.output and "origin erasure" in shown.output, shown.output

    # The why page now says the register holds nothing.
    await page.goto(url.rstrip("/") + "/why")
    await expect(page.locator("main")).to_contain_text(
        "Le registre ne contient aucune donnée sur votre adresse."
    )
    await assert_accessible(page)

    listed = await relay.cli("requests", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert '"kind": "access"' in listed.output and '"kind": "erasure"' in listed.output
    assert '"status": "fulfilled"' in listed.output and '"status": "open"' not in listed.output
    assert "erased: register entry deleted" in listed.output
    report = await relay.cli("report", "--format", "csv")
    assert "request,access,fulfilled,1" in report.output, report.output
    assert "request,erasure,fulfilled,1" in report.output, report.output


@pytest.mark.parametrize(
    ("contact", "headers", "texts", "shot"),
    [
        pytest.param(
            customer(MARIE),
            {"X-Prospect-Campaign": "shoes", "X-Prospect-Product": "running"},
            (
                "vous êtes client·e",
                "Famille de produits de l'offre",
                "running",
                "your order on acme-shop.example",
                "Le 2028-11-15 au plus tard",
            ),
            "rights-why-soft-optin-fr-phone",
            id="soft-optin-customer-sees-the-product-family",
        ),
        pytest.param(
            prospect(PAUL),
            {"X-Prospect-Targets": "finance;purchasing"},
            (
                "intérêt légitime",
                "Votre fonction telle qu'enregistrée",
                "finance, purchasing",
                "trade fair 2025",
            ),
            "rights-why-b2b-fr-phone",
            id="b2b-contact-sees-the-relevance-checked",
        ),
    ],
)
async def test_the_why_page_explains_the_basis(
    full_relay: FullRelayFactory,
    browser: Browser,
    contact: Contact,
    headers: dict[str, str],
    texts: tuple[str, ...],
    shot: str,
) -> None:
    _, url = await _relay_and_link(full_relay, contact, headers)
    page = await _open_why(browser, url, WHY_FR)
    await _shows(page, *texts)
    await page.screenshot(path=screenshot_path(shot), full_page=True)


async def test_german_consent_contact_gets_a_german_page_and_copy(
    full_relay: FullRelayFactory,
    browser: Browser,
) -> None:
    anna = consented(ANNA, country="DE", consent_method=ConsentMethod.DOUBLE_OPT_IN)
    relay, url = await _relay_and_link(full_relay, anna, {"X-Prospect-Campaign": "herbst"})
    page = await _open_why(browser, url, "Warum erhalte ich diese Nachricht?")
    await expect(page.locator("html")).to_have_attribute("lang", "de")
    await _shows(page, "Ihre Einwilligung", "double-opt-in")
    await page.screenshot(path=screenshot_path("rights-why-consent-de-phone"), full_page=True)
    await page.get_by_role("button", name="Kopie meiner Daten senden").click()
    await expect(page.get_by_role("status")).to_contain_text("Eine Kopie Ihrer Daten")
    [copy] = _copies(relay, ANNA)
    assert "Registereintrag" in _text(copy.content)


@pytest.mark.parametrize("language", ["en", "fr", "de", "es", "it", "nl"])
async def test_every_language_and_page_state_is_accessible(
    full_relay: FullRelayFactory,
    browser: Browser,
    language: str,
) -> None:
    relay, url = await _relay_and_link(full_relay, consented(MARIE), {})
    signer = _signer(relay)
    token = signer.verify(url.rsplit("/", 1)[1])
    base = url.rsplit("/", 1)[0] + "/" + signer.sign(replace(token, language=language))
    context = await browser.new_context()
    page = await context.new_page()
    for path in ("", "/why", "/erase"):
        await page.goto(base + path)
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await assert_accessible(page)
    await page.goto(base + "/why")
    await page.screenshot(path=screenshot_path(f"rights-why-{language}-desktop"), full_page=True)
    await context.close()


def _signer(relay: FullRelay) -> TokenSigner:
    security = relay.settings.security
    return TokenSigner([load_or_create_secret(security)], security.token_max_age_days)


async def test_forged_or_expired_token_sees_nothing(
    full_relay: FullRelayFactory,
    browser: Browser,
) -> None:
    relay, url = await _relay_and_link(
        full_relay, consented(MARIE), {"X-Prospect-Campaign": "spring"}
    )
    prefix, raw = url.rsplit("/", 1)
    signer = _signer(relay)
    token = signer.verify(raw)
    old = date.today() - timedelta(days=relay.settings.security.token_max_age_days + 1)
    expired = signer.sign(replace(token, issued=old))
    forged = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    context = await browser.new_context()
    page = await context.new_page()
    for bad in (forged, expired):
        for path in ("/why", "/erase"):
            response = await page.goto(f"{prefix}/{bad}{path}")
            assert response is not None and response.status == 400
            await expect(page.locator("main")).not_to_contain_text("Acme")
            await expect(page.locator("main")).not_to_contain_text("newsletter")
            await assert_accessible(page)
        for path in ("/copy", "/erase"):
            status, body = await relay.post_form(f"{prefix}/{bad}{path}", {"confirm": "erase"})
            assert status == 400 and "Acme" not in body
    await page.screenshot(path=screenshot_path("rights-bad-token"), full_page=True)
    await context.close()
    assert await relay.store.get_contact(MARIE) is not None
    assert _copies(relay, MARIE) == []
