"""Decision records and log lines: the only place that decides what personal data is logged.

Addresses reach a log only through `DecisionLog.address`: masked (`j***@example.com`, the
default), a keyed hash (HMAC-SHA256 under the relay's secret, so ops can match one address
across lines without storing it) or, for a test system only, in clear. Addresses inside free
text (an upstream's reply, an exception's message) go through the same function: the
decision record's texts in `DecisionLog`, every other line in the formatters (see
`mask_addresses_in`). Every line of one transaction carries its queue id
(`extra={"queue_id": ...}`), so ops can follow a message.

Lines are bounded: a message is cut at `MAX_MESSAGE` characters, and an exception is logged
as its type and a short message, with the traceback (cut to `MAX_TRACEBACK`) only at DEBUG.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from queue import Empty, SimpleQueue
from typing import IO, Any

from proxy.settings import LogFormat, LogSettings, RecipientLogging
from proxy.store.hashing import address_hash

__all__ = [
    "DECISION_LOGGER",
    "DecisionLog",
    "LogPipeline",
    "MessageRecord",
    "RecipientRecord",
    "configure_logging",
    "mask_address",
    "mask_addresses_in",
    "use_address_masking",
]

DECISION_LOGGER = "prospect_relay.decision"
# aiosmtpd logs every envelope address at INFO, aiosqlite every SQL statement with its
# parameters (addresses) at DEBUG, alembic its migration chatter at every start: keep these
# above INFO whatever the configured level.
_CHATTY_LOGGERS = ("mail.log", "aiosmtplib", "aiosqlite", "alembic")
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)


def mask_address(address: str) -> str:
    """`jean.dupont@example.com` -> `j***@example.com`; the null sender stays `<>`."""
    if not address:
        return "<>"
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain.lower()}"


MAX_MESSAGE = 2_000
MAX_EXCEPTION = 300
MAX_TRACEBACK = 8_000
# Octets around an "@" that can belong to an address (RFC 5321: local part 64, domain 255).
_LOCAL_MAX = 64
_DOMAIN_MAX = 255
# Characters that end an address in running text (white space ends it too).
_STOPS = frozenset("<>()[],;:\"'\\@/?=")


def _in_address(char: str) -> bool:
    return char not in _STOPS and not char.isspace() and char.isprintable()


def _local_start(text: str, at: int) -> int:
    """Where the local part ending before `at` starts (a quoted one included); `at` if none."""
    floor = max(0, at - _LOCAL_MAX - 2)
    if at > 0 and text[at - 1] == '"':
        opening = text.rfind('"', floor, at - 1)
        return opening if opening >= 0 else at
    start = at
    while start > floor and (_in_address(text[start - 1]) or text[start - 1] in "=/?'"):
        start -= 1
    return start


def mask_addresses_in(text: str, address: Callable[[str], str]) -> str:
    """`text` with every address-like `local@domain` replaced by `address(it)`.

    One pass over the "@"s, each looked at within the RFC's length limits around it, so the
    cost is linear whatever the text (a regex with `[...]+@` rescans runs without an "@").
    """
    if "@" not in text:
        return text
    out: list[str] = []
    position = 0
    at = text.find("@")
    while at >= 0:
        start = _local_start(text, at)
        end = at + 1
        limit = min(len(text), end + _DOMAIN_MAX)
        while end < limit and (_in_address(text[end]) or text[end] in "[]:"):
            end += 1
        while end > at + 1 and text[end - 1] in ".-:":
            end -= 1  # sentence punctuation after an address is not part of it
        if start < at and end > at + 1 and start >= position:
            out.append(text[position:start])
            out.append(address(text[start:end]))
            position = end
        at = text.find("@", max(at + 1, end))
    out.append(text[position:])
    return "".join(out)


_free_text_address: Callable[[str], str] = mask_address


def use_address_masking(address: Callable[[str], str]) -> None:
    """Log lines outside the decision record mask addresses in their text with `address`
    (the relay's `DecisionLog.address`, so hash mode hashes them too); mask by default."""
    global _free_text_address
    _free_text_address = address


@dataclass(frozen=True, slots=True)
class RecipientRecord:
    address: str
    action: str  # Action value, or "refused" for an upstream refusal
    stage: str  # rcpt | data | upstream
    rules: tuple[str, ...] = ()  # the acting rules, deciding rule first
    reasons: tuple[str, ...] = ()
    reply: str = ""
    would: str = ""  # monitor mode: the action enforce mode would have taken
    would_rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One message decision: what the relay did with one transaction and why."""

    queue_id: str
    peer: str
    auth_user: str | None
    mail_from: str
    size: int
    action: str  # forward | rewrite | reject | tempfail | partial
    recipients: tuple[RecipientRecord, ...]
    reply: str
    upstream: str
    upstream_reply: str
    latency_ms: float


class DecisionLog:
    """Writes one JSON object per message decision on the `prospect_relay.decision` logger."""

    def __init__(
        self, settings: LogSettings, hash_key: bytes, logger: logging.Logger | None = None
    ) -> None:
        self._mode = settings.recipients
        self._key = hash_key
        self._logger = logger or logging.getLogger(DECISION_LOGGER)

    def address(self, address: str) -> str:
        if self._mode is RecipientLogging.CLEAR or not address:
            return address or "<>"
        if self._mode is RecipientLogging.HASH:
            # The same keyed hash as the suppression list and the audit trail: joinable.
            return "h:" + address_hash(self._key, address)
        return mask_address(address)

    def text(self, text: str) -> str:
        """Free text (a reply, a reason) with its addresses shown as `address` shows them."""
        return mask_addresses_in(text, self.address)

    def record(self, entry: MessageRecord) -> None:
        decision: dict[str, Any] = {
            "queue_id": entry.queue_id,
            "peer": entry.peer,
            "auth_user": entry.auth_user,
            "mail_from": self.address(entry.mail_from),
            "recipients": [self._recipient(r) for r in entry.recipients],
            "size": entry.size,
            "action": entry.action,
            "reply": self.text(entry.reply),
            "upstream": entry.upstream,
            "upstream_reply": self.text(entry.upstream_reply),
            "latency_ms": round(entry.latency_ms, 3),
        }
        self._logger.info(
            "decision %s %s",
            entry.queue_id,
            entry.action,
            extra={"queue_id": entry.queue_id, "decision": decision},
        )

    def _recipient(self, record: RecipientRecord) -> dict[str, Any]:
        line: dict[str, Any] = {
            "address": self.address(record.address),
            "action": record.action,
            "stage": record.stage,
            "rules": list(record.rules),
            "reasons": [self.text(reason) for reason in record.reasons],
            "reply": self.text(record.reply),
        }
        if record.would:
            line["would"] = record.would
            line["would_rules"] = list(record.would_rules)
        return line


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _BoundedFormatter(logging.Formatter):
    """Messages with addresses masked and cut; exceptions as type and short message, the
    traceback (its last MAX_TRACEBACK characters, which name the fault) only at DEBUG."""

    def __init__(self, fmt: str | None = None, *, debug: bool = False) -> None:
        super().__init__(fmt)
        self._debug = debug

    def message(self, record: logging.LogRecord) -> str:
        return _cut(mask_addresses_in(record.getMessage(), _free_text_address), MAX_MESSAGE)

    def formatException(self, ei: Any) -> str:
        error = ei[1]
        text = f"{type(error).__name__}: {_cut(str(error), MAX_EXCEPTION)}"
        if self._debug:  # the innermost frames name the fault: keep the end
            frames = "".join(traceback.format_tb(ei[2]))
            frames = frames if len(frames) <= MAX_TRACEBACK else "..." + frames[-MAX_TRACEBACK:]
            text = f"Traceback (most recent call last):\n{frames}{text}"
        return mask_addresses_in(text, _free_text_address)


class JsonFormatter(_BoundedFormatter):
    """One JSON object per line; a decision record's fields are merged at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        decision = getattr(record, "decision", None)
        if isinstance(decision, dict):
            line["event"] = "decision"
            line.update(decision)
        else:
            line["message"] = self.message(record)
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key != "decision" and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(_BoundedFormatter):
    """Human-readable lines for a terminal: `time level logger [q=id] message key=value...`."""

    def __init__(self, *, debug: bool = False) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", debug=debug)

    def formatMessage(self, record: logging.LogRecord) -> str:
        message = self.message(record)
        queue_id = getattr(record, "queue_id", None)
        record.message = f"[q={queue_id}] {message}" if queue_id else message
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = None  # formatted here, bounded, never a cached full traceback
        text = super().format(record)
        decision = getattr(record, "decision", None)
        if isinstance(decision, dict):
            fields = " ".join(
                f"{key}={json.dumps(value, default=str, ensure_ascii=False)}"
                for key, value in decision.items()
                if key != "queue_id"
            )
            text = f"{text} {fields}"
        return text


class _DeferredQueueHandler(logging.handlers.QueueHandler):
    """Hands each record to the writer thread as it is: formatting and I/O both happen there.

    (The stock QueueHandler formats in the caller's thread; the relay's callers are the
    event loop.) Log arguments in this code base are immutable values, so deferring the
    formatting cannot change a message.
    """

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class _PollingListener(logging.handlers.QueueListener):
    """Writes what was queued every `_POLL_SECONDS` instead of waking for each record.

    A thread blocked on the queue is woken by every put, and each wake-up hands the GIL over
    and back: about a tenth of the relay's CPU per message at full load. Polling makes a log
    call an append; lines reach the file at most `_POLL_SECONDS` later, and `stop()` (the
    sentinel) still writes everything queued before it.
    """

    def __init__(
        self, pending: SimpleQueue[logging.LogRecord | None], handler: logging.Handler
    ) -> None:
        super().__init__(pending, handler)
        self._pending = pending

    def _monitor(self) -> None:
        pending = self._pending
        while True:
            time.sleep(_POLL_SECONDS)
            while True:
                try:
                    record = pending.get_nowait()
                except Empty:
                    break
                if record is None:  # QueueListener.stop()'s sentinel
                    return
                self.handle(record)


_POLL_SECONDS = 0.05


class LogPipeline:
    """The thread that writes log lines, so a slow disk or a full stdout pipe never stalls
    the event loop. `flush()` waits for the lines queued so far; `stop()` at exit."""

    def __init__(self, listener: logging.handlers.QueueListener) -> None:
        self._listener = listener
        self._running = False

    def start(self) -> None:
        self._listener.start()
        self._running = True

    def flush(self) -> None:
        self.stop()  # drains the queue and joins the thread
        self.start()

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._listener.stop()


_pipeline: LogPipeline | None = None


def configure_logging(settings: LogSettings, stream: IO[str] | None = None) -> LogPipeline:
    """Install the root handler: JSON lines or text, on stdout or the configured file,
    written by a background thread (see LogPipeline)."""
    global _pipeline
    target = stream if stream is not None else sys.stdout
    handler: logging.Handler
    if settings.file is not None:
        settings.file.parent.mkdir(parents=True, exist_ok=True)
        # WatchedFileHandler reopens the file after logrotate moved it.
        handler = logging.handlers.WatchedFileHandler(settings.file, encoding="utf-8")
        is_terminal = False
    else:
        handler = logging.StreamHandler(target)
        is_terminal = hasattr(target, "isatty") and target.isatty()
    use_json = settings.format is LogFormat.JSON or (
        settings.format is LogFormat.AUTO and not is_terminal
    )
    debug = settings.level.upper() == "DEBUG"
    handler.setFormatter(JsonFormatter(debug=debug) if use_json else TextFormatter(debug=debug))
    if _pipeline is not None:
        _pipeline.stop()
    else:
        atexit.register(lambda: _pipeline.stop() if _pipeline is not None else None)
    queue: SimpleQueue[logging.LogRecord | None] = SimpleQueue()
    listener = _PollingListener(queue, handler)
    _pipeline = LogPipeline(listener)
    _pipeline.start()
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(_DeferredQueueHandler(queue))
    root.setLevel(settings.level.upper())
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return _pipeline
