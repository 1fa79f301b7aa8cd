"""HTML of the recipient's side: why page, copy result, erase confirmation and result.

Same layout, stylesheet and rules as the unsubscribe pages (proxy.web.pages): no script, no
external resource, every inserted value escaped. Links and forms are relative to the
page's own URL (/u/<token>/why, /copy, /erase), so a public URL with a path keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from proxy.model import Basis
from proxy.policy.footer_templates import authority_for
from proxy.rights.explain import BasisSource, Explanation
from proxy.rights.texts import TEXTS
from proxy.web.i18n import STRINGS
from proxy.web.pages import layout

__all__ = [
    "ControllerInfo",
    "render_copy_page",
    "render_erase_confirm_page",
    "render_erase_done_page",
    "render_why_page",
]

# Details of a basis, in display order, with their label keys.
_DETAIL_LABELS = (
    ("consent_at", "consent_at_label"),
    ("consent_method", "consent_method_label"),
    ("product", "product_label"),
    ("customer_of", "customer_of_label"),
    ("job_function", "job_label"),
    ("targets", "targets_label"),
)
_BACK = "why"  # relative to /u/<token>/<page>


@dataclass(frozen=True, slots=True)
class ControllerInfo:
    """The token's controller as the policy names it (None fields: no longer in the policy)."""

    legal_name: str | None
    postal_address: str | None
    privacy_url: str | None


def _sender(language: str, controller: ControllerInfo) -> str:
    return controller.legal_name or STRINGS[language]["unknown_sender"]


def _entry(label: str, value: str, *, link: bool = False) -> str:
    shown = escape(value)
    if link:
        shown = f'<a href="{shown}" rel="noopener noreferrer">{shown}</a>'
    return f"<dt>{escape(label)}</dt><dd>{shown}</dd>\n"


def _is_http(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith(("https://", "http://"))


def _controller_section(language: str, controller: ControllerInfo, country: str | None) -> str:
    words = TEXTS[language]
    rows = _entry(words["controller_label"], _sender(language, controller))
    if controller.postal_address:
        rows += _entry(words["postal_label"], controller.postal_address)
    if controller.privacy_url and _is_http(controller.privacy_url):
        rows += _entry(words["privacy_label"], controller.privacy_url, link=True)
    rows += _entry(words["authority_label"], authority_for(language, country))
    return f"<h2>{escape(words['controller_heading'])}</h2>\n<dl>\n{rows}</dl>\n"


def _source_section(language: str, campaign: str | None, why: Explanation) -> str:
    words = TEXTS[language]
    rows = ""
    if campaign:
        rows += _entry(STRINGS[language]["campaign_label"], campaign)
    rows += _entry(words["source_label"], why.source or words["not_recorded"])
    rows += _entry(
        words["collected_label"],
        why.collected_at.isoformat() if why.collected_at else words["not_recorded"],
    )
    return f"<h2>{escape(words['source_heading'])}</h2>\n<dl>\n{rows}</dl>\n"


def _detail_value(language: str, key: str, value: str) -> str:
    if key == "consent_method":
        label = TEXTS[language].get(f"method_{value}")
        return f"{label} ({value})" if label else value
    if key == "targets":
        return value.replace(";", ", ")
    return value


def _basis_section(language: str, why: Explanation, audit_days: int) -> str:
    words = TEXTS[language]
    heading = f"<h2>{escape(words['basis_heading'])}</h2>\n"
    if why.basis_source is BasisSource.UNKNOWN:
        return heading + f"<p>{escape(words['basis_unknown'])}</p>\n"
    if why.basis_source is BasisSource.RECORDED and why.sent_at is not None:
        lead = words["basis_recorded"].format(date=why.sent_at.date().isoformat())
    else:
        lead = words["basis_recomputed"].format(days=audit_days)
    basis = words.get(f"basis_{why.basis.value}", words[f"basis_{Basis.NONE.value}"])
    rows = "".join(
        _entry(words[label], _detail_value(language, key, why.detail[key]))
        for key, label in _DETAIL_LABELS
        if why.detail.get(key)
    )
    details = f"<dl>\n{rows}</dl>\n" if rows else ""
    return heading + f"<p>{escape(lead)}</p>\n<p><strong>{escape(basis)}</strong></p>\n{details}"


def _retention_section(language: str, sender: str, why: Explanation) -> str:
    words = TEXTS[language]
    if not why.in_register:
        text = words["nothing_held"]
    elif why.deletion is not None:
        text = words["retention_date"].format(date=why.deletion.isoformat(), sender=sender)
    else:
        text = words["retention_none"]
    return f"<h2>{escape(words['retention_heading'])}</h2>\n<p>{escape(text)}</p>\n"


def _rights_section(language: str) -> str:
    words = TEXTS[language]
    return (
        f"<h2>{escape(words['rights_heading'])}</h2>\n"
        f"<p>{escape(words['copy_intro'])}</p>\n"
        '<form method="post" action="copy">\n'
        f'<button type="submit">{escape(words["copy_button"])}</button>\n'
        "</form>\n"
        f"<p>{escape(words['erase_intro'])}</p>\n"
        f'<p><a href="erase">{escape(words["erase_button"])}</a></p>\n'
    )


def render_why_page(
    language: str,
    controller: ControllerInfo,
    campaign: str | None,
    why: Explanation,
    audit_days: int,
) -> str:
    """Who, from where, on what basis, until when; and the two buttons of the rights."""
    words = TEXTS[language]
    sender = _sender(language, controller)
    body = (
        f"<p>{escape(words['why_intro'])}</p>\n"
        + _controller_section(language, controller, why.country)
        + _source_section(language, campaign, why)
        + _basis_section(language, why, audit_days)
        + _retention_section(language, sender, why)
        + _rights_section(language)
    )
    return layout(language, words["why_title"], body)


def _back(language: str) -> str:
    return f'<p class="note"><a href="{_BACK}">{escape(TEXTS[language]["back_link"])}</a></p>\n'


def render_copy_page(language: str, key: str, sent_on: str = "") -> str:
    """After the copy button: `key` is copy_sent_body, copy_recent_body or copy_nothing_body."""
    words = TEXTS[language]
    body = f'<p role="status">{escape(words[key].format(date=sent_on))}</p>\n' + _back(language)
    return layout(
        language, words["copy_sent_title" if key != "copy_nothing_body" else "why_title"], body
    )


def render_erase_confirm_page(language: str) -> str:
    """The confirmation step: nothing is erased by a GET (link scanners follow links)."""
    words = TEXTS[language]
    body = (
        f"<p>{escape(words['erase_confirm_intro'])}</p>\n"
        # No action attribute: the form posts back to this page's own URL.
        '<form method="post" aria-labelledby="title">\n'
        '<input type="hidden" name="confirm" value="erase">\n'
        f'<button type="submit">{escape(words["erase_confirm_button"])}</button>\n'
        "</form>\n" + _back(language)
    )
    return layout(language, words["erase_title"], body)


def render_erase_done_page(language: str, controller: ControllerInfo, notified: bool) -> str:
    words = TEXTS[language]
    note = ""
    if notified:
        note = (
            f'<p class="note">'
            f"{escape(words['erase_done_note'].format(sender=_sender(language, controller)))}"
            "</p>\n"
        )
    body = f'<p role="status">{escape(words["erase_done_body"])}</p>\n{note}'
    return layout(language, words["erase_done_title"], body)
