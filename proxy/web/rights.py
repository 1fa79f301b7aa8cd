"""The /u/<token>/why, /copy and /erase endpoints: the recipient's GDPR rights.

The signed token is the only key: it names the address hash, the controller and the
campaign of one delivered message, so a visitor sees the explanation of that message and
acts on that address only. Nothing is shown about the address itself (the copy goes to the
mailbox), nor about anybody else. GETs never change anything (link scanners follow links);
the copy and the erasure are POSTs, the erasure after a confirmation page.
"""

from __future__ import annotations

import logging

from aiohttp import web

from proxy.errors import StoreUnavailable
from proxy.rights.desk import CopyOutcome, RightsDesk
from proxy.tokens import UnsubscribeToken
from proxy.web.deps import WebDeps
from proxy.web.i18n import pick_language
from proxy.web.pages import render_unavailable_page
from proxy.web.rights_pages import (
    ControllerInfo,
    render_copy_page,
    render_erase_confirm_page,
    render_erase_done_page,
    render_why_page,
)
from proxy.web.unsubscribe import bad_token_response, html_response, verify_token

__all__ = ["ERASE_FIELD", "RightsHandlers"]

log = logging.getLogger(__name__)

ERASE_FIELD = "confirm"  # the confirmation page's hidden field; its value is "erase"
_COPY_PAGES = {
    CopyOutcome.SENT: "copy_sent_body",
    CopyOutcome.RECENT: "copy_recent_body",
    CopyOutcome.NOTHING: "copy_nothing_body",
}


class RightsHandlers:
    """Request handlers bound to the injected desk (deps.rights must be set)."""

    def __init__(self, deps: WebDeps, desk: RightsDesk) -> None:
        self._deps = deps
        self._desk = desk

    def _controller(self, token: UnsubscribeToken) -> ControllerInfo:
        controller = self._desk.controller(token)
        if controller is None:
            return ControllerInfo(None, None, None)
        return ControllerInfo(
            controller.legal_name, controller.postal_address, controller.privacy_url
        )

    @staticmethod
    def _unavailable(language: str, what: str) -> web.Response:
        # The request could not be read or recorded: say so (503), never pretend it was done.
        log.exception("rights: %s failed", what)
        return html_response(render_unavailable_page(language), status=503)

    async def why(self, request: web.Request) -> web.Response:
        """GET: who sent the message, the data source, the legal basis, the deletion date."""
        token = verify_token(self._deps.tokens, request)
        if token is None:
            return bad_token_response()
        language = pick_language(token.language)
        try:
            explanation = await self._desk.explain(token)
        except StoreUnavailable:
            return self._unavailable(language, "the explanation")
        page = render_why_page(
            language,
            self._controller(token),
            token.campaign,
            explanation,
            self._desk.audit_retention_days,
        )
        return html_response(page)

    async def copy(self, request: web.Request) -> web.Response:
        """POST: email the data held about the address to that address (GDPR art. 15)."""
        token = verify_token(self._deps.tokens, request)
        if token is None:
            return bad_token_response()
        language = pick_language(token.language)
        controller = self._controller(token)
        try:
            result = await self._desk.send_copy(token, controller.legal_name or "prospect-relay")
        except StoreUnavailable:
            return self._unavailable(language, "the copy request")
        if result.outcome is CopyOutcome.FAILED:
            return html_response(render_unavailable_page(language), status=503)
        sent_on = result.sent_at.date().isoformat() if result.sent_at else ""
        return html_response(render_copy_page(language, _COPY_PAGES[result.outcome], sent_on))

    async def erase_confirm(self, request: web.Request) -> web.Response:
        """GET: the confirmation step; erases nothing."""
        token = verify_token(self._deps.tokens, request)
        if token is None:
            return bad_token_response()
        language = pick_language(token.language)
        return html_response(render_erase_confirm_page(language))

    async def erase(self, request: web.Request) -> web.Response:
        """POST from the confirmation page: the same erasure as `prospect-relay forget`."""
        token = verify_token(self._deps.tokens, request)
        if token is None:
            return bad_token_response()
        language = pick_language(token.language)
        form = await request.post()
        if form.get(ERASE_FIELD) != "erase":
            # Only the confirmation page's button erases (not a bare or one-click POST).
            return html_response(render_erase_confirm_page(language))
        try:
            result = await self._desk.erase(token)
        except StoreUnavailable:
            return self._unavailable(language, "the erasure")
        page = render_erase_done_page(language, self._controller(token), result.controller_notified)
        return html_response(page)
