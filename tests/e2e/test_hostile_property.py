"""Hypothesis over hostile headers and MIME shapes, sent from outside `allowed_networks` to the
public unsubscribe mailbox of a real `prospect-relay serve` process.

Each message must be answered within a per-message budget with a refusal that names a cause
(no token, or a content limit), never a 451 internal error; /healthz, polled from another
thread for the whole run, must keep answering. Budgets are generous (seconds, where the
relay needs milliseconds): they catch a hang or quadratic growth, not a slow machine.
"""

from __future__ import annotations

import smtplib
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.e2e.serve_helpers import serve_config, wait_for_log
from tests.hostile import (
    HOSTILE_SENDER,
    folded,
    multipart,
    raw_message,
    signed_lt_runs,
    unterminated_quote,
    unterminated_words,
    with_entity,
)
from tests.waiting import wait_until_blocking

BUDGET = 5.0  # seconds per message, and per /healthz answer
MAILBOX = "unsubscribe@relay.test"
OUTSIDE = "127.0.0.2"

# Fragments that stress the readers: RFC 2047 words (terminated or not, unknown charsets),
# quotes, comments, parameters, tags, addresses.
HEADER_BITS = [
    "=?utf-8?q?a",
    "=?utf-8?q?a?=",
    "=?x-unknown?b?QQ==?=",
    "=?utf-8?b?w6k",
    "?=",
    "=?",
    '"',
    "(",
    ")",
    "\\",
    ";",
    "a=b",
    'name="x',
    "<",
    ">",
    "@",
    ",",
    "a",
    "x@y.example",
]
BODY_BITS = ["<", "<<", "<script", "</style>", "<style>", ">", "a", "&amp;", "href=", "\r\n"]
HEADER_NAMES = ["Subject", "To", "Cc", "From", "Content-Type", "X-Prospect-Campaign", "X-Other"]


def repeated(bits: list[str], most: int) -> st.SearchStrategy[str]:
    """A short random pattern of `bits`, repeated up to `most` times (repetition is what
    shows a quadratic reader)."""
    pattern = st.lists(st.sampled_from(bits), min_size=1, max_size=12)
    return st.builds(lambda p, n: "".join(p) * n, pattern, st.integers(1, most))


header_fields = st.lists(
    st.builds(
        lambda name, value: folded(name, value.split(" ") if " " in value else [value]),
        st.sampled_from(HEADER_NAMES),
        repeated([*HEADER_BITS, " "], 2000),
    ),
    max_size=4,
)

leaf = st.builds(
    lambda subtype, body: f"Content-Type: text/{subtype}\r\n\r\n{body}",
    st.sampled_from(["plain", "html"]),
    repeated(BODY_BITS, 5000),
)


def _container(children: st.SearchStrategy[list[str]]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda kind, parts, tag: multipart(f"multipart/{kind}", parts, boundary=f"b{tag}"),
        st.sampled_from(["mixed", "alternative", "signed", "related"]),
        children,
        st.integers(0, 10**9),
    )


mime_shapes = st.recursive(leaf, lambda inner: _container(st.lists(inner, min_size=1, max_size=6)))


@dataclass
class Health:
    """/healthz polled from a thread for the whole module: answers, failures, worst latency."""

    url: str
    done: threading.Event = field(default_factory=threading.Event)
    answers: int = 0
    failures: list[str] = field(default_factory=list)
    worst: float = 0.0

    def poll(self) -> None:
        while not self.done.is_set():
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=60) as response:
                    if response.status != 200:
                        self.failures.append(f"status {response.status}")
            except OSError as exc:
                self.failures.append(repr(exc))
            self.answers += 1
            self.worst = max(self.worst, time.perf_counter() - started)
            self.done.wait(0.02)


@dataclass
class Relay:
    smtp_port: int
    health: Health


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    tmp = tmp_path_factory.mktemp("hostile")
    config = serve_config(tmp)  # the shipped policy, SQLite, outbox, JSON log file
    smtp = '[smtp]\nport = 0\nhostname = "relay.test"\nallowed_networks = ["127.0.0.1/32"]\n'
    config.write_text(config.read_text().replace("[smtp]\nport = 0\n", smtp, 1))
    command = [sys.executable, "-m", "proxy"]
    subprocess.run([*command, "db", "upgrade", "--config", str(config)], check=True, timeout=60)
    process = subprocess.Popen(
        [*command, "serve", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log = tmp / "relay.log"
    try:
        smtp_port = int(wait_for_log(log, r"SMTP listening on 127\.0\.0\.1:(\d+)").group(1))
        web_port = int(wait_for_log(log, r"web listening on 127\.0\.0\.1:(\d+)").group(1))
        health = Health(f"http://127.0.0.1:{web_port}/healthz")
        poller = threading.Thread(target=health.poll, daemon=True)
        poller.start()
        yield Relay(smtp_port, health)
        health.done.set()
        poller.join(timeout=120)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _send(port: int, message: bytes) -> tuple[int, str, float]:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=120, source_address=(OUTSIDE, 0)) as client:
        client.ehlo("outside.example")
        client.mail(HOSTILE_SENDER)
        client.rcpt(MAILBOX)
        code, text = client.data(message)
    return code, text.decode("utf-8", "replace"), time.perf_counter() - started


# The shapes the audit found (each took 5-20 s before), then Hypothesis's own.
@example(headers=[unterminated_words(60_000)], entity=None)
@example(headers=[unterminated_quote(60_000)], entity=None)
@example(headers=[], entity=signed_lt_runs(10, 33_000))
@example(headers=[folded("To", ["("] * 1500 + ["x"] + [")"] * 1500)], entity=None)
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(headers=header_fields, entity=st.one_of(st.none(), mime_shapes))
def test_hostile_shapes_are_answered_within_budget_while_healthz_answers(
    relay: Relay, headers: list[str], entity: str | None
) -> None:
    if entity is None:
        message = raw_message(["MIME-Version: 1.0", *headers], to=MAILBOX)
    else:
        message = with_entity(headers, entity, to=MAILBOX)
    answers_before = relay.health.answers

    code, text, seconds = _send(relay.smtp_port, message)

    assert code in (550, 552, 554), (code, text)  # a named refusal, never a 451 fault
    assert seconds < BUDGET, (seconds, len(message))
    assert relay.health.failures == []
    assert relay.health.worst < BUDGET
    wait_until_blocking(
        lambda: relay.health.answers > answers_before,
        "/healthz to answer again after this message",
        timeout=BUDGET,
        every=0.01,
    )
