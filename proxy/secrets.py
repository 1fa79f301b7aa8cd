"""The relay secret: HMAC key for suppression hashes and unsubscribe tokens."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from proxy.errors import ConfigError, ConfigProblem
from proxy.settings import SecuritySettings

__all__ = ["load_or_create_secret"]

_KEY_BYTES = 32


def load_or_create_secret(security: SecuritySettings) -> bytes:
    """Return the configured key, or the key file's content, creating it (0600) if missing.

    The key must stay stable across restarts and instances: suppression hashes made with one
    key do not match under another, so a lost key means a suppression list that no longer
    recognises anybody. Creating it once on first use (atomically, so two processes starting
    together agree on one key) keeps the out-of-the-box setup safe.
    """
    if security.secret_key is not None:
        value = security.secret_key.get_secret_value().encode()
        if not value:
            raise ConfigError([ConfigProblem("settings", "security.secret_key", "is empty")])
        return value
    path = security.secret_file
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _problem(path, f"cannot read: {exc.strerror or exc}") from None
    key = secrets.token_hex(_KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write a private temporary file, then link it into place: the key file appears
        # complete or not at all, and a process that loses the race reads the winner's key.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(key + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, path)
        finally:
            os.unlink(temporary)
    except FileExistsError:
        return _read_key(path)
    except OSError as exc:
        raise _problem(path, f"cannot create: {exc.strerror or exc}") from None
    return key.encode()


def _read_key(path: Path) -> bytes:
    value = path.read_text().strip()
    if not value:
        raise _problem(path, "the key file is empty; delete it to create a new key")
    return value.encode()


def _problem(path: Path, message: str) -> ConfigError:
    return ConfigError([ConfigProblem(str(path), "security.secret_file", message)])
