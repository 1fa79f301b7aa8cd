"""Rewrite case table: placement, encodings, charsets, headers, marker and idempotence."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from email.message import EmailMessage

import pytest

from proxy.mime.headers import MARKER_HEADER, body_digest, marker_value
from proxy.mime.rewrite import (
    Placement,
    RewriteInstructions,
    check_required_mentions,
    rewrite,
    rewrite_copy,
)

PLAN = RewriteInstructions(
    footer_text="Prospection commerciale — désinscription : https://r.example/u/T",
    footer_html='<p class="ft">Prospection commerciale — <a href="https://r.example/u/T">x</a></p>',
    list_unsubscribe_url="https://r.example/u/T",
    list_unsubscribe_mailto="mailto:unsubscribe@r.example?subject=unsubscribe%20T",
    queue_id="QID1",
    marker_key=b"k",
)
HEAD = b"From: a@acme.example\r\nTo: b@example.org\r\nMessage-ID: <m1@acme.example>\r\n"


def msg(body_headers: bytes, body: bytes, eol: bytes = b"\r\n") -> bytes:
    raw = HEAD + body_headers + b"\r\n" + body
    return raw.replace(b"\r\n", eol)


def content(raw: bytes) -> str:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    result = parsed.get_content()
    assert isinstance(result, str)
    return result


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
def test_plain_text_footer_appended_after_blank_line(eol: bytes) -> None:
    raw = msg(b"Content-Type: text/plain; charset=utf-8\r\n", b"Hello\r\n", eol)
    out = rewrite(raw, PLAN)
    assert content(out) == f"Hello{eol.decode()}{eol.decode()}{PLAN.footer_text}{eol.decode()}"
    assert (b"\r\n" in out) == (eol == b"\r\n")  # line endings stay consistent


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (b"<html><body>Hi</body></html>", '<html><body>Hi<p class="ft">'),
        (b"<HTML><BODY>Hi</BODY></HTML>", '<HTML><BODY>Hi<p class="ft">'),
        (b"<body>a</body><!-- </body> -->", "<body>a<p class"),  # not inside the comment
        (b"<div>no body tag</div>", '<div>no body tag</div>\r\n<p class="ft">'),
        (b"<html><p>x</p></html>", '<p>x</p><p class="ft">'),
    ],
)
def test_html_footer_position(html: bytes, expected: str) -> None:
    out = rewrite(msg(b"Content-Type: text/html; charset=utf-8\r\n", html), PLAN)
    assert expected in content(out)
    assert content(out).count('class="ft"') == 1


def test_empty_body_gets_footer_only() -> None:
    out = rewrite(msg(b"Content-Type: text/plain\r\n", b""), PLAN)
    assert content(out).strip() == PLAN.footer_text


def test_us_ascii_7bit_becomes_utf8_quoted_printable() -> None:
    out = rewrite(msg(b"Content-Type: text/plain; charset=us-ascii\r\n", b"Hi\r\n"), PLAN)
    parsed = email.message_from_bytes(out, policy=email.policy.default)
    assert parsed.get_content_charset() == "utf-8"
    assert parsed["Content-Transfer-Encoding"] == "quoted-printable"
    assert out.isascii()
    assert "—" in content(out)


def test_latin1_text_with_unencodable_footer_is_transcoded() -> None:
    body = "Café crème\r\n".encode("latin-1")
    headers = b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n"
    out = rewrite(msg(headers, body), PLAN)
    assert content(out).startswith("Café crème")  # "—" is not latin-1: whole part to utf-8
    assert "charset=utf-8" in out.decode("ascii", "replace")


def test_html_keeps_charset_and_uses_character_references() -> None:
    body = "<html><body>Café</body></html>".encode("latin-1")
    headers = b"Content-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n"
    out = rewrite(msg(headers, body), PLAN)
    assert b"&#8212;" in out and b"charset=iso-8859-1" in out
    assert "Café" in content(out)


def test_base64_part_is_reencoded() -> None:
    headers = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
    out = rewrite(msg(headers, b"SGVsbG8gd29ybGQK\r\n"), PLAN)
    assert content(out).startswith("Hello world\n")
    assert PLAN.footer_text in content(out)
    assert all(len(line) <= 78 for line in out.split(b"\r\n")[8:])


def test_headers_replaced_removed_and_kept() -> None:
    headers = (
        b"List-Unsubscribe: <https://old.example/u>\r\n"
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        b"X-Prospect-Campaign: c1\r\nX-prospect-source: fair\r\nX-Other: kept\r\n"
        b"Content-Type: text/plain\r\n"
    )
    out = rewrite(msg(headers, b"x\r\n"), PLAN)
    head = out.split(b"\r\n\r\n")[0]
    assert head.count(b"List-Unsubscribe:") == 1 and b"old.example" not in head
    assert head.count(b"List-Unsubscribe-Post:") == 1
    assert b"X-Prospect-Campaign" not in head and b"X-prospect-source" not in head
    assert b"X-Other: kept\r\n" in head and b"Message-ID: <m1@acme.example>\r\n" in head
    assert b"X-Prospect-Relay-Queue-Id: QID1\r\n" in head
    assert head.split(b"\r\n")[-1].startswith(MARKER_HEADER.encode() + b": v2 ")


def test_long_header_folded_and_over_long_input_refolded() -> None:
    long_value = b" ".join(b"word%03d" % i for i in range(200))
    headers = b"X-Long: " + long_value + b"\r\nContent-Type: text/plain\r\n"
    plan = RewriteInstructions(list_unsubscribe_url="https://r.example/u/" + "A" * 400)
    out = rewrite(msg(headers, b"x\r\n"), plan)
    head = out.split(b"\r\n\r\n")[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    assert b" ".join(head.split(b"X-Long:")[1].split(b"\r\nContent-Type")[0].split()) == long_value
    assert b"List-Unsubscribe: <https://r.example/u/" + b"A" * 400 + b">" in head


def test_forged_marker_does_not_skip_the_footer() -> None:
    headers = f"{MARKER_HEADER}: 1\r\nContent-Type: text/plain\r\n".encode()
    out = rewrite(msg(headers, b"x\r\n"), PLAN)
    assert PLAN.footer_text in content(out)
    assert out.count(MARKER_HEADER.encode()) == 1


def test_valid_marker_skips_footer_but_normalises_headers() -> None:
    value = marker_value(b"k", "<m1@acme.example>", body_digest(b"x\r\n"))
    headers = f"{MARKER_HEADER}: {value}\r\nX-Prospect-Campaign: c\r\nContent-Type: text/plain\r\n"
    result = rewrite_copy(msg(headers.encode(), b"x\r\n"), PLAN)
    assert content(result.message) == "x\r\n" or content(result.message) == "x\n"
    assert b"X-Prospect-Campaign" not in result.message and b"List-Unsubscribe:" in result.message
    assert result.footer is None  # the record says: nothing placed


def test_valid_marker_on_another_body_does_not_skip_the_footer() -> None:
    value = marker_value(b"k", "<m1@acme.example>", body_digest(b"x\r\n"))
    headers = f"{MARKER_HEADER}: {value}\r\nContent-Type: text/plain\r\n"
    result = rewrite_copy(msg(headers.encode(), b"new offer\r\n"), PLAN)
    assert result.footer is Placement.PARTS and PLAN.footer_text in content(result.message)


def test_headers_only_plan_leaves_body_alone() -> None:
    raw = msg(b"Content-Type: text/plain\r\n", b"body\r\n")
    out = rewrite(raw, RewriteInstructions(list_unsubscribe_url="https://r.example/u/T"))
    assert out.endswith(b"\r\n\r\nbody\r\n") and MARKER_HEADER.encode() not in out


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"no headers at all",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\nno delimiter",
        b"Content-Type: multipart/mixed\r\n\r\n--\r\n",
        b"Content-Type: text/plain; charset=x-unknown\r\n\r\n\xff\xfe",
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!",
        b"Content-Type: text/plain; charset=utf-16\r\n\r\n\xff\xfeh\x00",
        b"\r\n\r\n\r\n",
    ],
)
def test_malformed_input_never_raises(garbage: bytes) -> None:
    out = rewrite(garbage, PLAN)
    assert b"List-Unsubscribe:" in out
    assert rewrite(out, PLAN) == out


def test_plan_validation() -> None:
    with pytest.raises(ValueError):
        RewriteInstructions(footer_text="only text")
    with pytest.raises(ValueError):
        RewriteInstructions(list_unsubscribe_url="https://x/\r\nBcc: evil@example.org")


def test_required_mentions() -> None:
    bare = msg(b"Content-Type: text/plain\r\n", b"Buy now\r\n")
    assert check_required_mentions(bare) == [
        "unsubscribe-link",
        "source-statement",
        "commercial-statement",
    ]
    good = msg(
        b"Content-Type: text/html; charset=utf-8\r\n",
        "<p>Offre commerciale. Votre adresse a été obtenue lors du salon.</p>"
        '<a href="https://x.example/u/1">Se désinscrire</a>'.encode(),
    )
    assert check_required_mentions(good) == []


def test_a_copy_without_links_keeps_the_senders_list_unsubscribe() -> None:
    """Transactional (untouched) copies only lose the campaign headers."""
    original = (
        b"From: alerts@shop.example\r\nTo: a@example.org\r\nSubject: reset\r\n"
        b"List-Unsubscribe: <https://shop.example/u/1>\r\nX-Prospect-Campaign: c1\r\n\r\nbody\r\n"
    )
    out = rewrite(original, RewriteInstructions())
    assert b"List-Unsubscribe: <https://shop.example/u/1>\r\n" in out
    assert b"X-Prospect-Campaign" not in out
    assert out.endswith(b"\r\n\r\nbody\r\n")


def test_marker_counts_only_for_the_recipient_it_was_written_for() -> None:
    """A whole delivered copy replayed to another recipient gets that recipient's footer."""
    raw = msg(b"Content-Type: text/plain; charset=utf-8\r\n", b"Offre\r\n")
    plan_a = replace(PLAN, marker_recipient="a@example.org")
    copy_a = rewrite_copy(raw, plan_a)
    assert copy_a.footer is Placement.PARTS
    again = rewrite_copy(copy_a.message, plan_a)
    assert again.footer is None and again.message == copy_a.message
    plan_b = replace(PLAN, footer_text="Footer for B", marker_recipient="b@example.org")
    replayed = rewrite_copy(copy_a.message, plan_b)
    assert replayed.footer is Placement.PARTS and "Footer for B" in content(replayed.message)
