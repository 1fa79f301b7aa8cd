"""The relay's exceptions.

- RelayError: base of everything the relay raises on purpose.
  - ConfigError: invalid settings or policy; carries one ConfigProblem per problem.
  - StoreUnavailable: a fact could not be read or written (database down, timeout); the
    SMTP layer answers 451 (fail closed).
  - ForwardError: the upstream or the outbox failed in a way not expressed as a reply.
  - TokenError: an unsubscribe token is forged, truncated, expired or unknown.
  - ImportRowError: one bad row of a CSV import (reported, never aborts the good rows).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "ForwardError",
    "ImportRowError",
    "RelayError",
    "StoreUnavailable",
    "TokenError",
]


class RelayError(Exception):
    """Base class of the relay's own exceptions."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a settings or policy file: where it is and what is wrong."""

    source: str  # file path, or "environment"
    key: str  # dotted key, e.g. "upstream.port"; empty for a whole-file problem
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.key}" if self.key else self.source
        return f"{where}: {self.message}"


class ConfigError(RelayError):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class StoreUnavailable(RelayError):
    """The register or suppression list cannot be read: fail closed with a 451."""


class ForwardError(RelayError):
    """The upstream or outbox failed outside the normal reply flow."""


class TokenError(RelayError):
    """An unsubscribe token that does not verify; the message is safe to show."""


class ImportRowError(RelayError):
    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")
