"""RFC 5321 envelope paths (`MAIL FROM:<...>`, `RCPT TO:<...>`): parsing and validation.

aiosmtpd's own parser accepts comments, spaces and NUL inside addresses and cannot read the
null sender; a relay must refuse anything it would have to guess about. Routing forms (source
routes, `%` and `!` local parts, IP literals as recipient domains) are refused, never
interpreted, so the relay cannot be used to reach hosts the upstream would not route to.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from proxy.errors import PathError

__all__ = ["ParsedPath", "Problem", "parse_path"]

_ATEXT = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
)
_LDH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_MAX_LOCAL = 64
_MAX_DOMAIN = 255
_MAX_PATH = 256


class Problem(StrEnum):
    SYNTAX = "syntax"  # the command itself is malformed: 501
    MAILBOX = "mailbox"  # the address is not a valid mailbox: 553
    ROUTING = "routing"  # a routing form we refuse to interpret: 553
    SMTPUTF8 = "smtputf8"  # non-ASCII without SMTPUTF8: 553 5.6.7


@dataclass(frozen=True, slots=True)
class ParsedPath:
    address: str  # "" for the null sender
    params: dict[str, str | None] = field(default_factory=dict)  # upper-cased keys
    non_ascii: bool = False


def parse_path(arg: str | None, keyword: str, *, allow_null: bool, recipient: bool) -> ParsedPath:
    """Parse the argument of MAIL/RCPT, e.g. `FROM:<a@b.c> SIZE=10`; raise PathError."""
    if not arg or arg[: len(keyword)].upper() != keyword:
        raise PathError(Problem.SYNTAX)
    rest = arg[len(keyword) :].lstrip(" ")
    if not rest.startswith("<"):
        raise PathError(Problem.SYNTAX)
    end = _closing_bracket(rest)
    path, tail = rest[1:end], rest[end + 1 :]
    if tail and not tail.startswith(" "):
        raise PathError(Problem.SYNTAX)
    params = _parse_params(tail.split())
    if _has_control(path):
        raise PathError(Problem.SYNTAX)
    if path == "":
        if not allow_null:
            raise PathError(Problem.SYNTAX)
        return ParsedPath("", params)
    if path.startswith("@"):
        raise PathError(Problem.ROUTING)
    if len(path.encode("utf-8", "surrogatepass")) > _MAX_PATH:
        raise PathError(Problem.MAILBOX)
    local, at, domain = path.rpartition("@")
    if not at:
        raise PathError(Problem.MAILBOX)
    _check_local(local, recipient=recipient)
    _check_domain(domain, recipient=recipient)
    return ParsedPath(path, params, non_ascii=not path.isascii())


def _closing_bracket(text: str) -> int:
    quoted = escaped = False
    for index, char in enumerate(text[1:], start=1):
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ">" and not quoted:
            return index
    raise PathError(Problem.SYNTAX)


def _parse_params(words: list[str]) -> dict[str, str | None]:
    params: dict[str, str | None] = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not key or not all(c.isascii() and (c.isalnum() or c == "-") for c in key):
            raise PathError(Problem.SYNTAX)
        if eq and (not value or _has_control(value) or "=" in value):
            raise PathError(Problem.SYNTAX)
        params[key.upper()] = value if eq else None
    return params


def _has_control(text: str) -> bool:
    return any(unicodedata.category(char)[0] == "C" for char in text)


def _check_local(local: str, *, recipient: bool) -> None:
    if not local or len(local.encode("utf-8")) > _MAX_LOCAL:
        raise PathError(Problem.MAILBOX)
    if local.startswith('"'):
        if len(local) < 2 or not local.endswith('"'):
            raise PathError(Problem.MAILBOX)
        inner = local[1:-1].replace("\\\\", "").replace('\\"', "")
        if '"' in inner or "\\" in inner:
            raise PathError(Problem.MAILBOX)
    else:
        for atom in local.split("."):
            if not atom or not all(c in _ATEXT or not c.isascii() for c in atom):
                raise PathError(Problem.MAILBOX)
    if recipient and ("%" in local or "!" in local):
        raise PathError(Problem.ROUTING)


def _check_domain(domain: str, *, recipient: bool) -> None:
    if not domain or len(domain.encode("utf-8")) > _MAX_DOMAIN:
        raise PathError(Problem.MAILBOX)
    if domain.startswith("["):
        if recipient:
            raise PathError(Problem.ROUTING)
        _check_literal(domain)
        return
    for label in domain.split("."):
        if not label or len(label) > 63 or label[0] == "-" or label[-1] == "-":
            raise PathError(Problem.MAILBOX)
        if label.isascii():
            if not all(c in _LDH for c in label):
                raise PathError(Problem.MAILBOX)
        else:
            try:
                label.encode("idna")
            except UnicodeError:
                raise PathError(Problem.MAILBOX) from None


def _check_literal(domain: str) -> None:
    if not domain.endswith("]"):
        raise PathError(Problem.MAILBOX)
    body = domain[1:-1]
    try:
        if body[:5].upper() == "IPV6:":
            ipaddress.IPv6Address(body[5:])
        else:
            ipaddress.IPv4Address(body)
    except ValueError:
        raise PathError(Problem.MAILBOX) from None
