"""Web listener: unsubscribe pages and the one-click endpoint, health, readiness, metrics."""

from __future__ import annotations

from proxy.web.deps import ReadinessCheck, TokenVerifier, Unsubscriber, WebDeps
from proxy.web.listener import ListenerLimits
from proxy.web.server import WebServer, build_ops_app, build_web_app

__all__ = [
    "ListenerLimits",
    "ReadinessCheck",
    "TokenVerifier",
    "Unsubscriber",
    "WebDeps",
    "WebServer",
    "build_ops_app",
    "build_web_app",
]
