"""Envelope path parsing: valid forms, refusals and their classes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.errors import PathError
from proxy.smtp.addresses import Problem, parse_path


@pytest.mark.parametrize(
    ("arg", "address", "params"),
    [
        ("FROM:<>", "", {}),
        ("from:<a@example.com>", "a@example.com", {}),
        ("FROM: <a@example.com>", "a@example.com", {}),
        (
            "FROM:<a.b+c@sub.example.com> SIZE=10 BODY=8BITMIME",
            "a.b+c@sub.example.com",
            {"SIZE": "10", "BODY": "8BITMIME"},
        ),
        ('FROM:<"john doe"@example.com>', '"john doe"@example.com', {}),
        ("FROM:<a@[192.0.2.1]>", "a@[192.0.2.1]", {}),
        ("FROM:<zoë@exämple.de> SMTPUTF8", "zoë@exämple.de", {"SMTPUTF8": None}),
    ],
)
def test_valid_sender_paths(arg: str, address: str, params: dict[str, str | None]) -> None:
    parsed = parse_path(arg, "FROM:", allow_null=True, recipient=False)
    assert parsed.address == address
    assert parsed.params == params


@pytest.mark.parametrize(
    ("arg", "problem"),
    [
        ("TO:<", Problem.SYNTAX),
        ("TO:<>", Problem.SYNTAX),
        ("TO:a@example.com", Problem.SYNTAX),
        ("TO:<a@example.com>SIZE=1", Problem.SYNTAX),
        ("TO:<a@example.com> =x", Problem.SYNTAX),
        ("TO:<a\x00@example.com>", Problem.SYNTAX),
        ("TO:<a\x1b@example.com>", Problem.SYNTAX),
        ("TO:<a b@example.com>", Problem.MAILBOX),
        ("TO:<a..b@example.com>", Problem.MAILBOX),
        ("TO:<.a@example.com>", Problem.MAILBOX),
        ("TO:<a@-example.com>", Problem.MAILBOX),
        ("TO:<a@exa_mple.com>", Problem.MAILBOX),
        ("TO:<(comment)a@example.com>", Problem.MAILBOX),
        ("TO:<postmaster>", Problem.MAILBOX),
        ("TO:<" + "a" * 65 + "@example.com>", Problem.MAILBOX),
        ("TO:<a@" + "b" * 64 + ".com>", Problem.MAILBOX),
        ("TO:<a%b@example.com>", Problem.ROUTING),
        ("TO:<b!a@example.com>", Problem.ROUTING),
        ("TO:<@x.example,@y.example:a@example.com>", Problem.ROUTING),
        ("TO:<a@[192.0.2.1]>", Problem.ROUTING),
    ],
)
def test_invalid_recipient_paths(arg: str, problem: Problem) -> None:
    with pytest.raises(PathError) as err:
        parse_path(arg, "TO:", allow_null=False, recipient=True)
    assert err.value.problem is problem


def test_non_ascii_is_flagged_for_the_smtputf8_check() -> None:
    assert parse_path("TO:<jö@example.de>", "TO:", allow_null=False, recipient=True).non_ascii
    assert not parse_path("TO:<jo@example.de>", "TO:", allow_null=False, recipient=True).non_ascii


@given(st.text(max_size=80))
def test_parser_never_crashes_and_never_accepts_control_characters(text: str) -> None:
    try:
        parsed = parse_path("TO:" + text, "TO:", allow_null=False, recipient=True)
    except PathError:
        return
    assert parsed.address
    assert all(ord(c) >= 32 and ord(c) != 127 for c in parsed.address)


def test_network_membership_sees_ipv4_clients_of_a_dual_stack_listener() -> None:
    """SMTP access, transactional clients and trusted proxies share this one check."""
    from ipaddress import ip_network

    from proxy.networks import in_networks

    local = (ip_network("127.0.0.0/8"), ip_network("::1/128"))
    assert in_networks("127.0.0.5", local)
    assert in_networks("::ffff:127.0.0.5", local)  # IPv4 client seen on an IPv6 socket
    assert in_networks("::1", local)
    assert not in_networks("10.0.0.1", local)
    assert not in_networks("not-an-address", local)
    assert not in_networks("", local)
