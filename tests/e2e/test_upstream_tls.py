"""The relay's upstream over implicit TLS and STARTTLS, with AUTH, pipelined or not.

A real aiosmtpd upstream with a certificate from a test CA (trustme): `[upstream] tls`,
`ca_file`, `username`/`password` as an operator sets them. aiosmtplib does the handshake,
then the connection is handed to the relay's own reply reader (proxy/upstream_client.py):
these tests prove the hand-over works on TLS transports in both modes.
"""

from __future__ import annotations

import base64
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword

from proxy.settings import Settings
from tests.conftest import RecordingUpstream, StartRelay, start_recording_upstream

SECRET = "s3cret-upstream-pass"
MESSAGE = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: tls\r\n\r\nover TLS\r\n"


class Credentials:
    """aiosmtpd authenticator: accepts relay/SECRET and records every attempt."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, bool]] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"relay",
            SECRET.encode(),
        )
        self.attempts.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535


@pytest.fixture
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "upstream.test").configure_cert(context)
    return context


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "upstream-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


UpstreamFactory = Callable[..., Any]


@pytest.fixture
async def tls_upstream(
    server_tls: ssl.SSLContext,
) -> AsyncIterator[Callable[..., Any]]:
    """`await tls_upstream(mode, auth=..., pipelining=...)`: a started TLS upstream."""
    started: list[RecordingUpstream] = []

    async def start(mode: str, *, auth: Credentials | None, pipelining: bool) -> RecordingUpstream:
        options: dict[str, Any] = {"authenticator": auth} if auth else {}
        if mode == "tls":  # aiosmtpd knows TLS only from STARTTLS: allow AUTH without it
            upstream = await start_recording_upstream(
                ssl=server_tls, auth_require_tls=False, **options
            )
        else:  # MAIL needs AUTH (when configured) and AUTH needs STARTTLS
            upstream = await start_recording_upstream(
                tls_context=server_tls, require_starttls=True, auth_required=bool(auth), **options
            )
        upstream.behaviour.pipelining = pipelining
        started.append(upstream)
        return upstream

    yield start
    for upstream in started:
        upstream.server.close()
        upstream.close_connections()
        await upstream.server.wait_closed()


async def _send(port: int, recipients: list[str]) -> tuple[dict[str, Any], str]:
    return await aiosmtplib.send(
        MESSAGE, sender="a@example.com", recipients=recipients, hostname="127.0.0.1", port=port
    )


def _relay_settings(
    make_settings: Callable[..., Settings], upstream: RecordingUpstream, **upstream_keys: Any
) -> Settings:
    keys = {"host": upstream.host, "port": upstream.port, "timeout": 5, **upstream_keys}
    return make_settings(upstream=keys)


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "lockstep"])
@pytest.mark.parametrize("auth", [False, True], ids=["no-auth", "auth"])
@pytest.mark.parametrize("mode", ["tls", "starttls"])
async def test_delivery_over_tls_and_starttls(
    start_relay: StartRelay,
    make_settings: Callable[..., Settings],
    tls_upstream: Callable[..., Any],
    ca_file: str,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    auth: bool,
    pipelining: bool,
) -> None:
    caplog.set_level(logging.DEBUG)
    credentials = Credentials() if auth else None
    upstream = await tls_upstream(mode, auth=credentials, pipelining=pipelining)
    login = {"username": "relay", "password": SECRET} if auth else {}
    settings = _relay_settings(make_settings, upstream, tls=mode, ca_file=ca_file, **login)
    app = await start_relay(settings)

    for recipients in (["b@example.org", "c@example.org"], ["d@example.org"]):
        errors, reply = await _send(app.smtp_port, recipients)
        assert errors == {} and reply.startswith("2.0.0"), reply

    assert [m.rcpt_tos for m in upstream.messages] == [
        ["b@example.org", "c@example.org"],
        ["d@example.org"],
    ]
    assert upstream.messages[0].content.endswith(MESSAGE)
    assert upstream.connections == 1  # the TLS (and AUTH) session was pooled
    commands = upstream.commands()
    if mode == "starttls":
        assert commands[:3] == ["EHLO relay.test", "STARTTLS", "EHLO relay.test"]
    if credentials is not None:
        assert credentials.attempts == [(credentials.attempts[0][0], True)]
        assert [c.split()[0] for c in commands].count("AUTH") == 1
    first = upstream.mail_chunks()[0]
    # Pipelined: MAIL, both RCPTs and DATA were one write (one TLS record, one read).
    assert (b"RCPT TO:<c@example.org>\r\nDATA\r\n" in first) is pipelining
    assert first.startswith(b"MAIL FROM:<a@example.com>")
    assert SECRET not in caplog.text


async def test_wrong_upstream_password_is_451_and_never_logged(
    start_relay: StartRelay,
    make_settings: Callable[..., Settings],
    tls_upstream: Callable[..., Any],
    ca_file: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    credentials = Credentials()
    upstream = await tls_upstream("starttls", auth=credentials, pipelining=True)
    wrong = "wrong-" + SECRET
    settings = _relay_settings(
        make_settings, upstream, tls="starttls", ca_file=ca_file, username="relay", password=wrong
    )
    app = await start_relay(settings)
    with pytest.raises(aiosmtplib.SMTPDataError) as err:
        await _send(app.smtp_port, ["b@example.org"])
    assert err.value.code == 451 and "4.4.1" in err.value.message
    assert credentials.attempts and not any(ok for _, ok in credentials.attempts)
    assert upstream.messages == []
    plain = base64.b64encode(f"\0relay\0{wrong}".encode()).decode()
    assert wrong not in caplog.text and plain not in caplog.text
    sample = app.metrics.registry.get_sample_value(
        "prospect_relay_upstream_errors_total", {"kind": "connect"}
    )
    assert sample == 1


async def test_untrusted_upstream_certificate_is_refused_unless_verification_is_off(
    start_relay: StartRelay,
    make_settings: Callable[..., Settings],
    tls_upstream: Callable[..., Any],
) -> None:
    upstream = await tls_upstream("tls", auth=None, pipelining=True)
    strict = await start_relay(_relay_settings(make_settings, upstream, tls="tls"))
    with pytest.raises(aiosmtplib.SMTPDataError) as err:
        await _send(strict.smtp_port, ["b@example.org"])
    assert err.value.code == 451 and upstream.messages == []

    lax = await start_relay(_relay_settings(make_settings, upstream, tls="tls", verify_tls=False))
    errors, reply = await _send(lax.smtp_port, ["b@example.org"])
    assert errors == {} and reply.startswith("2.0.0")
    assert [m.rcpt_tos for m in upstream.messages] == [["b@example.org"]]
