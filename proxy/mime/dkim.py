"""DKIM signing after rewriting (dkimpy, relaxed/relaxed), and detection of incoming signatures.

Rewriting changes the body and List-Unsubscribe headers, which breaks any signature the sending
tool added; the relay re-signs with its own key so Gmail/Yahoo see List-Unsubscribe covered by
a valid signature (RFC 8058 section 4). Without a key, the service logs a warning when
`has_dkim_signature` says an incoming signature was just invalidated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import dkim
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

from proxy.errors import ConfigError, ConfigProblem
from proxy.mime.tree import detect_eol, parse

if TYPE_CHECKING:  # the settings validate `[dkim]` with `read_private_key`
    from proxy.settings import DkimSettings

__all__ = ["OVERSIGNED", "DkimSigner", "has_dkim_signature", "read_private_key"]

# Fields a receiver must not see a second copy of: signed once more than they occur.
OVERSIGNED = frozenset({b"from", b"subject", b"list-unsubscribe", b"list-unsubscribe-post"})


class DkimSigner:
    """Signs messages for one domain/selector; the key is read and checked once."""

    def __init__(
        self, domain: str, selector: str, private_key_pem: bytes, headers: Sequence[str]
    ) -> None:
        names = [name.lower() for name in headers]
        if "from" not in names:
            names.insert(0, "from")  # RFC 6376 5.4: From must be signed
        self._domain = domain.encode("ascii")
        self._selector = selector.encode("ascii")
        self._key = private_key_pem
        self._headers = list(dict.fromkeys(name.encode("ascii") for name in names))

    @classmethod
    def from_settings(cls, settings: DkimSettings) -> DkimSigner | None:
        """The signer for `[dkim]` (validated by the settings), None when signing is off;
        ConfigError if the key file changed since."""
        domain, selector, key_file = settings.domain, settings.selector, settings.private_key_file
        if domain is None or selector is None or key_file is None:
            return None
        try:
            return cls(domain, selector, read_private_key(key_file), settings.headers)
        except ValueError as exc:
            problem = ConfigProblem("settings", "dkim.private_key_file", str(exc))
            raise ConfigError([problem]) from None

    def _include(self, message: bytes) -> list[bytes]:
        """Each configured field once per occurrence, and the oversigned ones once more: an
        extra `h=` entry signs the field's absence, so a second `List-Unsubscribe` (or From,
        Subject, List-Unsubscribe-Post) added on the way breaks the signature."""
        present = Counter(item.key.encode("ascii") for item in parse(message).fields)
        include: list[bytes] = []
        for name in self._headers:
            count = present.get(name, 0) + (1 if name in OVERSIGNED else 0)
            include.extend([name] * max(count, 1))
        return include

    def sign(self, message: bytes) -> bytes:
        """`message` with a DKIM-Signature field prepended, in the message's line endings.

        About 8 ms for a 2048-bit key: the service calls it in a worker thread.
        """
        eol = detect_eol(message)
        canonical = message if eol == b"\r\n" else message.replace(b"\n", b"\r\n")
        signature = dkim.sign(
            canonical,
            self._selector,
            self._domain,
            self._key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=self._include(message),
            linesep=eol,
        )
        return bytes(signature) + message


def has_dkim_signature(message: bytes) -> bool:
    """True when the top-level header carries a DKIM-Signature field."""
    return any(item.key == "dkim-signature" for item in parse(message).fields)  # cached tree


def read_private_key(path: Path) -> bytes:
    """The PEM private key in `path`; ValueError saying why it cannot be used."""
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    try:
        parse_pem_private_key(pem)
    except UnparsableKeyError as exc:
        raise ValueError(f"unreadable DKIM private key: {exc}") from None
    return pem
