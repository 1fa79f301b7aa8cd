"""One upstream SMTP connection: aiosmtplib's handshake, then our own pipelining reply reader.

aiosmtplib does the parts of a session that happen once per connection and that it does
well: connect, implicit TLS, STARTTLS, EHLO and its extension list, AUTH. It cannot
pipeline (RFC 2920): its protocol expects one reply per awaited command and drops replies
that arrive together. So once the handshake is done, the connection's transport is handed
to `UpstreamConnection` (`transport.set_protocol`, which asyncio's and uvloop's TCP and TLS
transports both support; nothing is in flight at that point, since aiosmtplib has read the
last EHLO/AUTH reply), and aiosmtplib's client object is dropped. Writing the whole client
ourselves would have made us own TLS, STARTTLS and AUTH for no gain.

`UpstreamConnection` parses replies into a queue as they arrive, bounded (a line over
8 KiB or a reply over 32 KiB is a protocol error, as in aiosmtplib) and linear (each byte is
scanned once). `Exchange` runs the commands of one transaction: all in one write when the
upstream offered PIPELINING (MAIL, every RCPT and DATA: two round trips per message instead
of 3 + recipients), one command per reply otherwise. What the replies mean (refusals, stale
connections, which side of the final dot a failure is on) is decided in `proxy.forward`.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn, cast

import aiosmtplib

from proxy.errors import UpstreamClosed, UpstreamProtocolError
from proxy.settings import UpstreamSettings, UpstreamTls

__all__ = [
    "MAX_LINE",
    "MAX_REPLY",
    "Exchange",
    "Reply",
    "UpstreamConnection",
    "open_connection",
    "transaction_commands",
]

MAX_LINE = 8192  # bytes of one reply line, CRLF included (aiosmtplib's bound)
MAX_REPLY = 4 * MAX_LINE  # bytes of one whole (multi-line) reply

# Envelope arguments go on a command line: a control character (CR, LF, NUL...) anywhere,
# or whitespace, angle brackets or quotes outside a quoted local part, would let an address
# end the command or add parameters. Same rule as aiosmtplib's, which we no longer call.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNQUOTED_SPECIAL = re.compile(r'[\s<>"]')
_QUOTED_LOCAL_PART = re.compile(r'^"(?:[^"\\\r\n]|\\.)*"')


@dataclass(frozen=True, slots=True)
class Reply:
    """One SMTP reply: its code and its text (lines joined by LF, codes removed)."""

    code: int
    text: str


async def open_connection(settings: UpstreamSettings, local_hostname: str) -> UpstreamConnection:
    """Connect, TLS/STARTTLS, EHLO and AUTH as `settings` say, then hand the transport over.

    Raises what aiosmtplib raises (`SMTPException` subclasses, `OSError`); the half-open
    connection is closed first.
    """
    assert settings.host is not None
    client = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        local_hostname=local_hostname,
        timeout=settings.timeout,
        use_tls=settings.tls is UpstreamTls.TLS,
        start_tls=settings.tls is UpstreamTls.STARTTLS,
        validate_certs=settings.verify_tls,
        cert_bundle=str(settings.ca_file) if settings.ca_file else None,
        username=settings.username,
        password=settings.password.get_secret_value() if settings.password else None,
    )
    try:
        await client.connect()
        if client.is_ehlo_or_helo_needed:
            await client.ehlo()  # extensions (SIZE, 8BITMIME, SMTPUTF8, PIPELINING) for MAIL
        transport = client.transport
        if transport is None or transport.is_closing():
            raise aiosmtplib.SMTPServerDisconnected("connection lost during the handshake")
    except BaseException:
        client.close()
        raise
    # uvloop's TCP transport has every method of asyncio.Transport without deriving from it.
    return UpstreamConnection(cast(asyncio.Transport, transport), client.esmtp_extensions)


class UpstreamConnection(asyncio.Protocol):
    """The protocol of a connected upstream transport: replies in, commands out."""

    def __init__(self, transport: asyncio.Transport, extensions: Mapping[str, str]) -> None:
        self._transport = transport
        self._extensions = {name.lower() for name in extensions}
        self._replies: deque[Reply] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._error: UpstreamClosed | UpstreamProtocolError | None = None
        self._buffer = bytearray()
        self._scanned = 0  # bytes of _buffer already searched for a line end
        self._lines: list[bytes] = []  # texts of the reply being read (continuation lines)
        self._reply_size = 0
        transport.set_protocol(self)

    def supports(self, extension: str) -> bool:
        """Whether the upstream's EHLO offered `extension` (case-insensitive)."""
        return extension.lower() in self._extensions

    @property
    def pipelining(self) -> bool:
        return "pipelining" in self._extensions

    @property
    def usable(self) -> bool:
        """Open, not failed, and nothing unsolicited received since the last reply read."""
        return self._error is None and not self._transport.is_closing() and not self._replies

    # asyncio.Protocol

    def data_received(self, data: bytes) -> None:
        if self._error is not None:
            return
        buffer = self._buffer
        buffer += data
        start = 0
        while (end := buffer.find(b"\n", max(start, self._scanned))) >= 0:
            if end + 1 - start > MAX_LINE:
                self._fail(UpstreamProtocolError("reply line too long"))
                return
            if not self._line(bytes(buffer[start : end + 1])):
                return
            start = end + 1
        del buffer[:start]
        self._scanned = len(buffer)
        if len(buffer) > MAX_LINE:
            self._fail(UpstreamProtocolError("reply line too long"))
            return
        if self._replies:
            self._wake()

    def eof_received(self) -> bool:
        self._fail(UpstreamClosed("connection closed by the upstream"))
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(UpstreamClosed("connection lost"))

    # Reading

    def _line(self, line: bytes) -> bool:
        """Add one complete line to the reply being read; False once the protocol failed."""
        code = line[:3]
        separator = line[3:4]
        if not (code.isdigit() and len(code) == 3 and separator in (b"-", b" ", b"\r", b"\n")):
            self._fail(UpstreamProtocolError("malformed reply line"))
            return False
        self._reply_size += len(line)
        if self._reply_size > MAX_REPLY:
            self._fail(UpstreamProtocolError("reply too long"))
            return False
        self._lines.append(line[4:].strip(b" \t\r\n"))
        if separator != b"-":
            text = b"\n".join(self._lines).decode("utf-8", "surrogateescape")
            self._replies.append(Reply(int(code), text))
            self._lines = []
            self._reply_size = 0
        return True

    def _fail(self, error: UpstreamClosed | UpstreamProtocolError) -> None:
        if self._error is None:
            self._error = error
            self._buffer.clear()
            if not self._transport.is_closing():
                self._transport.close()
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _raise(self) -> NoReturn:
        """A fresh exception each time (one instance raised twice would grow its traceback)."""
        if isinstance(self._error, UpstreamProtocolError):
            raise UpstreamProtocolError(*self._error.args)
        raise UpstreamClosed(*self._error.args if self._error else ("connection closed",))

    async def read(self, timeout: float) -> Reply:
        """The next reply; replies that arrived before a failure are still returned first.

        Raises `UpstreamClosed`, `UpstreamProtocolError`, or `TimeoutError` after `timeout`
        seconds without a complete reply (the connection is then out of step: close it).
        """
        if self._replies:
            return self._replies.popleft()
        if self._error is not None:
            self._raise()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                while not self._replies and self._error is None:
                    self._waiter = loop.create_future()
                    await self._waiter
        finally:
            self._waiter = None
        if self._replies:
            return self._replies.popleft()
        self._raise()

    # Writing

    def write(self, data: bytes) -> None:
        if self._error is not None:
            self._raise()
        if self._transport.is_closing():
            raise UpstreamClosed("connection closed")
        self._transport.write(data)

    async def command(self, line: bytes, timeout: float) -> Reply:
        """Write one command line (CRLF included) and read its reply."""
        self.write(line)
        return await self.read(timeout)

    async def quit(self, timeout: float) -> None:
        """QUIT politely, then close whatever the upstream answered."""
        try:
            await self.command(b"QUIT\r\n", timeout)
        finally:
            self.close()

    def close(self) -> None:
        if not self._transport.is_closing():
            self._transport.close()


