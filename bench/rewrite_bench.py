"""Rewrite time per message (4 KB and 100 KB shapes): prints figures, asserts nothing."""

from __future__ import annotations

import base64
import binascii
import os
import time

from proxy.mime.footer import FooterValues, render_footer
from proxy.mime.inspect import read_message_facts
from proxy.mime.rewrite import RewriteInstructions, rewrite
from proxy.policy.footer import DEFAULT_FOOTERS

VALUES = FooterValues(
    legal_name="Acme Industrie SAS",
    postal_address="12 quai Perrache, 69002 Lyon",
    source="Salon Industrie Lyon 2025",
    unsubscribe_url="https://relay.example/u/" + "T" * 110,
    privacy_url="https://acme.example/confidentialite",
    retention="3 ans",
    authority="la CNIL (www.cnil.fr)",
)
PLAN = RewriteInstructions(
    footer_text=render_footer(DEFAULT_FOOTERS["fr"], VALUES, html=False, notice=True),
    footer_html=render_footer(DEFAULT_FOOTERS["fr"], VALUES, html=True, notice=True),
    list_unsubscribe_url=VALUES.unsubscribe_url,
    list_unsubscribe_mailto="mailto:unsubscribe@relay.example?subject=unsubscribe%20" + "T" * 110,
    queue_id="4XyZ9",
    marker_key=b"relay-secret",
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


def main() -> None:
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
