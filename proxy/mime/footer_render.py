"""Render a footer template with one recipient's values, escaped for HTML."""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from proxy.policy.footer_templates import FooterTemplate

__all__ = ["FooterValues", "render_footer"]

_SPACES = re.compile(r"\s+")
_URL_FIELDS = ("unsubscribe_url", "unsubscribe_mailto", "privacy_url")
_SCHEMES = ("https://", "http://", "mailto:")
_PER_RECIPIENT = ("unsubscribe_url", "unsubscribe_mailto")  # they carry the recipient's token


@dataclass(frozen=True, slots=True)
class FooterValues:
    """One value per placeholder of proxy.policy.footer_templates.PLACEHOLDERS."""

    legal_name: str
    postal_address: str
    source: str
    unsubscribe_url: str
    unsubscribe_mailto: str = ""
    privacy_url: str = ""
    retention: str = ""
    authority: str = ""

    def __post_init__(self) -> None:
        # A value from a register or header must not smuggle a javascript: link into href.
        for name in _URL_FIELDS:
            value = getattr(self, name)
            if value and not value.lower().startswith(_SCHEMES):
                raise ValueError(f"{name} must be an http(s) or mailto URL")


def _clean(value: str) -> str:
    """One line of printable text: data sources come from CSV imports and client headers.

    Format characters (bidi overrides such as U+202E, zero-width marks) are dropped: they
    would make the footer read differently from what it says. Other non-printable
    characters (controls, line and paragraph separators) become spaces.
    """
    if value.isprintable() and "  " not in value and value.strip(" ") == value:
        return value  # the only whitespace a printable string holds is single inner spaces
    return _printable_line(value)


def _printable_line(value: str) -> str:
    """`_clean` the long way: every character looked at."""
    printable = "".join(
        char if char.isprintable() else "" if unicodedata.category(char) == "Cf" else " "
        for char in value
    )
    return _SPACES.sub(" ", printable).strip()


def render_footer(
    template: FooterTemplate, values: FooterValues, html: bool, notice: bool, footer: bool = True
) -> str:
    """The footer and/or (with `notice`) the GDPR art. 14 notice after it, text or HTML.

    `footer=False` renders the notice alone: in the policy's `require` footer mode the
    message carries its own footer and the relay adds only what it lacks.

    In HTML every value is escaped, quotes included, since URLs land in href attributes:
    a source such as `<b>Fair & Co</b>` shows as typed and cannot inject markup.
    """
    cleaned = dict(
        _shared_values(
            values.legal_name,
            values.postal_address,
            values.source,
            values.privacy_url,
            values.retention,
            values.authority,
            html,
        )
    )
    for name in _PER_RECIPIENT:
        cleaned[name] = _prepare(getattr(values, name), html)
    if html:
        chosen = [(footer, template.html), (notice, template.notice_html)]
    else:
        chosen = [(footer, template.text), (notice, template.notice_text)]
    parts = [text.format_map(cleaned) for wanted, text in chosen if wanted]
    return ("\n" if html else "\n\n").join(parts)


def _prepare(value: str, html: bool) -> str:
    value = _clean(value)
    return html_lib.escape(value, quote=True) if html else value


@lru_cache(maxsize=256)
def _shared_values(
    legal_name: str,
    postal_address: str,
    source: str,
    privacy_url: str,
    retention: str,
    authority: str,
    html: bool,
) -> dict[str, str]:
    """The values every recipient of a controller and source shares, prepared once (the
    caller copies the dict: cached values must not change)."""
    return {
        "legal_name": _prepare(legal_name, html),
        "postal_address": _prepare(postal_address, html),
        "source": _prepare(source, html),
        "privacy_url": _prepare(privacy_url, html),
        "retention": _prepare(retention, html),
        "authority": _prepare(authority, html),
    }
