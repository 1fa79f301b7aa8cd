"""Hostile message shapes, shared by the e2e tests, the hypothesis suite and
bench/adversarial_bench.py: each builds CRLF bytes no mail library would write."""

from __future__ import annotations

HOSTILE_SENDER = "someone@elsewhere.example"


def raw_message(
    headers: list[str], body: str = "hello\r\n", *, to: str = "unsubscribe@relay.test"
) -> bytes:
    """A message from literal header lines, after From/To/Message-ID."""
    base = [f"From: <{HOSTILE_SENDER}>", f"To: <{to}>", "Message-ID: <h@elsewhere.example>"]
    return ("\r\n".join([*base, *headers]) + "\r\n\r\n" + body).encode("utf-8")


def folded(name: str, words: list[str]) -> str:
    """`name: words...` folded into lines well under 998 octets."""
    lines: list[str] = []
    line = f"{name}:"
    for word in words:
        if len(line) + len(word) > 900:
            lines.append(line)
            line = ""
        line += " " + word
    return "\r\n".join([*lines, line])


def multipart(content_type: str, parts: list[str], boundary: str = "b") -> str:
    """A multipart entity (its Content-Type line, a blank line, then the parts)."""
    body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts) + f"--{boundary}--\r\n"
    return f'Content-Type: {content_type}; boundary="{boundary}"\r\n\r\n{body}'


def with_entity(headers: list[str], entity: str, *, to: str = "unsubscribe@relay.test") -> bytes:
    """A message whose top-level entity is `entity` (its own header lines, then its body)."""
    return raw_message(["MIME-Version: 1.0", *headers], "", to=to).replace(
        b"\r\n\r\n", b"\r\n" + entity.encode(), 1
    )


def nested(levels: int) -> str:
    """`levels` of multipart around one text part."""
    entity = "Content-Type: text/plain\r\n\r\ndeep"
    for level in range(levels):
        entity = multipart("multipart/mixed", [entity], boundary=f"b{level}")
    return entity


def unterminated_words(size: int) -> str:
    """A Subject of unterminated RFC 2047 words (decode_header's worst case), ~size octets."""
    return folded("Subject", ["=?utf-8?q?a"] * (size // 12))


def unterminated_quote(size: int) -> str:
    """A Content-Type whose parameter opens a quote and never closes it, full of `;`."""
    return folded("Content-Type", ['text/plain; name="x', *(["a;"] * (size // 3))])


def signed_lt_runs(parts: int, run: int) -> str:
    """multipart/signed whose HTML parts are runs of `<` (the mention scan's worst case)."""
    html = ["Content-Type: text/html\r\n\r\n" + "<" * run for _ in range(parts)]
    return multipart('multipart/signed; protocol="application/pgp-signature"', html)


def address_runs(size: int) -> str:
    """A `To:` of `@` runs (email.utils.getaddresses: ~40 µs per `@`), ~size octets."""
    return folded("To", ["@" * 800] * (size // 801))
