"""Render a footer template with one recipient's values, escaped for HTML."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import asdict, dataclass

from proxy.policy.footer import FooterTemplate

__all__ = ["FooterValues", "render_footer"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]+")
_SPACES = re.compile(r"\s+")
_URL_FIELDS = ("unsubscribe_url", "unsubscribe_mailto", "privacy_url")
_SCHEMES = ("https://", "http://", "mailto:")


@dataclass(frozen=True, slots=True)
class FooterValues:
    """One value per placeholder of proxy.policy.footer.PLACEHOLDERS."""

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
    """One line of printable text: data sources come from CSV imports and client headers."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()


def render_footer(template: FooterTemplate, values: FooterValues, html: bool, notice: bool) -> str:
    """The footer (and, with `notice`, the GDPR art. 14 notice after it), text or HTML.

    In HTML every value is escaped, quotes included, since URLs land in href attributes:
    a source such as `<b>Fair & Co</b>` shows as typed and cannot inject markup.
    """
    cleaned = {name: _clean(value) for name, value in asdict(values).items()}
    if html:
        cleaned = {name: html_lib.escape(value, quote=True) for name, value in cleaned.items()}
        parts = [template.html.format_map(cleaned)]
        if notice:
            parts.append(template.notice_html.format_map(cleaned))
        return "\n".join(parts)
    parts = [template.text.format_map(cleaned)]
    if notice:
        parts.append(template.notice_text.format_map(cleaned))
    return "\n\n".join(parts)
