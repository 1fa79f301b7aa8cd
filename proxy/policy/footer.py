"""Footer templates: the model of a `[footer.<lang>]` policy section and the shipped defaults.

Placeholders use str.format syntax; a template naming an unknown placeholder is a policy error.
"""

from __future__ import annotations

import string

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = ["DEFAULT_FOOTERS", "PLACEHOLDERS", "FooterTemplate"]

PLACEHOLDERS = frozenset(
    {
        "legal_name",
        "postal_address",
        "source",
        "unsubscribe_url",
        "unsubscribe_mailto",
        "privacy_url",
        "retention",
        "authority",
    }
)


class FooterTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    html: str
    notice_text: str  # GDPR art. 14 first-contact notice
    notice_html: str

    @field_validator("text", "html", "notice_text", "notice_html")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        for _, name, _, _ in string.Formatter().parse(value):
            if name is not None and name not in PLACEHOLDERS:
                raise ValueError(
                    f"unknown placeholder {{{name}}}; known: {', '.join(sorted(PLACEHOLDERS))}"
                )
        return value


DEFAULT_FOOTERS: dict[str, FooterTemplate] = {
    "en": FooterTemplate(
        text=(
            "This is a commercial prospecting message from {legal_name}, {postal_address}.\n"
            "We obtained your address from: {source}.\n"
            "Unsubscribe (free, one click): {unsubscribe_url}"
        ),
        html=(
            "<p>This is a commercial prospecting message from {legal_name}, {postal_address}."
            "<br>We obtained your address from: {source}.<br>"
            '<a href="{unsubscribe_url}">Unsubscribe (free, one click)</a></p>'
        ),
        notice_text=(
            "Why you receive this: {legal_name} processes your business address for "
            "prospecting on the basis of its legitimate interest. Source: {source}. "
            "Kept {retention} after our last contact. You may object at any time "
            "({unsubscribe_url}) and complain to {authority}. Privacy policy: {privacy_url}"
        ),
        notice_html=(
            "<p>Why you receive this: {legal_name} processes your business address for "
            "prospecting on the basis of its legitimate interest. Source: {source}. "
            "Kept {retention} after our last contact. You may "
            '<a href="{unsubscribe_url}">object at any time</a> and complain to {authority}. '
            '<a href="{privacy_url}">Privacy policy</a></p>'
        ),
    ),
}
