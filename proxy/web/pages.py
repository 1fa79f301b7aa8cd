"""HTML of the unsubscribe pages: small string templates, every inserted value escaped."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from html import escape
from string import Template

from proxy.rights.texts import TEXTS
from proxy.web.i18n import STRINGS

__all__ = [
    "BAD_TOKEN_PAGE",
    "CONTENT_SECURITY_POLICY",
    "PageContext",
    "layout",
    "render_confirm_page",
    "render_done_page",
    "render_unavailable_page",
]

# One inline stylesheet, allowed by its hash in the CSP: no external resource, no script.
# Colours: #1a1a1a on #ffffff (17:1) and #ffffff on #0b5394 (7.6:1), above WCAG AAA for text.
_CSS = (
    "html{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:112.5%;"
    "line-height:1.5;color:#1a1a1a;background:#ffffff}"
    "body{margin:0;padding:1.5rem 1rem}"
    "main{max-width:34rem;margin:0 auto}"
    "h1{font-size:1.6rem;line-height:1.25;margin:0 0 1rem}"
    "dl{margin:1rem 0}dt{font-weight:700}dd{margin:0 0 .75rem}"
    "button{display:block;width:100%;min-height:3rem;padding:.75rem 1rem;font:inherit;"
    "font-weight:700;color:#ffffff;background:#0b5394;border:2px solid #0b5394;"
    "border-radius:.5rem;cursor:pointer}"
    "button:hover{background:#073763}"
    "button:focus-visible,a:focus-visible{outline:3px solid #b45f06;outline-offset:3px}"
    "a{color:#0b5394}"
    ".note{font-size:.95rem;color:#3d3d3d}"
    "form{margin:0 0 1rem}h2{font-size:1.25rem;line-height:1.3;margin:1.75rem 0 .5rem}"
)
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"style-src 'sha256-{_CSS_HASH}'; "
    "form-action 'self'; "
    "frame-ancestors 'none'; "
    "base-uri 'none'"
)

_LAYOUT = Template(
    "<!DOCTYPE html>\n"
    '<html lang="$lang">\n'
    "<head>\n"
    '<meta charset="utf-8">\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    '<meta name="robots" content="noindex, nofollow">\n'
    "<title>$title</title>\n"
    "<style>$css</style>\n"
    "</head>\n"
    "<body>\n"
    "<main>\n"
    '<h1 id="title">$title</h1>\n'
    "$body"
    "</main>\n"
    "</body>\n"
    "</html>\n"
)

_CONFIRM_BODY = Template(
    "<p>$intro</p>\n"
    "<dl>\n"
    "<dt>$sender_label</dt><dd>$sender</dd>\n"
    "<dt>$concerns_label</dt><dd>$concerns</dd>\n"
    "$campaign"
    "</dl>\n"
    # No action attribute: the form posts back to the page's own URL, whatever prefix the
    # public URL has, and never to an address taken from the request.
    '<form method="post" aria-labelledby="title">\n'
    '<input type="hidden" name="confirm" value="page">\n'
    '<button type="submit">$button</button>\n'
    "</form>\n"
    '<p class="note">$free_note</p>\n'
    "$privacy"
)

_DONE_BODY = Template('<p role="status">$body</p>\n<p class="note">$note</p>\n$privacy')


@dataclass(frozen=True, slots=True)
class PageContext:
    """What a page shows about one objection; plain text, escaped when rendered."""

    language: str  # a key of i18n.STRINGS
    sender: str | None  # the controller's legal name, None when the policy no longer has it
    campaign: str | None
    global_scope: bool
    privacy_url: str | None
    rights_link: str | None = None  # relative link to "why am I receiving this?" (rights.py)


def layout(language: str, title: str, body: str) -> str:
    return _LAYOUT.substitute(lang=escape(language), title=escape(title), css=_CSS, body=body)


def _sender(ctx: PageContext) -> str:
    return ctx.sender if ctx.sender else STRINGS[ctx.language]["unknown_sender"]


def _privacy(ctx: PageContext) -> str:
    # Only http(s) links: a policy value like "javascript:..." must not become a link.
    if not ctx.privacy_url or not ctx.privacy_url.lower().startswith(("https://", "http://")):
        return ""
    text = STRINGS[ctx.language]["privacy_link"].format(sender=_sender(ctx))
    return (
        f'<p class="note"><a href="{escape(ctx.privacy_url)}" rel="noopener noreferrer">'
        f"{escape(text)}</a></p>\n"
    )


def _rights(ctx: PageContext) -> str:
    if ctx.rights_link is None:
        return ""
    text = TEXTS[ctx.language]["why_link"]
    return f'<p><a href="{escape(ctx.rights_link)}">{escape(text)}</a></p>\n'


def render_confirm_page(ctx: PageContext) -> str:
    """The page a GET shows: who and what the objection concerns, and one button."""
    words = STRINGS[ctx.language]
    sender = _sender(ctx)
    concerns = words["scope_global" if ctx.global_scope else "scope_controller"]
    campaign = ""
    if ctx.campaign:
        campaign = f"<dt>{escape(words['campaign_label'])}</dt><dd>{escape(ctx.campaign)}</dd>\n"
    body = _CONFIRM_BODY.substitute(
        intro=escape(words["confirm_intro"]),
        sender_label=escape(words["sender_label"]),
        sender=escape(sender),
        concerns_label=escape(words["concerns_label"]),
        concerns=escape(concerns.format(sender=sender)),
        campaign=campaign,
        button=escape(words["button"]),
        free_note=escape(words["free_note"]),
        privacy=_rights(ctx) + _privacy(ctx),
    )
    return layout(ctx.language, words["confirm_title"], body)


def render_done_page(ctx: PageContext, *, already: bool = False) -> str:
    """The page after the button: the objection is recorded (`already`: it was before, and
    the link was opened again)."""
    words = STRINGS[ctx.language]
    body = _DONE_BODY.substitute(
        body=escape(words["done_body"].format(sender=_sender(ctx))),
        note=escape(words["done_note"]),
        privacy=_rights(ctx) + _privacy(ctx),
    )
    return layout(ctx.language, words["already_title" if already else "done_title"], body)


def render_unavailable_page(language: str) -> str:
    """Shown with a 503 when the objection could not be stored: the person should retry."""
    words = STRINGS[language]
    body = f"<p>{escape(words['unavailable_body'])}</p>\n"
    return layout(language, words["unavailable_title"], body)


# The same bytes for every bad token (forged, truncated, expired, unknown key, empty): the
# page must not reveal which check failed, nor anything about an address. The language is
# unknown, so it speaks the three main ones.
BAD_TOKEN_PAGE = layout(
    "en",
    "Invalid link",
    "<p>This unsubscribe link is not valid. Please use the link from a recent message.</p>\n"
    '<p lang="fr">Ce lien de désabonnement n\'est pas valide. '
    "Utilisez le lien d'un message récent.</p>\n"
    '<p lang="de">Dieser Abmeldelink ist ungültig. '
    "Bitte verwenden Sie den Link aus einer aktuellen Nachricht.</p>\n",
)
