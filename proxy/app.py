"""Composition root: the only place that builds the relay's objects from `Settings`.

`build_relay` builds the production relay (`serve`): the secret (read once), store, policy,
compliance, feedback, web listeners, then `build_core` around them. `build_core` builds the
SMTP side around any decision step (`service.Compliance`): TLS, AUTH, forwarder, decision
log, service, handler, sessions. Tests and the benchmark's compliance-off relay call it with
`PassThroughCompliance`. Everything else receives its collaborators through its constructor;
`proxy.lifecycle.RelayApp` starts and stops what is built here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date

from proxy.compliance import RegisterCompliance
from proxy.copies import CopyBuilder
from proxy.errors import ConfigError, ConfigProblem
from proxy.feedback.dispatch import ErasureNotifier, WebhookDispatcher, event_routes
from proxy.feedback.esp import CertFetcher
from proxy.feedback.mailboxes import FeedbackMailboxes
from proxy.feedback.providers import EspReceiver, fetch_sns_certificate
from proxy.feedback.recorder import FeedbackRecorder
from proxy.feedback.returnpath import ReturnPath
from proxy.forward import Forwarder, OutboxForwarder, SmtpForwarder
from proxy.lifecycle import Component, RelayApp, StoreComponent, SuppressionGauge, WebComponent
from proxy.local_mail import LocalMailboxes, Unsubscriber
from proxy.logs import DecisionLog, use_address_masking
from proxy.metrics import Metrics
from proxy.mime.dkim import DkimSigner
from proxy.policy.holder import PolicyHolder
from proxy.rights.desk import RightsDesk
from proxy.secrets import load_or_create_secret
from proxy.service import Compliance, RelayService
from proxy.settings import EventLoop, Settings
from proxy.smtp.auth import Authenticator
from proxy.smtp.handler import RelayHandler
from proxy.smtp.server import RelaySMTP, SessionTracker
from proxy.smtp.tls import server_context
from proxy.store import Store
from proxy.store.audit_writer import AuditTrail
from proxy.store.database import create_engine
from proxy.store.migrate import schema_status
from proxy.store.rights import RightsRegister
from proxy.store.webhook_queue import WebhookQueue
from proxy.tokens import TokenSigner
from proxy.web import (
    ListenerLimits,
    ReadinessCheck,
    WebDeps,
    WebServer,
    build_ops_app,
    build_web_app,
)

__all__ = [
    "build_authenticator",
    "build_core",
    "build_forwarder",
    "build_relay",
    "build_tls_context",
    "event_loop_factory",
    "require_current_schema",
]

log = logging.getLogger(__name__)


def build_tls_context(settings: Settings) -> ssl.SSLContext | None:
    """Server-side context for STARTTLS, or None when no certificate is configured (the
    settings checked the files; ConfigError if they changed since)."""
    smtp = settings.smtp
    if smtp.tls_cert is None or smtp.tls_key is None:
        return None
    try:
        return server_context(smtp.tls_cert, smtp.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError([ConfigProblem(str(smtp.tls_cert), "smtp.tls_cert", str(exc))]) from None


def build_authenticator(settings: Settings) -> Authenticator:
    """The SMTP AUTH users (their hashes checked by the settings)."""
    return Authenticator(
        {name: hashed.get_secret_value() for name, hashed in settings.smtp.users.items()}
    )


def event_loop_factory(choice: EventLoop) -> Callable[[], asyncio.AbstractEventLoop]:
    """The loop `serve` runs on: uvloop (libuv) when wanted and installed, else asyncio's.

    uvloop makes the socket work of every SMTP session cheaper (bench/relay_bench.py
    measures both); the relay behaves the same on either loop.
    """
    if choice is not EventLoop.ASYNCIO:
        try:
            import uvloop
        except ImportError:
            if choice is EventLoop.UVLOOP:
                raise ConfigError(
                    [ConfigProblem("settings", "runtime.event_loop", "uvloop is not installed")]
                ) from None
        else:
            return uvloop.new_event_loop
    return asyncio.new_event_loop


def build_forwarder(settings: Settings, metrics: Metrics) -> Forwarder:
    """The upstream connection pool, or the Maildir outbox when no upstream is configured."""
    if settings.upstream.host:
        return SmtpForwarder(
            settings.upstream, local_hostname=settings.smtp.hostname, metrics=metrics
        )
    return OutboxForwarder(settings.outbox.path, hostname=settings.smtp.hostname, metrics=metrics)


def _delivery_check(settings: Settings) -> Callable[[], Awaitable[None]]:
    """Readiness of the delivery path: upstream accepts TCP, or the outbox is writable."""
    upstream = settings.upstream
    if upstream.host:
        host, port = upstream.host, upstream.port

        async def upstream_reachable() -> None:
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            await writer.wait_closed()

        return upstream_reachable
    outbox = settings.outbox.path

    async def outbox_writable() -> None:
        def check() -> None:
            outbox.mkdir(parents=True, exist_ok=True)
            if not os.access(outbox, os.W_OK):
                raise PermissionError(str(outbox))

        await asyncio.to_thread(check)

    return outbox_writable


def build_feedback(
    settings: Settings,
    key: bytes,
    recorder: FeedbackRecorder,
    store: Store,
    tokens: TokenSigner,
) -> FeedbackMailboxes | None:
    """The return path and complaints mailboxes, when `[feedback] enabled`."""
    feedback = settings.feedback
    if not feedback.enabled:
        return None
    return FeedbackMailboxes(
        return_path=ReturnPath(
            key, feedback.bounce_local_part, feedback.bounce_domain or settings.smtp.hostname
        ),
        complaints_local_part=feedback.complaints_local_part,
        recorder=recorder,
        store=store,
        tokens=tokens,
        max_report_bytes=feedback.max_report_bytes,
    )


def _email_lookup(store: Store) -> Callable[[str], Awaitable[str | None]]:
    """The clear address for a webhook: only while the register still holds the contact."""

    async def lookup(address_hash: str) -> str | None:
        contact = await store.get_contact_by_hash(address_hash)
        return contact.email if contact is not None else None

    return lookup


async def require_current_schema(settings: Settings) -> None:
    """Refuse to serve on a database whose schema is behind this version (ConfigError)."""
    status = await schema_status(settings.database)
    if not status.is_current:
        raise ConfigError(
            [
                ConfigProblem(
                    "settings",
                    "database.url",
                    f"the database schema is at revision {status.current or '(empty)'}, "
                    f"this version needs {status.head}: run `prospect-relay db upgrade`",
                )
            ]
        )


def build_core(
    settings: Settings,
    compliance: Compliance,
    *,
    hash_key: bytes,
    metrics: Metrics,
    forwarder: Forwarder | None = None,
    components: Sequence[Component] = (),
    reloaders: Sequence[Callable[[], Awaitable[None]]] = (),
    smtp_socket: socket.socket | None = None,
) -> RelayApp:
    """The SMTP relay around `compliance`: TLS, AUTH, forwarder (built from the settings
    unless given), decision log (keyed with `hash_key`), service, handler and sessions.

    `components` start after SMTP is bound and stop in reverse after it drained; `reloaders`
    run on SIGHUP. Raises ConfigError.
    """
    tls_context = build_tls_context(settings)
    authenticator = build_authenticator(settings)
    if forwarder is None:
        forwarder = build_forwarder(settings, metrics)
    decision_log = DecisionLog(settings.log, hash_key)
    use_address_masking(decision_log.address)  # addresses inside every log line's text
    service = RelayService(settings, forwarder, decision_log, metrics, compliance)
    handler = RelayHandler(service, metrics)
    tracker = SessionTracker(settings.smtp, metrics)

    def session() -> RelaySMTP:
        return RelaySMTP(
            handler,
            settings=settings.smtp,
            tracker=tracker,
            authenticator=authenticator,
            tls_context=tls_context,
        )

    return RelayApp(
        settings,
        session=session,
        tracker=tracker,
        forwarder=forwarder,
        metrics=metrics,
        components=components,
        reloaders=reloaders,
        smtp_socket=smtp_socket,
    )


async def build_relay(
    settings: Settings,
    *,
    metrics: Metrics | None = None,
    today: Callable[[], date] | None = None,
    listeners: Mapping[str, socket.socket] | None = None,
    fetch_certificate: CertFetcher = fetch_sns_certificate,
) -> RelayApp:
    """The production relay: store, policy, compliance, web, SMTP. Raises ConfigError.

    `listeners`: sockets already bound by the supervisor, by name ("smtp", "web", "ops").
    `fetch_certificate` fetches SNS signing certificates (only from SNS hosts); tests give
    one that serves a test certificate, as there is no network.
    """
    await require_current_schema(settings)
    listeners = listeners or {}
    metrics = metrics or Metrics()
    hash_key = load_or_create_secret(settings.security)  # the one read of the secret
    forwarder = build_forwarder(settings, metrics)
    policy = PolicyHolder(settings.policy.file)
    dkim = DkimSigner.from_settings(settings.dkim)
    engine = create_engine(settings.database)
    store = Store(
        engine,
        hash_key,
        timeout=settings.database.timeout,
        routes=event_routes(settings.webhooks),
    )
    token_keys = [
        hash_key,
        *(k.get_secret_value().encode() for k in settings.security.previous_token_keys),
    ]
    tokens = TokenSigner(token_keys, settings.security.token_max_age_days)
    unsubscriber = Unsubscriber(store, metrics)
    audit_trail = AuditTrail(store)
    recorder = FeedbackRecorder(store, policy, metrics)
    feedback = build_feedback(settings, hash_key, recorder, store, tokens)
    esp = EspReceiver(settings.feedback, recorder, store, fetch_certificate=fetch_certificate)
    mailto_domain = settings.unsubscribe.mailto_domain or settings.smtp.hostname
    mailboxes = LocalMailboxes(
        tokens=tokens,
        unsubscriber=unsubscriber,
        local_part=settings.unsubscribe.mailto_local_part,
        domain=mailto_domain,
        feedback=feedback,
    )
    copies = CopyBuilder(
        tokens=tokens,
        address_hash=store.address_hash,
        marker_key=hash_key,
        dkim=dkim,
        return_path=feedback.return_path if feedback is not None else None,
        public_url=settings.web.public_url,
        mailto_local=settings.unsubscribe.mailto_local_part,
        mailto_domain=mailto_domain,
    )
    compliance = RegisterCompliance(
        settings=settings,
        store=store,
        policy=policy,
        mailboxes=mailboxes,
        copies=copies,
        audit_trail=audit_trail,
        marker_key=hash_key,
        **({"today": today} if today is not None else {}),
    )
    # Stopped in reverse: the audit trail's last batch is written before the pool closes.
    components: list[Component] = [
        StoreComponent(engine),
        audit_trail,
        SuppressionGauge(store, metrics),
        WebhookDispatcher(settings.webhooks, WebhookQueue(engine), metrics, _email_lookup(store)),
    ]
    if settings.web.enabled:

        async def policy_loaded() -> None:
            if policy.current is None:
                raise RuntimeError("no policy")

        rights = RightsDesk(
            register=RightsRegister(engine, timeout=settings.database.timeout),
            store=store,
            policy=lambda: policy.current,
            forwarder=forwarder,
            from_address=settings.unsubscribe.rights_from or f"privacy@{mailto_domain}",
            hostname=settings.smtp.hostname,
            audit_retention_days=settings.audit.retention_days,
            notifier=ErasureNotifier(event_routes(settings.webhooks)),
        )
        deps = WebDeps(
            tokens=tokens,
            unsubscriber=unsubscriber,
            policy=lambda: policy.current,
            readiness=(
                ReadinessCheck("database", store.ping),
                ReadinessCheck("policy", policy_loaded),
                ReadinessCheck("delivery", _delivery_check(settings)),
            ),
            render_metrics=metrics.render,
            public_url=settings.web.public_url,
            rate_limit_per_minute=settings.web.rate_limit_per_minute,
            trusted_proxies=settings.web.trusted_proxies,
            rights=rights,
            body_timeout=settings.web.body_timeout,
            esp=esp if esp.providers else None,
        )
        limits = ListenerLimits(
            max_connections=settings.web.max_connections,
            header_timeout=settings.web.header_timeout,
            max_requests_per_connection=settings.web.max_requests_per_connection,
        )
        components.append(
            WebComponent(
                WebServer(build_web_app(deps), limits=limits),
                settings.web.host,
                settings.web.port,
                sock=listeners.get("web"),
            )
        )
        components.append(
            WebComponent(
                WebServer(build_ops_app(deps), limits=limits),
                settings.web.ops_host,
                settings.web.ops_port,
                name="ops",
                sock=listeners.get("ops"),
            )
        )

    async def reload_policy() -> None:
        ok = policy.reload()
        metrics.policy_reloads_total.labels("ok" if ok else "failed").inc()

    return build_core(
        settings,
        compliance,
        hash_key=hash_key,
        metrics=metrics,
        forwarder=forwarder,
        components=components,
        reloaders=(reload_policy,),
        smtp_socket=listeners.get("smtp"),
    )