def _path(address: str) -> str:
    """`<address>` for MAIL FROM / RCPT TO, refused (ValueError) if it could inject."""
    unquoted = _QUOTED_LOCAL_PART.sub("", address, count=1)
    if _CONTROL.search(address) or _UNQUOTED_SPECIAL.search(unquoted):
        raise ValueError("envelope address with characters not allowed on a command line")
    return f"<{address}>"


def transaction_commands(
    mail_from: str, recipients: Sequence[str], options: Sequence[str], *, utf8: bool
) -> list[bytes]:
    """MAIL FROM (with `options`), one RCPT TO per recipient, DATA: the command lines.

    Raises ValueError for an address that could inject (see `_path`) or that is not ASCII
    when `utf8` is false (SMTPUTF8 not in use).
    """
    encoding = "utf-8" if utf8 else "ascii"
    mail = " ".join([f"MAIL FROM:{_path(mail_from)}", *options])
    lines = [mail, *(f"RCPT TO:{_path(rcpt)}" for rcpt in recipients), "DATA"]
    return [f"{line}\r\n".encode(encoding) for line in lines]


class Exchange:
    """The commands of one transaction and their replies, in order.

    With PIPELINING every command is written at once, here; otherwise each command is
    written when its reply is asked for. `reply()` returns the next command's reply;
    `abandon()` reads the replies a pipelined batch still owes after the transaction was
    given up, and ends a DATA the upstream accepted anyway with a lone "." (RFC 2920 3.1).
    """

    def __init__(self, connection: UpstreamConnection, commands: list[bytes], timeout: float):
        self._connection = connection
        self._commands = commands
        self._timeout = timeout
        self._next = 0
        self.pipelined = connection.pipelining
        if self.pipelined:
            connection.write(b"".join(commands))

    async def reply(self) -> Reply:
        """The reply to the next command (written now unless pipelined)."""
        command = self._commands[self._next]
        self._next += 1
        if not self.pipelined:
            self._connection.write(command)
        return await self._connection.read(self._timeout)

    async def abandon(self) -> None:
        """Read what the pipelined batch still owes; a 354 to DATA gets a lone "."."""
        last: Reply | None = None
        while self.pipelined and self._next < len(self._commands):
            self._next += 1
            last = await self._connection.read(self._timeout)
        if last is not None and last.code == 354:
            # No recipient was accepted, so no message may follow: an empty one is ended
            # at once; whatever the upstream answers, nothing was delivered.
            await self._connection.command(b".\r\n", self._timeout)
