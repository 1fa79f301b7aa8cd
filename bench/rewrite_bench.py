"""Rewrite time per message (4 KB and 100 KB shapes), output size of a many-part message, and
the event loop's worst lag while DKIM-signed copies are built on the loop vs in a worker
thread: prints figures, asserts nothing."""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from proxy.mime.dkim import DkimSigner
from proxy.mime.inspect import read_message_facts
from proxy.mime.rewrite import rewrite
from proxy.settings import DkimSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.footer_factory import footer_values, rewrite_plan

VALUES = footer_values("https://relay.example/u/" + "T" * 110, source="Salon Industrie Lyon 2025")
PLAN = rewrite_plan(
    VALUES,
    mailto="mailto:unsubscribe@relay.example?subject=unsubscribe%20" + "T" * 110,
    queue_id="4XyZ9",
)


def newsletter(size: int) -> bytes:
    """multipart/alternative (QP text + QP HTML), plus a base64 attachment for large sizes."""
    paragraph = "Découvrez nos nouveautés : presses, outillage, 15 % de remise. " * 3
    count = max(1, size // 500) if size <= 8192 else size // 1000
    text = (paragraph + "\n") * count
    html = "<html><body>" + "".join(f"<p>{paragraph}</p>\n" for _ in range(count))
    html += "</body></html>\n"
    qp_text = binascii.b2a_qp(text.encode(), istext=True).replace(b"\n", b"\r\n")
    qp_html = binascii.b2a_qp(html.encode(), istext=True).replace(b"\n", b"\r\n")
    parts = [
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
        b"\r\n\r\n" + qp_text,
        b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
        b"\r\n\r\n" + qp_html,
    ]
    body = b"".join(b"--alt\r\n" + part + b"\r\n" for part in parts) + b"--alt--\r\n"
    head = (
        b"From: Acme <news@acme.example>\r\nTo: paul@acme-industrie.fr\r\nSubject: Offre\r\n"
        b"Message-ID: <bench@acme.example>\r\nMIME-Version: 1.0\r\nX-Prospect-Campaign: c\r\n"
    )
    if size <= 8192:
        return head + b'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n' + body
    blob = base64.encodebytes(os.urandom(size * 3 // 8)).replace(b"\n", b"\r\n")
    return (
        head
        + b'Content-Type: multipart/mixed; boundary="mix"\r\n\r\n--mix\r\n'
        + b'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n'
        + body
        + b"\r\n--mix\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment;"
        + b" filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + blob
        + b"--mix--\r\n"
    )


def measure(label: str, func: object, message: bytes, rounds: int) -> None:
    assert callable(func)
    func(message)
    start = time.perf_counter()
    for _ in range(rounds):
        func(message)
    per = (time.perf_counter() - start) / rounds
    print(f"{label:<28} {len(message) / 1024:7.1f} KB  {per * 1e6:9.1f} µs/message")


def _signer() -> DkimSigner:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return DkimSigner("acme.example", "sel1", pem, DkimSettings().headers)


async def _loop_lag(
    copies: int, build: Callable[[], bytes], threaded: bool
) -> tuple[float, float, float]:
    """(worst and p99 event-loop lag in ms, wall seconds) while `copies` DKIM-signed copies
    are made. Before: all built back to back on the loop (the old at_data loop). After: one
    at a time in a worker thread when forwarded (Delivery.content with offload)."""
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - start - 0.001)

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    if threaded:
        for _ in range(copies):
            await asyncio.to_thread(build)
    else:
        for _ in range(copies):
            build()
        await asyncio.sleep(0)
    wall = time.perf_counter() - started
    done.set()
    await tick
    lags.sort()
    return lags[-1] * 1000, lags[int(len(lags) * 0.99)] * 1000, wall


def loop_latency() -> None:
    """Issue 12: DKIM signing (about 8 ms per copy) on the event loop stalls every session."""
    signer = _signer()
    message = newsletter(4096)

    def build() -> bytes:
        return signer.sign(rewrite(message, PLAN))

    for label, threaded in (("on the loop (before)", False), ("worker thread (after)", True)):
        worst, p99, wall = asyncio.run(_loop_lag(100, build, threaded))
        print(
            f"DKIM 100 copies, {label:<22} loop lag worst {worst:7.1f} ms  p99 {p99:6.1f} ms"
            f"  wall {wall:5.2f} s"
        )


def output_size() -> None:
    """Issue 11: one footer per alternative, not per text part."""
    parts = b"".join(
        b"--b\r\nContent-Type: text/plain\r\n\r\nline %d\r\n" % index for index in range(10_000)
    )
    message = (
        b"From: a@acme.example\r\nMessage-ID: <many@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--\r\n"
    )
    out = rewrite(message, PLAN)
    print(f"10,000 text parts: {len(message) / 1024:7.1f} KB in, {len(out) / 1024:7.1f} KB out")


def main() -> None:
    output_size()
    loop_latency()
    for size, rounds in ((4096, 2000), (100 * 1024, 300)):
        message = newsletter(size)
        measure("rewrite", lambda m: rewrite(m, PLAN), message, rounds)
        measure(
            "read_message_facts",
            lambda m: read_message_facts(m, mail_from="a", client_ip="127.0.0.1", auth_user=None),
            message,
            rounds,
        )


if __name__ == "__main__":
    main()
