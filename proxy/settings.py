"""Relay settings: a TOML file overridden by PROSPECT_RELAY_<SECTION>__<KEY> variables.

Settings are plain data, built once by `load_settings` and injected; nothing reads them
from a global. Every check of a setting is a validator here (password hashes, the TLS and
DKIM key files, the log level, AUTH needing TLS), so every command that loads the settings,
`check-config` and `serve` alike, reports a problem the same way: one `ConfigError` line per
problem, naming the file or environment variable and the dotted key, never a traceback.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import ssl
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from proxy.errors import ConfigError, ConfigProblem
from proxy.feedback.events import EventType
from proxy.feedback.signing import decode_secret
from proxy.mime.dkim import read_private_key
from proxy.mime.tree import MAX_DEPTH, MAX_ENTITIES
from proxy.model import PolicyMode
from proxy.networks import IPNetwork
from proxy.smtp.auth import PasswordHash
from proxy.smtp.tls import server_context

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ENV_PREFIX",
    "AuditSettings",
    "ContentSettings",
    "DatabaseSettings",
    "DkimSettings",
    "EventLoop",
    "FeedbackSettings",
    "LogFormat",
    "LogSettings",
    "OutboxSettings",
    "PolicySettings",
    "RecipientLogging",
    "RuntimeSettings",
    "SecuritySettings",
    "Settings",
    "SmtpSettings",
    "UnsubscribeSettings",
    "UpstreamSettings",
    "UpstreamTls",
    "WebSettings",
    "WebhookEndpoint",
    "WebhookSettings",
    "load_settings",
    "setting_source",
]

DEFAULT_CONFIG_FILE = Path("config/relay.toml")
ENV_PREFIX = "PROSPECT_RELAY_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UpstreamTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class EventLoop(StrEnum):
    AUTO = "auto"  # uvloop when installed (the default install has it on Linux and macOS)
    ASYNCIO = "asyncio"
    UVLOOP = "uvloop"


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"
    AUTO = "auto"  # text on a terminal, JSON otherwise


class RecipientLogging(StrEnum):
    MASK = "mask"  # j***@example.com
    HASH = "hash"  # keyed hash, joinable with the suppression list and audit records
    CLEAR = "clear"  # only for debugging on a test system


def _password_hash(value: SecretStr) -> SecretStr:
    PasswordHash.parse(value.get_secret_value())  # ValueError says what is wrong
    return value


class SmtpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(2525, ge=0, le=65535)
    hostname: str = Field("prospect-relay.localdomain", min_length=1)
    max_message_size: int = Field(26_214_400, ge=1024)
    max_recipients: int = Field(100, ge=1)
    max_connections: int = Field(200, ge=1)
    # Fair sessions (README "Hostile clients"): clients outside allowed_networks may hold at
    # most max_connections - reserved_connections slots (default: a fifth reserved), and
    # max_connections_per_ip each.
    max_connections_per_ip: int = Field(10, ge=1)
    reserved_connections: int | None = Field(None, ge=0)
    idle_timeout: float = Field(300.0, gt=0)
    # From connect to the first MAIL command (EHLO, STARTTLS and AUTH fit well within it).
    mail_timeout: float = Field(30.0, gt=0)
    # Whole-session cap; a transaction in progress finishes first, then 421.
    max_session_time: float = Field(1800.0, gt=0)
    # AUTH failures allowed per session before 421; each failure from an address doubles the
    # delay before that address's next failure is answered (from auth_failure_delay, at most
    # 30 s, forgotten after 15 minutes without failures).
    max_auth_failures: int = Field(3, ge=1)
    auth_failure_delay: float = Field(1.0, ge=0)
    shutdown_grace: float = Field(30.0, ge=0)
    allowed_networks: tuple[IPNetwork, ...] = (
        ipaddress.IPv4Network("127.0.0.0/8"),
        ipaddress.IPv6Network("::1/128"),
    )
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # username -> password hash (`prospect-relay hash-password`); AUTH is offered only after TLS.
    users: dict[str, Annotated[SecretStr, AfterValidator(_password_hash)]] = Field(
        default_factory=dict
    )
    # Senders that may receive delivery status notifications for refusals SMTP could not
    # report (authenticated users always may); see README "Mixed outcomes".
    send_dsn: bool = True
    # Also list recipients refused at RCPT in that notification when others were accepted.
    # On by default: clients that ignore RCPT replies (Django's SMTP backend with bcc, many
    # CRMs) would otherwise lose them silently. Off behind Postfix, which reads every RCPT
    # reply and bounces refused recipients itself (the sender would be told twice).
    dsn_rcpt_refusals: bool = True

    @field_validator("reserved_connections")
    @classmethod
    def _room_for_outsiders(cls, value: int | None, info: Any) -> int | None:
        limit = info.data.get("max_connections")
        if value is not None and limit is not None and value >= limit:
            raise ValueError(
                "must be below max_connections (the public unsubscribe mailbox needs a slot)"
            )
        return value

    @property
    def reserved_slots(self) -> int:
        """Slots only allowed networks and authenticated clients may take."""
        if self.reserved_connections is not None:
            return self.reserved_connections
        return self.max_connections // 5

    @field_validator("tls_key")
    @classmethod
    def _key_needs_cert(cls, value: Path | None, info: Any) -> Path | None:
        cert = info.data.get("tls_cert")
        if (value is None) != (cert is None):
            raise ValueError("tls_cert and tls_key must be set together")
        if value is not None and cert is not None:
            try:
                server_context(cert, value)
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(f"cannot load certificate/key: {exc}") from None
        return value

    @field_validator("users")
    @classmethod
    def _auth_needs_tls(cls, value: dict[str, SecretStr], info: Any) -> dict[str, SecretStr]:
        if value and "tls_cert" in info.data and info.data["tls_cert"] is None:
            raise ValueError("AUTH is offered only after STARTTLS: set smtp.tls_cert/key")
        return value


class ContentSettings(_Section):
    """Limits on a received message's structure, refused at end of DATA with a 5xx naming the
    limit (a header line over 998 octets is always refused: RFC 5322 2.1.1)."""

    max_header_size: int = Field(65_536, ge=1024)  # octets in one header section
    max_mime_parts: int = Field(500, ge=1, le=MAX_ENTITIES // 2)
    max_mime_depth: int = Field(20, ge=1, le=MAX_DEPTH - 1)
    # Messages this large are processed in worker threads, off the event loop (proxy/offload.py).
    # 64 KiB: the footer placement in HTML costs up to ~1 ms per KB of dense tags, so
    # anything below stays under ~65 ms inline.
    offload_threshold: int = Field(65_536, ge=0)
    offload_workers: int = Field(2, ge=1, le=16)  # large messages processed at once
    processing_budget: float = Field(20.0, gt=0)  # seconds per job; beyond: refused, never a hang


class UpstreamSettings(_Section):
    host: str | None = None  # None: deliver into the outbox instead
    port: int = Field(25, ge=1, le=65535)
    tls: UpstreamTls = UpstreamTls.NONE
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = Field(30.0, gt=0)
    pool_size: int = Field(4, ge=1, le=64)
    local_hostname: str | None = None  # EHLO name; defaults to smtp.hostname
    ca_file: Path | None = None
    verify_tls: bool = True


class OutboxSettings(_Section):
    path: Path = Path("var/outbox")


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///var/prospect-relay.db"
    pool_size: int = Field(5, ge=1)
    timeout: float = Field(5.0, gt=0)  # per fact lookup; beyond it the relay answers 451


class WebSettings(_Section):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8025, ge=0, le=65535)
    public_url: str = "http://127.0.0.1:8025"
    rate_limit_per_minute: int = Field(60, ge=1)
    # Reverse proxies whose X-Forwarded-For is believed (for per-client rate limits).
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # Hardening (proxy/web/listener.py): connections beyond the cap get 503; a request's
    # headers must arrive within header_timeout (also the keep-alive idle limit), its body
    # within body_timeout; a keep-alive connection is closed after max_requests_per_connection.
    max_connections: int = Field(256, ge=1)
    header_timeout: float = Field(10.0, gt=0)
    body_timeout: float = Field(10.0, gt=0)
    max_requests_per_connection: int = Field(100, ge=1)
    # /readyz and /metrics (and /healthz) are served on this separate listener, loopback by
    # default: operations endpoints are not public. The public listener serves /healthz only.
    ops_host: str = "127.0.0.1"
    ops_port: int = Field(9025, ge=0, le=65535)


class PolicySettings(_Section):
    file: Path = Path("config/policy.toml")
    mode: PolicyMode | None = None  # overrides the policy file's own `mode` when set


class LogSettings(_Section):
    level: str = "INFO"
    format: LogFormat = LogFormat.AUTO
    file: Path | None = None
    recipients: RecipientLogging = RecipientLogging.MASK

    @field_validator("level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if not isinstance(logging.getLevelName(value.upper()), int):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value


class SecuritySettings(_Section):
    # HMAC key for suppression hashes and unsubscribe tokens. When unset, `serve` creates a
    # random key in `secret_file` on first start so hashes stay stable across restarts.
    secret_key: SecretStr | None = None
    secret_file: Path = Path("var/secret.key")
    # Extra keys that still verify unsubscribe tokens (rotation: the secret_key signs).
    previous_token_keys: tuple[SecretStr, ...] = ()
    token_max_age_days: int = Field(3 * 365, ge=1)


class UnsubscribeSettings(_Section):
    mailto_local_part: str = "unsubscribe"
    mailto_domain: str | None = None  # defaults to smtp.hostname
    # Accept mail for the unsubscribe mailbox from any network (mailbox providers deliver
    # objections from outside); every other recipient still needs an allowed peer or AUTH.
    public_mailbox: bool = True
    # From of the copy of their data a recipient asks for on the unsubscribe page (GDPR
    # art. 15); default privacy@<mailto_domain or smtp.hostname>. Use a mailbox someone reads.
    rights_from: str | None = None


def _ascii(value: str) -> str:
    if not value.isascii():
        raise ValueError("must be ASCII (an A-label for an internationalised domain)")
    return value


class DkimSettings(_Section):
    """All three of domain, selector and private_key_file, or none (no signing)."""

    domain: Annotated[str, AfterValidator(_ascii)] | None = None
    selector: Annotated[str, AfterValidator(_ascii)] | None = None
    private_key_file: Path | None = Field(None, validate_default=True)
    headers: tuple[Annotated[str, AfterValidator(_ascii)], ...] = (
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "MIME-Version",
        "Content-Type",
    )

    @field_validator("private_key_file")
    @classmethod
    def _signing_key(cls, value: Path | None, info: Any) -> Path | None:
        given = {
            "domain": info.data.get("domain"),
            "selector": info.data.get("selector"),
            "private_key_file": value,
        }
        if not any(given.values()):
            return None  # no signing
        missing = [f"dkim.{key}" for key, set_to in given.items() if not set_to]
        if missing or value is None:
            raise ValueError(
                "DKIM signing needs domain, selector and private_key_file together; "
                f"not set: {', '.join(missing)}"
            )
        read_private_key(value)  # ValueError: cannot read, or not a key
        return value


def _worker_count(value: object) -> int | Literal["auto"]:
    """1..64 or "auto" (from TOML as a number, from the environment as a string)."""
    if value == "auto":
        return "auto"
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 64:
        return value
    raise ValueError('must be a number of processes from 1 to 64, or "auto"')


class RuntimeSettings(_Section):
    event_loop: EventLoop = EventLoop.AUTO
    # Worker processes sharing the SMTP and web listeners (proxy/supervisor.py); "auto" is
    # one per CPU this process may run on. 1 runs everything in this one process.
    workers: Annotated[int | Literal["auto"], PlainValidator(_worker_count)] = 1

    def worker_count(self) -> int:
        """`workers` as a number: "auto" becomes the CPUs available to this process."""
        if self.workers != "auto":
            return self.workers
        if hasattr(os, "sched_getaffinity"):  # Linux: honours taskset and cgroup cpusets
            return max(1, len(os.sched_getaffinity(0)))
        return os.cpu_count() or 1


class AuditSettings(_Section):
    retention_days: int = Field(3 * 365, ge=1)
    instance: str = "relay-1"


class FeedbackSettings(_Section):
    """Opt-in return path (VERP) and complaints mailbox: bounces and complaints come back."""

    enabled: bool = False
    # Envelope sender of each rewritten copy: <bounce_local_part>+<signed token>@<domain>.
    # Pick a domain whose SPF covers the upstream and that aligns with the From domain
    # (README "Bounces and complaints").
    bounce_domain: str | None = None  # defaults to smtp.hostname
    bounce_local_part: str = Field("bounces", pattern=r"^[a-z0-9][a-z0-9.-]{0,8}$")
    complaints_local_part: str = Field("complaints", pattern=r"^[a-z0-9][a-z0-9.-]*$")
    # Only the first bytes of a report are read: the status parts come before the copy of
    # the original message, which is all a bounce may otherwise carry.
    max_report_bytes: int = Field(1_048_576, ge=4096)
    # Signing keys of ESP event webhooks (see README "ESP events").
    sendgrid_public_key: str | None = None  # the base64 DER ECDSA key SendGrid shows
    mailgun_signing_key: SecretStr | None = None
    postmark_token: SecretStr | None = None  # sent by Postmark as basic-auth password
    ses_topic_arns: tuple[str, ...] = ()  # SNS topics whose notifications are accepted


class WebhookEndpoint(_Section):
    """One receiver of outbound webhooks (Standard Webhooks signatures)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr  # "whsec_" + base64 key, as Standard Webhooks libraries expect
    # Event types sent to this endpoint; empty: every type.
    events: tuple[str, ...] = ()
    # Send the clear address when the register still knows it (else only its hash).
    include_address: bool = False

    @field_validator("secret")
    @classmethod
    def _whsec(cls, value: SecretStr) -> SecretStr:
        decode_secret(value.get_secret_value())  # raises ValueError with the reason
        return value

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = {member.value for member in EventType}
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(f"unknown event type(s) {unknown}; known: {sorted(known)}")
        return value


