"""The relay's SMTP listener: aiosmtpd's `SMTP` with the parts a relay must get right.

Overrides, and why:
- EHLO advertises PIPELINING (commands are read and answered strictly in order, so pipelined
  groups work), SIZE, 8BITMIME, SMTPUTF8, STARTTLS, and AUTH only once TLS is active.
- MAIL/RCPT parse paths with `addresses.parse_path` (null sender, 501/553, routing forms).
- DATA reads the body in large chunks up to CRLF.CRLF instead of line by line (aiosmtpd's
  per-line loop costs ~1.6 ms of CPU per 100 KB), with the size limit enforced (552).
- AUTH PLAIN/LOGIN verify in a thread (scrypt), never in the event loop.
- Every reply is sanitized (no echoed control characters), connection limits give 421, a
  client dropping the connection is logged at debug level, and shutdown drains sessions.

Replies come from `proxy.replies` as typed `SmtpReply` values, from the service through the
`Transactions` hooks for MAIL, RCPT and DATA; this module only writes `reply.line` and acts
on `reply.is_success`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import logging
import re
import ssl
from typing import Any, AnyStr, Protocol, cast

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, Session, syntax

from proxy import replies
from proxy.errors import PathError
from proxy.metrics import Metrics
from proxy.model import RecipientDecision
from proxy.replies import SmtpReply
from proxy.settings import SmtpSettings
from proxy.smtp.addresses import ParsedPath, parse_path
from proxy.smtp.admission import Admission, Ticket, address_key, peer_address
from proxy.smtp.auth import Authenticator
from proxy.smtp.auth_throttle import AuthThrottle, mask_username

__all__ = [
    "AIOSMTPD_PRIVATE_MEMBERS",
    "RelayEnvelope",
    "RelaySMTP",
    "SessionTracker",
    "Transactions",
]

# The private members of aiosmtpd's `SMTP` this module reads, calls or overrides. They are why
# pyproject pins `aiosmtpd==1.4.6` exactly: any other release may rename or change them.
# tests/unit/test_aiosmtpd_pin.py checks the installed version, that each exists, and that this
# module uses no other private member of `SMTP`.
AIOSMTPD_PRIVATE_MEMBERS = (
    "_auth_methods",  # emptied when the session ends (it holds bound methods: a cycle)
    "_create_envelope",  # overridden: our RelayEnvelope
    "_handle_client",  # overridden: session accounting around aiosmtpd's command loop
    "_handler_coroutine",  # the session's task: forgotten once done (its traceback: a cycle)
    "_original_transport",  # the plain transport, restored when STARTTLS fails
    "_reader",  # the StreamReader the chunked DATA reader reads from
    "_reset_timeout",  # re-armed while DATA streams in
    "_set_post_data_state",  # clears the transaction after DATA, as aiosmtpd's DATA does
    "_set_rset_state",  # overridden: also clears our typed transaction state
    "_smtp_methods",  # emptied when the session ends (bound methods of the session)
    "_tls_protocol",  # tells whether STARTTLS is active (AUTH only offered then)
    "_writer",  # dropped when the session ends (it holds the session)
)

log = logging.getLogger(__name__)

_SESSION_METHOD_NAMES: dict[type, list[str]] = {}

_UNSAFE_REPLY = re.compile(r"\r\n|[^\x20-\x7e]")
_BODY_TYPES = ("7BIT", "8BITMIME")


_END_OF_DATA = b"\r\n.\r\n"
_CRLF_DOT = re.compile(rb"\r\n\.")


def _unstuff(data: bytes, before: bytes = b"\r\n") -> bytes:
    """Remove the transparency dot from lines that start with one (RFC 5321 4.5.2).

    `data` is one piece of the DATA stream and `before` the (raw) octets just before it,
    so a CRLF-dot falling across two pieces is found too: each piece is unstuffed as it
    arrives, never the whole message at once (one C call over 25 MB holds the event loop).
    """
    # A regular expression finds each CR with a fast scan: a quarter of the time of
    # `bytes.replace`, whose three-octet search is slow. Leaves the first two octets as they are.
    out = _CRLF_DOT.sub(b"\r\n", data)
    if before.endswith(b"\r\n") and data.startswith(b"."):
        return out[1:]
    if before.endswith(b"\r") and data.startswith(b"\n."):
        return out[:1] + out[2:]
    return out


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The loop accepting this connection. Given to aiosmtpd, which otherwise finds it
    through `warnings.catch_warnings()` + `get_event_loop()` on every new connection."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # built outside a loop (a unit test): aiosmtpd finds one itself
        return None


def _keep_crlf(match: re.Match[str]) -> str:
    return match.group() if match.group() == "\r\n" else "?"


class RelayEnvelope(Envelope):
    """aiosmtpd's envelope plus the transaction's typed state."""

    def __init__(self) -> None:
        super().__init__()
        self.queue_id = ""
        self.has_sender = False
        self.decisions: list[RecipientDecision] = []
        self.finished = False


class Transactions(Protocol):
    """The handler `RelaySMTP` calls for a transaction (proxy/smtp/handler.py).

    Typed, unlike aiosmtpd's `handle_*` hooks that return reply strings: MAIL, RCPT and DATA
    answer with the `SmtpReply` to send. `handle_exception` is aiosmtpd's own hook.
    """

    async def mail(self, session: Session, envelope: RelayEnvelope) -> SmtpReply: ...

    async def rcpt(self, session: Session, envelope: RelayEnvelope, address: str) -> SmtpReply: ...

    async def data(self, session: Session, envelope: RelayEnvelope) -> SmtpReply: ...

    def transaction_ended(self, session: Session, envelope: RelayEnvelope) -> None:
        """The envelope is dropped (RSET, new MAIL, disconnect) without a finished DATA."""
        ...

    async def handle_exception(self, error: Exception) -> str: ...


class SessionTracker:
    """Open sessions, who may open one (proxy/smtp/admission.py), AUTH backoff, in-flight DATA
    and the drain on shutdown: the state all sessions of the listener share."""

    def __init__(self, settings: SmtpSettings, metrics: Metrics) -> None:
        self.settings = settings
        self.sessions: set[RelaySMTP] = set()
        self.draining = False
        self.admission = Admission(
            max_connections=settings.max_connections,
            max_per_ip=settings.max_connections_per_ip,
            reserved=settings.reserved_slots,
            allowed_networks=settings.allowed_networks,
        )
        self.auth_throttle = AuthThrottle(settings.auth_failure_delay)
        self.metrics = metrics
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def opened(self, session: RelaySMTP, peer: str) -> Ticket | SmtpReply:
        """Admit a session from `peer`: its ticket, or the 421 refusing it (not counted)."""
        ticket = self.admission.admit(peer)
        if isinstance(ticket, SmtpReply):
            self.metrics.smtp_sessions_refused_total.labels(_refusal_reason(ticket)).inc()
            return ticket
        self.sessions.add(session)
        self.metrics.smtp_sessions_total.inc()
        self.metrics.smtp_sessions_open.set(len(self.sessions))
        return ticket

    def closed(self, session: RelaySMTP, ticket: Ticket) -> None:
        if session in self.sessions:
            self.sessions.discard(session)
            self.admission.release(ticket)
            self.metrics.smtp_sessions_open.set(len(self.sessions))

    def begin(self) -> None:
        self._busy += 1
        self._idle.clear()

    def end(self) -> None:
        self._busy -= 1
        if self._busy == 0:
            self._idle.set()

    @property
    def in_flight(self) -> int:
        return self._busy

    async def drain(self, grace: float) -> None:
        """Refuse new transactions, let in-flight DATA finish (up to `grace`), close all."""
        self.draining = True
        for session in list(self.sessions):
            if not session.busy:
                session.close_with(replies.SHUTTING_DOWN)
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=grace)
        except TimeoutError:
            log.warning("shutdown grace expired with %d transaction(s) in flight", self._busy)
        for session in list(self.sessions):
            # The client learns why (421 4.3.2) and retries; closing cancels its transaction
            # before the upstream's final answer, so nothing is half-committed here.
            session.close_with(replies.SHUTTING_DOWN)


def _refusal_reason(reply: SmtpReply) -> str:
    """The metric label of an admission refusal (a small closed set)."""
    if reply is replies.TOO_MANY_FROM_ADDRESS:
        return "per_ip"
    if reply is replies.TOO_MANY_FROM_OUTSIDE:
        return "outside_full"
    return "full"


class RelaySMTP(SMTP):
    def __init__(
        self,
        handler: Transactions,
        *,
        settings: SmtpSettings,
        tracker: SessionTracker,
        authenticator: Authenticator,
        tls_context: ssl.SSLContext | None,
    ) -> None:
        super().__init__(
            handler,
            data_size_limit=settings.max_message_size,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=settings.hostname,
            ident="ESMTP prospect-relay",
            tls_context=tls_context,
            timeout=settings.idle_timeout,
            auth_required=False,
            auth_require_tls=True,
            loop=_running_loop(),
        )
        # aiosmtpd grows a class-level dict on every EHLO; keep ours per session and fixed.
        self.command_size_limits = collections.defaultdict(
            lambda: 512, {"MAIL": 1024, "RCPT": 1024}
        )
        self._transactions = handler
        self._max_recipients = settings.max_recipients
        self._size_limit = settings.max_message_size
        self._tracker = tracker
        self._credentials = authenticator
        self._ticket: Ticket | None = None
        self._refusal: SmtpReply | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self._mail_seen = False  # a MAIL command was accepted in this session
        self._expired = False  # the session time limit passed during a transaction
        self._auth_failures = 0
        self.busy = False

    def __dir__(self) -> list[str]:
        """Only the `smtp_*` and `auth_*` names aiosmtpd looks up when a session starts.

        aiosmtpd's __init__ finds its command and AUTH methods with `inspect.getmembers(self)`
        and `dir(self)`, a getattr of every attribute of the class on each new connection:
        about a tenth of a millisecond of CPU per message when each comes on its own
        connection. The names it keeps are fixed per class, so they are listed once.
        """
        names = _SESSION_METHOD_NAMES.get(type(self))
        if names is None:
            names = _SESSION_METHOD_NAMES[type(self)] = [
                name for name in super().__dir__() if name.startswith(("smtp_", "auth_"))
            ]
        return names

    # --- connection life cycle -------------------------------------------------------------

    def _envelope(self) -> RelayEnvelope:
        envelope = self.envelope
        assert isinstance(envelope, RelayEnvelope)
        return envelope

    def _session(self) -> Session:
        session = self.session
        assert session is not None
        return session

    def _create_envelope(self) -> RelayEnvelope:
        return RelayEnvelope()

    def _set_rset_state(self) -> None:
        old = self.envelope
        super()._set_rset_state()  # type: ignore[no-untyped-call]
        if isinstance(old, RelayEnvelope) and self.session is not None:
            self._transactions.transaction_ended(self.session, old)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self._original_transport is None
        super().connection_made(transport)
        if not first:
            return
        admitted = self._tracker.opened(self, peer_address(self._session().peer))
        if isinstance(admitted, SmtpReply):
            self._refusal = admitted
            return
        self._ticket = admitted
        settings = self._tracker.settings
        self._timers = [
            self.loop.call_later(settings.mail_timeout, self._mail_deadline),
            self.loop.call_later(settings.max_session_time, self._session_deadline),
        ]

    def eof_received(self) -> bool | None:
        """The client closed its side: close ours now, so its slot is free at once.

        (asyncio's stream protocol keeps a half-closed connection open, which held the slot
        until the idle timeout: a bare connect-and-close or a load balancer's TCP check.)
        """
        super().eof_received()
        return False

    def connection_lost(self, error: Exception | None) -> None:
        for timer in self._timers:
            timer.cancel()
        if self._ticket is not None:
            self._tracker.closed(self, self._ticket)
        if isinstance(self.envelope, RelayEnvelope) and self.session is not None:
            self._transactions.transaction_ended(self.session, self.envelope)
            self.envelope = self._create_envelope()
        super().connection_lost(error)
        task = self._handler_coroutine
        if task is not None:
            task.add_done_callback(self._forget_references)

    def _forget_references(self, task: asyncio.Task[None]) -> None:
        """Once the connection is gone and its task done, drop the session's references to
        itself, so reference counting frees it at once.

        Each session is otherwise a knot of cycles (its command and AUTH tables and its
        stream callback hold bound methods of itself, its stream writer holds it, its
        cancelled task's traceback holds its frames) that only the cyclic collector frees:
        about 60 objects per connection, collected in young-generation sweeps of 8-10 ms
        every few thousand connections, the largest stalls of the event loop under load.
        """
        self._handler_coroutine = None
        self._smtp_methods = {}
        self._auth_methods = {}
        del self._reader, self._writer  # the writer holds this protocol
        self._client_connected_cb = None  # asyncio's stream protocol: a bound method of self

    def _mail_deadline(self) -> None:
        """`mail_timeout` after connect: a session that has not sent MAIL yet is closed."""
        if not self._mail_seen:
            log.info("closing %r: no MAIL command in time", self._session().peer)
            self.close_with(replies.NO_MAIL_IN_TIME)

    def _session_deadline(self) -> None:
        """`max_session_time` after connect: close, after the transaction in progress."""
        if self.busy:
            self._expired = True
            return
        log.info("closing %r: session time limit", self._session().peer)
        self.close_with(replies.SESSION_TIME_LIMIT)

    async def _handle_client(self) -> None:
        if self._refusal is not None or self._tracker.draining:
            self.close_with(self._refusal or replies.SHUTTING_DOWN)
            return
        try:
            await super()._handle_client()
        except (ConnectionError, asyncio.IncompleteReadError):
            log.debug("client %r dropped the connection", self.session and self.session.peer)

    def close_with(self, reply: SmtpReply) -> None:
        """Send a final reply (421) and close, without waiting for the client."""
        transport = cast(asyncio.WriteTransport | None, self.transport)
        if transport is not None and not transport.is_closing():
            transport.write(reply.line.encode("ascii") + b"\r\n")
            transport.close()

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str):
            await super().push(_UNSAFE_REPLY.sub(_keep_crlf, status))
        else:
            await super().push(status)

    async def _push_reply(self, reply: SmtpReply) -> None:
        await self.push(reply.line)

    # --- ESMTP -----------------------------------------------------------------------------

    @syntax("EHLO hostname")
    async def smtp_EHLO(self, hostname: str | None) -> None:
        if not hostname or not hostname.isprintable():  # NUL and other controls: refused
            await self._push_reply(replies.syntax_error("EHLO hostname"))
            return
        self._set_rset_state()
        session = self._session()
        session.extended_smtp = True
        session.host_name = hostname
        lines = [self.hostname, "PIPELINING", f"SIZE {self._size_limit}", "8BITMIME"]
        lines.append("SMTPUTF8")
        if self.tls_context is not None and not self._tls_protocol:
            lines.append("STARTTLS")
        if self._credentials.enabled and self._tls_protocol:
            lines.append("AUTH LOGIN PLAIN")
        await self.push(replies.capabilities(lines))

    @syntax("HELO hostname")
    async def smtp_HELO(self, hostname: str | None) -> None:
        if hostname and not hostname.isprintable():  # the name goes into Received: headers
            await self._push_reply(replies.syntax_error("HELO hostname"))
            return
        await super().smtp_HELO(hostname)

    def _parse(self, arg: str | None, keyword: str, *, sender: bool) -> ParsedPath | SmtpReply:
        try:
            path = parse_path(arg, keyword, allow_null=sender, recipient=not sender)
        except PathError as exc:
            return replies.path_error(exc.problem, sender=sender)
        return path

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str | None) -> None:
        if await self.check_helo_needed():
            return
        if self._tracker.draining:
            self.close_with(replies.SHUTTING_DOWN)
            return
        envelope = self._envelope()
        if envelope.has_sender:
            await self._push_reply(replies.BAD_SEQUENCE_NESTED_MAIL)
            return
        path = self._parse(arg, "FROM:", sender=True)
        if isinstance(path, SmtpReply):
            await self._push_reply(path)
            return
        smtputf8, problem = self._mail_params(path)
        if problem is not None:
            await self._push_reply(problem)
            return
        if path.non_ascii and not smtputf8:
            await self._push_reply(replies.path_error("smtputf8", sender=True))
            return
        envelope.mail_from = path.address
        envelope.smtp_utf8 = smtputf8
        reply = await self._transactions.mail(self._session(), envelope)
        if reply.is_success:
            envelope.has_sender = True
            self._mail_seen = True
            envelope.mail_options.extend(path.params)
        else:
            self._set_rset_state()
        await self._push_reply(reply)

    def _mail_params(self, path: ParsedPath) -> tuple[bool, SmtpReply | None]:
        params = dict(path.params)
        body = params.pop("BODY", "7BIT")
        if body is None or body.upper() not in _BODY_TYPES:
            return False, replies.syntax_error("BODY=7BIT|8BITMIME")
        smtputf8 = "SMTPUTF8" in params
        if params.pop("SMTPUTF8", None) is not None:
            return False, replies.syntax_error("SMTPUTF8 takes no value")
        size = params.pop("SIZE", None)
        if size is not None or "SIZE" in path.params:
            if size is None or not size.isdigit():
                return False, replies.syntax_error("SIZE=<number>")
            if int(size) > self._size_limit:
                return False, replies.MESSAGE_TOO_BIG
        if params:
            return False, replies.PARAMETER_NOT_SUPPORTED
        return smtputf8, None

    @syntax("RCPT TO: <address>")
    async def smtp_RCPT(self, arg: str | None) -> None:
        if await self.check_helo_needed():
            return
        envelope = self._envelope()
        if not envelope.has_sender:
            await self._push_reply(replies.BAD_SEQUENCE_NEED_MAIL)
            return
        path = self._parse(arg, "TO:", sender=False)
        if isinstance(path, SmtpReply):
            await self._push_reply(path)
            return
        if path.params:
            await self._push_reply(replies.PARAMETER_NOT_SUPPORTED)
            return
        if path.non_ascii and not envelope.smtp_utf8:
            await self._push_reply(replies.path_error("smtputf8", sender=False))
            return
        if path.address in envelope.rcpt_tos:
            await self._push_reply(replies.RECIPIENT_OK)
            return
        if len(envelope.rcpt_tos) >= self._max_recipients:
            await self._push_reply(replies.TOO_MANY_RECIPIENTS)
            return
        reply = await self._transactions.rcpt(self._session(), envelope, path.address)
        if reply.is_success:
            envelope.rcpt_tos.append(path.address)
        await self._push_reply(reply)

    @syntax("DATA")
    async def smtp_DATA(self, arg: str | None) -> None:
        if await self.check_helo_needed():
            return
        envelope = self._envelope()
        if arg:
            await self._push_reply(replies.syntax_error("DATA"))
            return
        if not envelope.has_sender:
            await self._push_reply(replies.BAD_SEQUENCE_NEED_MAIL)
            return
        if not envelope.rcpt_tos:
            no_valid = bool(envelope.decisions)
            await self._push_reply(
                replies.NO_VALID_RECIPIENTS if no_valid else replies.BAD_SEQUENCE_NEED_RCPT
            )
            return
        if self._tracker.draining:
            self.close_with(replies.SHUTTING_DOWN)
            return
        self.busy = True
        self._tracker.begin()
        try:
            await self._push_reply(replies.START_DATA)
            content = await self._read_data()
            if content is None:
                self._set_rset_state()
                await self._push_reply(replies.MESSAGE_TOO_BIG)
            else:
                envelope.content = envelope.original_content = content
                reply = await self._transactions.data(self._session(), envelope)
                self._set_post_data_state()  # type: ignore[no-untyped-call]
                await self._push_reply(reply)
        finally:
            self.busy = False
            self._tracker.end()
        if self._tracker.draining:
            self.close_with(replies.SHUTTING_DOWN)
        elif self._expired:
            self.close_with(replies.SESSION_TIME_LIMIT)

    async def _read_data(self) -> bytes | None:
        """Read DATA up to CRLF.CRLF; None when it exceeded the size limit.

        `readuntil(CRLF.CRLF)` returns large runs at C speed. On LimitOverrunError the reader
        hands over everything that cannot hold the start of the separator, so the separator
        never straddles two reads and nothing is read past the end of the data (pipelined
        commands stay buffered). The one exception is the very start, where the CRLF before
        the dot is implicit: the first bytes are read one at a time while they could still be
        part of that terminator (".\r\n", "\r\n.\r\n"), which costs one read for a normal
        message whose first byte starts a header.
        """
        reader = self._reader
        limit = self._size_limit
        head = b"\r\n"  # the implicit line end before the data
        while any(head.endswith(_END_OF_DATA[:k]) for k in range(1, len(_END_OF_DATA))):
            head += await reader.readexactly(1)
            if head.endswith(_END_OF_DATA):
                return _unstuff(head[2:-3]) if len(head) - 5 <= limit else None
        chunks = [_unstuff(head[2:])]
        size = len(head) - 2
        before = head[-2:]  # the raw octets before the next piece
        while True:
            try:
                chunk = await reader.readuntil(_END_OF_DATA)
                done = True
                chunk = chunk[:-3]  # keep the CRLF that ends the last line
            except asyncio.LimitOverrunError as exc:
                chunk = await reader.readexactly(exc.consumed)
                done = False
            self._reset_timeout()
            size += len(chunk)
            if size <= limit:
                chunks.append(_unstuff(chunk, before))
                before = chunk[-2:] if len(chunk) >= 2 else (before + chunk)[-2:]
            elif chunks:
                chunks = []
            if done:
                break
        if size > limit:
            return None
        return b"".join(chunks)

    # --- AUTH (offered only after STARTTLS; aiosmtpd answers 538 before) --------------------

    async def auth_PLAIN(self, _: Any, args: list[str]) -> AuthResult:
        if len(args) == 1:
            blob = await self.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            try:
                blob = base64.b64decode(args[1], validate=True)
            except (binascii.Error, ValueError):
                await self._push_reply(replies.AUTH_CANNOT_DECODE)
                return AuthResult(success=False, handled=True)
        parts = blob.split(b"\x00")
        if len(parts) != 3:
            await self._push_reply(replies.AUTH_CANNOT_SPLIT)
            return AuthResult(success=False, handled=True)
        return await self._check(parts[1], parts[2])

    async def auth_LOGIN(self, _: Any, args: list[str]) -> AuthResult:
        if len(args) == 1:
            login = await self.challenge_auth("Username:")
            if login is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            try:
                login = base64.b64decode(args[1], validate=True)
            except (binascii.Error, ValueError):
                await self._push_reply(replies.AUTH_CANNOT_DECODE)
                return AuthResult(success=False, handled=True)
        password = await self.challenge_auth("Password:")
        if password is MISSING:
            return AuthResult(success=False, handled=True)
        return await self._check(login, password)

    async def _check(self, login: bytes, password: bytes) -> AuthResult:
        try:
            username = login.decode("utf-8")
        except UnicodeDecodeError:
            return await self._auth_failed(login.decode("utf-8", "replace"))
        if await self._credentials.authenticate(username, password):
            if self._ticket is not None:
                self._tracker.admission.promote(self._ticket)
            return AuthResult(success=True, auth_data=username)
        return await self._auth_failed(username)

    async def _auth_failed(self, username: str) -> AuthResult:
        """Count, log (masked) and slow down a failure; past the session's budget, 421."""
        self._auth_failures += 1
        limit = self._tracker.settings.max_auth_failures
        peer = peer_address(self._session().peer)
        self._tracker.metrics.smtp_auth_failures_total.inc()
        log.warning(
            "AUTH failed for user %s from %s (%d of %d in this session)",
            mask_username(username),
            peer,
            self._auth_failures,
            limit,
        )
        delay = self._tracker.auth_throttle.failed(address_key(peer))
        if delay > 0:
            await asyncio.sleep(delay)
        await self._push_reply(replies.AUTH_INVALID)
        if self._auth_failures >= limit:
            self.close_with(replies.TOO_MANY_AUTH_FAILURES)
        return AuthResult(success=False, handled=True)
