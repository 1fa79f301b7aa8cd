"""Large-message work off the event loop: the offloader's routing, bound and budget, and DATA
unstuffed piece by piece instead of in one long C call over the whole message (the upstream
payload's pieces are tested in test_fast_paths.py). No timing: jobs are held on events, never
raced against a clock."""

from __future__ import annotations

import asyncio
import hashlib
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.errors import BudgetExceeded
from proxy.mime.headers import body_digest
from proxy.mime.textpart import _needs_qp
from proxy.offload import Offloader
from proxy.smtp.server import _unstuff


def _offloader(**overrides: float) -> Offloader:
    values: dict[str, float] = {"threshold": 1000, "workers": 1, "budget": 30.0, **overrides}
    return Offloader(
        threshold=int(values["threshold"]), workers=int(values["workers"]), budget=values["budget"]
    )


async def test_small_messages_run_inline_and_large_ones_in_a_worker() -> None:
    offload = _offloader()
    loop_thread = threading.get_ident()

    small = await offload.run(999, threading.get_ident)
    large = await offload.run(1000, threading.get_ident)
    forced = await offload.run(10, threading.get_ident, always=True)

    assert small == loop_thread
    assert large != loop_thread
    assert forced != loop_thread


async def test_a_job_errors_reach_the_caller() -> None:
    def broken() -> None:
        raise ValueError("bad part")

    with pytest.raises(ValueError, match="bad part"):
        await _offloader().run(5000, broken)


async def test_a_job_over_budget_is_abandoned_and_keeps_its_worker_until_it_ends() -> None:
    offload = _offloader(budget=0.05)
    release = threading.Event()

    def stuck() -> str:
        release.wait(30)
        return "late"

    with pytest.raises(BudgetExceeded) as running:
        await offload.run(5000, stuck)
    assert running.value.started  # it ran the whole budget: the message is too costly

    with pytest.raises(BudgetExceeded) as waiting:  # the only worker is still busy
        await offload.run(5000, lambda: "next")
    assert not waiting.value.started  # never started: only the pool was busy

    release.set()
    offload.budget = 30.0
    assert await offload.run(5000, lambda: "after") == "after"  # the slot came back


async def test_jobs_beyond_the_worker_count_wait_for_a_slot() -> None:
    offload = _offloader(workers=2)
    gate = threading.Event()
    running = 0
    most = 0
    lock = threading.Lock()

    def job() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        gate.wait(30)
        with lock:
            running -= 1

    jobs = [asyncio.create_task(offload.run(5000, job)) for _ in range(5)]
    while running < 2:
        await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(*jobs)

    assert most == 2


# -- DATA unstuffing, piece by piece ------------------------------------------------------

_DATA_BITS = st.sampled_from([b"a", b".", b"\r", b"\n", b"\r\n", b"\r\n.", b"..", b"x y"])


@settings(max_examples=1500, deadline=None)
@given(st.lists(_DATA_BITS), st.lists(st.integers(min_value=0, max_value=40)))
def test_unstuffing_in_pieces_equals_unstuffing_the_whole(
    bits: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(bits)
    pieces, start = [], 0
    for cut in sorted(c for c in cuts if c <= len(data)):
        pieces.append(data[start:cut])
        start = cut
    pieces.append(data[start:])

    out, before = [], b"\r\n"
    for piece in pieces:
        out.append(_unstuff(piece, before))
        before = (before + piece)[-2:]

    assert b"".join(out) == _unstuff(data) == _reference_unstuff(data)


def _reference_unstuff(data: bytes) -> bytes:
    """The definition: a dot that starts a line (after the implicit CRLF before the data, or
    after a CRLF in it) is dropped."""
    framed = b"\r\n" + data
    return bytes(
        byte
        for i, byte in enumerate(framed)
        if i >= 2 and not (byte == ord(".") and framed[i - 2 : i] == b"\r\n")
    )


# -- other whole-part transforms done in pieces (proxy/mime/pieces.py) -----------------------


def _reference_digest(body: bytes) -> bytes:
    return hashlib.sha256(body.replace(b"\r\n", b"\n").rstrip()).digest()


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b"a", b" ", b"\r", b"\n", b"\r\n", b"\t", b"\x0b", b"x" * 300])))
def test_body_digest_equals_its_definition(bits: list[bytes]) -> None:
    body = b"".join(bits)
    assert body_digest(body) == _reference_digest(body)


def test_several_pieces_give_the_same_digest_and_long_line_verdict() -> None:
    lines = [b"x" * (i % 1200) + (b"\r\n" if i % 3 else b"\n") for i in range(5000)]
    body = b"".join(lines) + b" \r\n\t"  # about 3 MB: three pieces
    at_limit = b"".join(b"y" * 997 + b"\r\n" for _ in range(3000))  # 998 octets with the CR

    assert body_digest(body) == _reference_digest(body)
    assert _needs_qp(body, "8bit")  # lines up to 1,199 octets
    assert not _needs_qp(at_limit, "8bit")
    assert _needs_qp(at_limit + b"z" * 999, "8bit")