class WebhookSettings(_Section):
    endpoints: tuple[WebhookEndpoint, ...] = ()
    timeout: float = Field(10.0, gt=0)
    poll_interval: float = Field(2.0, gt=0)
    # Retry n waits retry_base * 2**(n-1), at most retry_max; after max_age_days the event
    # is marked failed (`webhooks replay` sends it again).
    retry_base: float = Field(30.0, gt=0)
    retry_max: float = Field(6 * 3600.0, gt=0)
    max_age_days: float = Field(5.0, gt=0)
    # Delivered and failed rows are kept this long (for `webhooks replay`), then deleted.
    keep_days: float = Field(30.0, gt=0)

    @field_validator("endpoints")
    @classmethod
    def _unique_names(cls, value: tuple[WebhookEndpoint, ...]) -> tuple[WebhookEndpoint, ...]:
        names = [endpoint.name for endpoint in value]
        if len(names) != len(set(names)):
            raise ValueError("webhook endpoint names must be unique")
        return value


class Settings(BaseSettings):
    """Every setting of the relay; one frozen object per process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    smtp: SmtpSettings = SmtpSettings()
    content: ContentSettings = ContentSettings()
    upstream: UpstreamSettings = UpstreamSettings()
    outbox: OutboxSettings = OutboxSettings()
    database: DatabaseSettings = DatabaseSettings()
    web: WebSettings = WebSettings()
    policy: PolicySettings = PolicySettings()
    log: LogSettings = LogSettings()
    security: SecuritySettings = SecuritySettings()
    unsubscribe: UnsubscribeSettings = UnsubscribeSettings()
    dkim: DkimSettings = DkimSettings()
    audit: AuditSettings = AuditSettings()
    runtime: RuntimeSettings = RuntimeSettings()
    feedback: FeedbackSettings = FeedbackSettings()
    webhooks: WebhookSettings = WebhookSettings()


def setting_source(key: Sequence[object], file_source: str) -> str:
    """Where a setting's value came from: the environment variable that sets it (or one of
    its sections, as JSON), else `file_source` (the settings file)."""
    names = {name.upper(): name for name in os.environ if name.upper().startswith(ENV_PREFIX)}
    parts = [str(part).upper() for part in key]
    for depth in range(len(parts), 0, -1):
        name = names.get(ENV_PREFIX + "__".join(parts[:depth]))
        if name is not None:
            return f"environment variable {name}"
    return file_source


def load_settings(config_file: Path | None = None) -> Settings:
    """Build the settings from `config_file` (or config/relay.toml if present) and env.

    Raises ConfigError listing every problem at once.
    """
    path = config_file
    if path is None and DEFAULT_CONFIG_FILE.is_file():
        path = DEFAULT_CONFIG_FILE
    source_name = str(path) if path is not None else "defaults"
    if path is not None and not path.is_file():
        raise ConfigError([ConfigProblem(str(path), "", "file not found")])

    class _FileSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if path is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
            return tuple(sources)

    try:
        loaded = _FileSettings()
    except ValidationError as exc:
        raise ConfigError(
            [
                ConfigProblem(
                    setting_source(err["loc"], source_name),
                    ".".join(str(part) for part in err["loc"]),
                    err["msg"].removeprefix("Value error, "),
                )
                for err in exc.errors()
            ]
        ) from None
    except ValueError as exc:  # TOML syntax and environment JSON errors are ValueErrors
        source = "environment" if "EnvSettingsSource" in str(exc) else source_name
        raise ConfigError([ConfigProblem(source, "", str(exc))]) from None
    return loaded
