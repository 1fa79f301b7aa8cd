"""Footer templates and rendering: every language says everything, HTML stays inert."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from pydantic import ValidationError

from proxy.mime.footer_render import FooterValues, render_footer
from proxy.policy.footer_templates import (
    DEFAULT_FOOTERS,
    FooterTemplate,
    authority_for,
    retention_for,
)

VALUES = FooterValues(
    legal_name="Acme SAS",
    postal_address="1 rue de la Paix, 75002 Paris",
    source="Salon <b>Lyon</b> & Co",
    unsubscribe_url="https://relay.example/u/TOKEN?x=1&y=2",
    unsubscribe_mailto="mailto:unsubscribe@relay.example?subject=unsubscribe%20TOKEN",
    privacy_url="https://acme.example/privacy",
    retention="3 years",
    authority="the CNIL",
)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs.extend(value or "" for name, value in attrs if name == "href")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
@pytest.mark.parametrize("html", [False, True])
def test_footer_names_identity_source_unsubscribe(lang: str, html: bool) -> None:
    out = render_footer(DEFAULT_FOOTERS[lang], VALUES, html=html, notice=False)
    assert "Acme SAS" in out and "75002 Paris" in out
    assert "Lyon" in out
    assert "https://relay.example/u/TOKEN" in out
    commercial = {"fr": "prospection commerciale", "en": "commercial", "de": "Werbe"}[lang]
    assert commercial in out


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
@pytest.mark.parametrize("html", [False, True])
def test_notice_covers_article_14(lang: str, html: bool) -> None:
    out = render_footer(DEFAULT_FOOTERS[lang], VALUES, html=html, notice=True)
    footer_only = render_footer(DEFAULT_FOOTERS[lang], VALUES, html=html, notice=False)
    assert out.startswith(footer_only) and len(out) > len(footer_only)
    notice = out[len(footer_only) :]
    words = {
        "fr": ["responsable du traitement", "Base légale", "Source", "conservation", "opposer",
               "réclamation", "offres commerciales"],
        "en": ["controller", "Legal basis", "Source", "Retention", "object", "complaint",
               "commercial offers"],
        "de": ["Verantwortlicher", "Rechtsgrundlage", "Herkunft", "Speicherdauer",
               "widersprechen", "beschweren", "Angebote"],
    }[lang]  # fmt: skip
    for word in words:
        assert word in notice, word
    for value in ("https://acme.example/privacy", "3 years", "the CNIL", "Acme SAS"):
        assert value in notice


def test_html_values_are_escaped_and_cannot_inject_markup() -> None:
    out = render_footer(DEFAULT_FOOTERS["en"], VALUES, html=True, notice=True)
    parser = _Collector()
    parser.feed(out)
    assert "b" not in parser.tags  # the <b> of the source stayed text
    assert "Salon <b>Lyon</b> & Co" in "".join(parser.text)
    assert "https://relay.example/u/TOKEN?x=1&y=2" in parser.hrefs
    assert "&amp;" in out


def test_quote_in_value_cannot_break_out_of_attribute() -> None:
    values = FooterValues(
        legal_name="A",
        postal_address="B",
        source="x",
        unsubscribe_url='https://r.example/u/T" onclick="alert(1)',
    )
    out = render_footer(DEFAULT_FOOTERS["en"], values, html=True, notice=False)
    parser = _Collector()
    parser.feed(out)
    assert 'onclick="' not in out
    assert parser.hrefs == ['https://r.example/u/T" onclick="alert(1)']


def test_javascript_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="unsubscribe_url"):
        FooterValues("A", "B", "x", "javascript:alert(1)")


def test_text_values_are_one_line() -> None:
    values = FooterValues("Acme\r\nBcc: x", "B", "fair\x00 2025\n\n", "https://r.example/u/T")
    out = render_footer(DEFAULT_FOOTERS["en"], values, html=False, notice=False)
    assert "Acme Bcc: x" in out and "fair 2025." in out
    assert "\x00" not in out


def test_unknown_placeholder_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="unknown placeholder"):
        FooterTemplate(text="{legal_nam}", html="", notice_text="", notice_html="")
    with pytest.raises(ValidationError, match="unknown placeholder"):
        FooterTemplate(text="{source.__class__}", html="", notice_text="", notice_html="")


@pytest.mark.parametrize(
    ("lang", "country", "expected"),
    [
        ("fr", "FR", "la CNIL"),
        ("en", "fr", "CNIL"),
        ("de", "FR", "der CNIL"),
        ("fr", "BE", "l'autorité"),
        ("en", None, "supervisory authority"),
        ("xx", "DE", "supervisory authority"),
    ],
)
def test_authority(lang: str, country: str | None, expected: str) -> None:
    assert expected in authority_for(lang, country)


@pytest.mark.parametrize(
    ("lang", "days", "expected"),
    [("fr", 1095, "3 ans"), ("en", 365, "1 year"), ("de", 540, "18 Monate"), ("en", 10, "10 days")],
)
def test_retention(lang: str, days: int, expected: str) -> None:
    assert retention_for(lang, days) == expected


def test_every_template_uses_only_declared_placeholders() -> None:
    for template in DEFAULT_FOOTERS.values():
        for text in (template.text, template.html, template.notice_text, template.notice_html):
            assert set(re.findall(r"{(\w+)}", text)) <= {
                "legal_name", "postal_address", "source", "unsubscribe_url",
                "unsubscribe_mailto", "privacy_url", "retention", "authority",
            }  # fmt: skip
