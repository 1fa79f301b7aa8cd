"""The /u/<token> endpoints: RFC 8058 one-click POST, the confirm page, and its button."""

from __future__ import annotations

import logging

from aiohttp import web

from proxy.errors import TokenError
from proxy.model import SuppressionOrigin
from proxy.tokens import GLOBAL_SCOPE, UnsubscribeToken
from proxy.web.deps import TokenVerifier, WebDeps
from proxy.web.i18n import pick_language
from proxy.web.pages import (
    BAD_TOKEN_PAGE,
    PageContext,
    render_confirm_page,
    render_done_page,
    render_unavailable_page,
)

__all__ = [
    "MAX_TOKEN_LENGTH",
    "UnsubscribeHandlers",
    "bad_token_response",
    "html_response",
    "token_if_valid",
    "verify_token",
]

log = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 1024  # real tokens are ~150 characters; longer ones are not even parsed
ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"
CONFIRM_FIELD = "confirm"  # the page's hidden field: tells the button from a one-click POST


def html_response(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def bad_token_response() -> web.Response:
    return html_response(BAD_TOKEN_PAGE, status=400)


def token_if_valid(tokens: TokenVerifier, raw: str) -> UnsubscribeToken | None:
    """The claims of a well-formed, verifying token; None for anything else (never raises)."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    try:
        return tokens.verify(raw)
    except TokenError:
        return None


def verify_token(tokens: TokenVerifier, request: web.Request) -> UnsubscribeToken | None:
    """The claims of the request's /u/<token>, or None (logged) for any that does not verify."""
    token = token_if_valid(tokens, request.match_info.get("token", ""))
    if token is None:
        log.info("unsubscribe token rejected")
    return token


class UnsubscribeHandlers:
    """Request handlers bound to the injected dependencies."""

    def __init__(self, deps: WebDeps) -> None:
        self._deps = deps

    def _verify(self, request: web.Request) -> UnsubscribeToken | None:
        return verify_token(self._deps.tokens, request)

    def _context(self, token: UnsubscribeToken, request: web.Request) -> PageContext:
        controller = self._deps.policy().controllers.get(token.controller)
        rights = self._deps.rights is not None
        return PageContext(
            language=pick_language(token.language),
            sender=controller.legal_name if controller is not None else None,
            campaign=token.campaign,
            global_scope=token.scope == GLOBAL_SCOPE,
            privacy_url=controller.privacy_url if controller is not None else None,
            rights_link=f"{request.match_info['token']}/why" if rights else None,
        )

    async def _record(self, token: UnsubscribeToken, origin: SuppressionOrigin) -> bool:
        """Store the objection; False when it could not be stored (the client should retry)."""
        try:
            await self._deps.unsubscriber.record(token, origin)
        except Exception:
            # Fail visibly: a 503 makes the mailbox provider or the person try again, whereas
            # a 200 would claim an objection that was never recorded.
            log.exception("unsubscribe could not be recorded (origin %s)", origin.value)
            return False
        return True

    async def bad_token(self, request: web.Request) -> web.Response:
        """`/u/` with no token at all: the same page as any other bad token."""
        return bad_token_response()

    async def show(self, request: web.Request) -> web.Response:
        """GET: describe the objection and offer the button; never records anything.

        Mailbox scanners and link previewers follow links, so a GET must stay harmless.
        """
        token = self._verify(request)
        if token is None:
            return bad_token_response()
        ctx = self._context(token, request)
        if await self._already_recorded(token):
            return html_response(render_done_page(ctx, already=True))
        return html_response(render_confirm_page(ctx))

    async def _already_recorded(self, token: UnsubscribeToken) -> bool:
        """A link opened again after the objection: say so instead of offering the button.
        When the store cannot tell, the form is shown (submitting it again is harmless)."""
        try:
            return await self._deps.unsubscriber.is_recorded(token)
        except Exception:
            log.warning("unsubscribe page: could not check for an earlier objection")
            return False

    async def submit(self, request: web.Request) -> web.Response:
        """POST: RFC 8058 one-click (plain 200, no redirect) or the page's button (HTML)."""
        token = self._verify(request)
        if token is None:
            return bad_token_response()
        form = await request.post()
        if CONFIRM_FIELD in form:
            ctx = self._context(token, request)
            if not await self._record(token, SuppressionOrigin.PAGE):
                return html_response(render_unavailable_page(ctx.language), status=503)
            return html_response(render_done_page(ctx))
        if form.get(ONE_CLICK_FIELD) == ONE_CLICK_VALUE:
            if not await self._record(token, SuppressionOrigin.ONE_CLICK):
                return web.Response(text="Try again later.\n", status=503)
            return web.Response(text="Unsubscribed.\n")
        return web.Response(text="Expected List-Unsubscribe=One-Click (RFC 8058).\n", status=400)
