"""The per-message memo: readers compute once per message, and nothing keeps a large message
(or the HTML drawn from it) once its transaction is over."""

from __future__ import annotations

import sys

from proxy.mime.headers import has_valid_marker
from proxy.mime.htmlplace import html_spot
from proxy.mime.layout import footer_layout
from proxy.mime.memo import CACHED_MAX, message_memo
from proxy.mime.mentions import message_mentions
from proxy.mime.tree import parse
from tests.hostile import multipart, with_entity


def _message(size: int, tag: str) -> bytes:
    html = "Content-Type: text/html\r\n\r\n<html><body>" + f"<p>{tag}</p>\r\n" * (size // 12)
    text = "Content-Type: text/plain\r\n\r\nhello\r\n"
    entity = multipart("multipart/alternative", [text, html + "</body></html>\r\n"])
    return with_entity(["Subject: hi", "X-Prospect-Relay-Footer: v2 x"], entity)


def _read_all(message: bytes) -> None:
    root = parse(message)
    footer_layout(message)
    message_mentions(message)
    has_valid_marker(message, root, b"key", "a@b.example")
    part = root.children[1]
    html_spot(message[part.body_start : part.end].decode("latin-1"))


def test_inside_a_transaction_each_reader_computes_once_and_lets_go_after() -> None:
    message = _message(2 * CACHED_MAX, "large")
    before = sys.getrefcount(message)

    with message_memo(message):
        first = parse(message)
        _read_all(message)
        assert parse(message) is first
        assert footer_layout(message) is footer_layout(message)

    assert sys.getrefcount(message) == before  # no cache holds it


def test_outside_a_transaction_only_small_messages_are_cached() -> None:
    large = _message(2 * CACHED_MAX, "big")
    small = _message(4096, "small")
    large_before, small_before = sys.getrefcount(large), sys.getrefcount(small)

    _read_all(large)
    _read_all(small)

    assert sys.getrefcount(large) == large_before
    assert sys.getrefcount(small) > small_before  # the LRU cache holds it (and that is bounded)
    assert parse(small) is parse(small)
    assert parse(large) is not parse(large)


def test_a_transaction_memo_is_its_own() -> None:
    one, two = _message(2 * CACHED_MAX, "one"), _message(2 * CACHED_MAX, "two")
    with message_memo(one):
        tree = parse(one)
        assert parse(two) is not parse(two)  # another large message: not kept
        with message_memo(two):
            assert parse(two) is parse(two)
        assert parse(one) is tree


def test_small_inputs_are_shared_across_messages() -> None:
    """A campaign's messages repeat the same HTML part: its placement is computed once."""
    html = "<html><body>" + "<p>news</p>" * 100 + "</body></html>"
    with message_memo(_message(4096, "first")):
        first = html_spot(html)
    with message_memo(_message(4096, "second")):
        half = len(html) // 2
        assert html_spot(html[:half] + html[half:]) is first  # an equal text, another object
