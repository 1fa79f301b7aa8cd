"""The linear header readers: RFC 2047 words, comments, HTML tags, content limits."""

from __future__ import annotations

import re
from email.header import decode_header, make_header

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.mime.header_text import addresses, decode_words, strip_comments
from proxy.mime.limits import ContentLimits, check_limits
from proxy.mime.mentions import strip_tags

# The tag pattern the mention scan used before (quadratic on runs of "<"): the reference.
OLD_TAG = re.compile(
    r"<(?:style|script)\b.*?</(?:style|script)\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL
)
LIMITS = ContentLimits(max_header_size=4096, max_mime_parts=4, max_mime_depth=2)


@pytest.mark.parametrize(
    ("value", "decoded"),
    [
        (
            "=?utf-8?q?RE=3A_unpaid?= =?x-unknown?q?zz?= invoice",
            "RE: unpaid =?x-unknown?q?zz?= invoice",
        ),
        ("Hello =?utf-8?q?W?= world", "Hello W world"),
        ("=?UTF-8?Q?caf=C3=A9?=  =?ISO-8859-1?Q?_=E9t=E9?=", "café été"),
        ("=?utf-8?b?w6k=?=\t=?utf-8?b?w6k=?=", "éé"),
        ("=?utf-8?b?w6?= =?utf-8?b?qQ?=", "é"),  # one character split across two words
        ("=?utf-8?b?!!?= ok", "=?utf-8?b?!!?= ok"),
        ("=?utf-8?q?a", "=?utf-8?q?a"),
        ("=?utf-8*fr?q?oui?=", "oui"),
        ("plain text", "plain text"),
    ],
)
def test_decode_words(value: str, decoded: str) -> None:
    assert decode_words(value) == decoded


@given(st.lists(st.sampled_from(["=?utf-8?q?a?=", "=?latin-1?b?6Q==?=", " ", "x", "=?", "?="])))
def test_decode_words_agrees_with_the_email_package_where_it_succeeds(words: list[str]) -> None:
    value = "".join(words)
    try:
        reference = str(make_header(decode_header(value)))
    except Exception:  # the email package gives up on the whole value; we never do
        decode_words(value)
        return
    # (the email package also puts a space between a word and the text right after it)
    assert "".join(decode_words(value).split()) == "".join(reference.split())


def test_decode_words_is_linear_on_unterminated_words() -> None:
    # decode_header took ~10 s on 96 KB of these; a budget of seconds is generous here.
    assert decode_words("=?utf-8?q?a " * 20_000).startswith("=?utf-8?q?a")


@pytest.mark.parametrize(
    ("value", "stripped"),
    [
        ("a (b (c) d) <x@y>", "a   <x@y>"),
        ('"(quoted)" <x@y> (c\\) still comment)', '"(quoted)" <x@y>  '),
        ("<x@y> (unterminated", "<x@y> "),
        ("no comment", "no comment"),
    ],
)
def test_strip_comments(value: str, stripped: str) -> None:
    assert strip_comments(value) == stripped


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ('Paul <paul@a.example>, b@b.example,\r\n "P, again" <PAUL@a.example>',
         ["paul@a.example", "b@b.example", "PAUL@a.example"]),
        ("c@c.example, undisclosed-recipients:;", ["c@c.example"]),
        ('Team: a@x.org, "b, c"@y.org; d@z', ["a@x.org", '"b, c"@y.org', "d@z"]),
        ("<@relay1,@relay2:a@b.example>", ["a@b.example"]),
        ("a @ b . example", ["a@b.example"]),
        ("x@[IPv6:2001:db8::1]", ["x@[IPv6:2001:db8::1]"]),
        ("<unterminated@x.example", ["unterminated@x.example"]),
        ("", []),
    ],
)  # fmt: skip
def test_addresses(value: str, found: list[str]) -> None:
    assert addresses(value) == found


@pytest.mark.parametrize("run", [":", "@", "<", ",", '"a'])
def test_addresses_of_long_runs_do_not_recurse(run: str) -> None:
    # email.utils.getaddresses recursed once per ":" and took ~0.8 s on 20 KB of "@".
    assert isinstance(addresses(run * 50_000), list)


def test_deeply_nested_comments_do_not_recurse() -> None:
    assert strip_comments("(" * 50_000 + ")" * 50_000 + "<x@y>") == " <x@y>"


@given(st.text(alphabet="<>/ abcstylecrip\n", max_size=60))
def test_strip_tags_reads_html_as_the_old_pattern_did(text: str) -> None:
    assert strip_tags(text) == OLD_TAG.sub(" ", text)


def _message(headers: str, body: str = "hi\r\n") -> bytes:
    return (headers + "\r\n\r\n" + body).encode()


def _parts(count: int, depth: int = 1) -> bytes:
    entity = (
        "Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
        + "".join("--b0\r\n\r\nx\r\n" for _ in range(count))
        + "--b0--\r\n"
    )
    for level in range(1, depth):
        entity = (
            f"Content-Type: multipart/mixed; boundary=b{level}\r\n\r\n--b{level}\r\n"
            + entity
            + f"\r\n--b{level}--\r\n"
        )
    return ("Subject: s\r\n" + entity).encode()


@pytest.mark.parametrize(
    ("message", "limit"),
    [
        (_message("Subject: " + "x" * 989), None),  # 998 octets: the RFC maximum
        (_message("Subject: " + "x" * 990), "header-line"),
        (_message("Subject: s\r\nContent-Type: text/plain; x=" + "y" * 990), "header-line"),
        (_message("\r\n".join(["X-A: " + "a" * 900] * 5)), "header-size"),
        (_parts(4), None),
        (_parts(5), "mime-parts"),
        (_parts(1, depth=2), None),
        (_parts(1, depth=3), "mime-depth"),
        (_message("X-Prospect-Campaign: " + "c" * 200), None),
        (_message("X-Prospect-Campaign: =?utf-8?q?" + "=C3=A9" * 101 + "?="), "campaign-header"),
    ],
)
def test_limits(message: bytes, limit: str | None) -> None:
    exceeded = check_limits(message, LIMITS)
    assert (exceeded.limit if exceeded else None) == limit
