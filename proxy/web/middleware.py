"""Cross-cutting protections: security headers on every response, rate and size limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from proxy.networks import IPNetwork, in_networks
from proxy.web.esp import ESP_ROUTE_PREFIX, MAX_EVENT_BODY
from proxy.web.pages import CONTENT_SECURITY_POLICY
from proxy.web.ratelimit import RateLimiter

__all__ = ["LIMITED_ROUTE_PREFIX", "add_security_headers", "client_address", "limits_middleware"]


LIMITED_ROUTE_PREFIX = "unsubscribe"  # route names starting with it are rate limited

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # The token in the URL identifies an objection: it must never leak through a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "Server": "prospect-relay",  # instead of aiohttp's version banner
}


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare hook: runs for every response, error pages included."""
    response.headers.update(_SECURITY_HEADERS)


def client_address(request: web.Request, trusted: Sequence[IPNetwork]) -> str:
    """The client's IP: the peer, or behind trusted reverse proxies the X-Forwarded-For hop
    just before them (the rightmost untrusted one; earlier hops are the client's to forge).
    """
    peer = request.remote or "unknown"
    if not trusted or not in_networks(peer, trusted):
        return peer
    hops = [
        hop.strip() for hop in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")
    ]
    for hop in reversed([hop for hop in hops if hop]):
        if not in_networks(hop, trusted):
            return hop
    return peer


def limits_middleware(
    limiter: RateLimiter,
    max_body_bytes: int,
    trusted_proxies: Sequence[IPNetwork] = (),
    valid_token: Callable[[str], bool] = lambda raw: False,
) -> Middleware:
    """Refuse oversized bodies (413) everywhere and excess requests (429).

    Only the unsubscribe routes are rate limited: probes and scrapes come from a few
    monitoring hosts at a steady pace and must never be refused. A request with a valid
    token is limited per token, never per IP: RFC 8058 one-click POSTs of thousands of
    people come from a few mailbox-provider addresses, and an objection must not be lost.
    Requests without a valid token (guessing, scanning) are limited per client IP.
    """

    @web.middleware
    async def limits(request: web.Request, handler: Handler) -> web.StreamResponse:
        name = request.match_info.route.name or ""
        # ESP event batches are larger; their handlers read at most MAX_EVENT_BODY bytes.
        limit = MAX_EVENT_BODY if name.startswith(ESP_ROUTE_PREFIX) else max_body_bytes
        length = request.content_length
        if length is not None and length > limit:
            # Declared too big: refuse before reading a byte. Undeclared (chunked) bodies are
            # cut at the same size by the application's client_max_size.
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=length)
        if name.startswith(LIMITED_ROUTE_PREFIX):
            raw = request.match_info.get("token", "")
            if valid_token(raw):
                key = f"token:{raw}"
            else:
                key = f"ip:{client_address(request, trusted_proxies)}"
            if not limiter.allow(key):
                return web.Response(
                    text="Too many requests. Please try again later.\n",
                    status=429,
                    headers={"Retry-After": str(limiter.retry_after(key))},
                )
        return await handler(request)

    return limits
