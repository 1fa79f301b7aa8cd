"""What the web listener needs from the rest of the relay, injected by the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from typing import Protocol

from proxy.model import SuppressionOrigin
from proxy.rights.desk import RightsDesk
from proxy.tokens import UnsubscribeToken
from proxy.web.esp import EspReceiverView

__all__ = [
    "ControllerView",
    "PolicyView",
    "ReadinessCheck",
    "TokenVerifier",
    "Unsubscriber",
    "WebDeps",
]


class ControllerView(Protocol):
    """The part of a policy controller the pages show (proxy.policy.policy_file.Controller)."""

    @property
    def legal_name(self) -> str: ...

    @property
    def privacy_url(self) -> str | None: ...


class PolicyView(Protocol):
    """The part of the policy the web reads (proxy.policy.policy_file.Policy satisfies it)."""

    @property
    def controllers(self) -> Mapping[str, ControllerView]: ...


class TokenVerifier(Protocol):
    """Turns the token of an unsubscribe URL back into its claims (proxy.tokens.TokenSigner)."""

    def verify(self, s: str) -> UnsubscribeToken:
        """Raise proxy.errors.TokenError for any token that does not verify."""
        ...


class Unsubscriber(Protocol):
    """Records one objection: suppression entry, metric and log line (wired by app.py)."""

    async def record(self, token: UnsubscribeToken, origin: SuppressionOrigin) -> None: ...

    async def is_recorded(self, token: UnsubscribeToken) -> bool:
        """Whether this objection (or a global one for the same address) is on file."""
        ...


@dataclass(frozen=True, slots=True)
class ReadinessCheck:
    """One named readiness probe: returns when healthy, raises (anything) when not."""

    name: str  # "database", "policy", "upstream", "outbox"
    probe: Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class WebDeps:
    """Collaborators and limits of the web app; built once in app.py."""

    tokens: TokenVerifier
    unsubscriber: Unsubscriber
    policy: Callable[[], PolicyView]  # the current policy: it changes on reload
    readiness: tuple[ReadinessCheck, ...]
    render_metrics: Callable[[], bytes]  # Prometheus text exposition
    public_url: str  # its path, if any, prefixes the /u/ routes (links are built from it)
    # Per valid token, and per client IP for requests without one (unsubscribe routes).
    rate_limit_per_minute: int
    max_body_bytes: int = 4096  # a one-click or confirm POST is a few dozen bytes
    body_timeout: float = 10.0  # seconds to receive a request body (settings.web)
    readiness_timeout: float = 2.0  # seconds per check; a hung database is "not ready"
    # Reverse proxies whose X-Forwarded-For names the client (settings.web.trusted_proxies).
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    # The recipient's side (why page, copy, erasure); None: the pages are not served.
    rights: RightsDesk | None = None
    # Signed ESP event webhooks (POST /feedback/<provider>), when any provider is configured.
    esp: EspReceiverView | None = None
