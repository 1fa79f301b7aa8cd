"""The relay's exceptions: every one the relay raises on purpose, and who catches it.

- RelayError: the root. `cli.common.run_with_settings` prints any that reaches a command as
  one line (exit 1): no traceback for an expected failure.
  - ConfigError: invalid settings, policy, secret or descriptor file; one ConfigProblem per
    problem. Raised by `settings`, `policy.policy_file`, `secrets`, `descriptors`,
    `mime.dkim` (key file), `app` and `store.database.create_engine` (bad URL). Caught by
    `cli.common` / `cli.serve` (exit 2, one line each) and `policy.holder` (a bad reload
    keeps the running policy).
  - PolicyProblems (also a ValueError): cross-field problems of the policy file, raised in a
    pydantic validator of `policy.policy_file`; pydantic wraps it and `load_policy` turns
    its pairs into a ConfigError's problems.
  - StoreUnavailable: a fact could not be read or written (database down, timeout, refused
    write). Raised by `store.guard.store_errors`, the one translator of driver errors, and by
    `store.migrate` / migration 0004 for a schema the code cannot use. Caught by `service`
    (451 at RCPT/DATA, fail closed), the web pages (503), the audit writer (`transient`
    says whether to retry the batch), `lifecycle`'s suppression gauge and the CLI;
    `store.batching` hands it to every lookup of the failed batch.
  - TokenError: an unsubscribe token that is forged, truncated, expired or unknown; the
    message is safe to show. Raised by `tokens`; caught by `web.unsubscribe` (the bad-token
    page), `feedback.mailboxes` (no campaign) and `local_mail` (the unsubscribe mailbox
    refuses that recipient).
  - PathError (also a ValueError): a MAIL/RCPT path the relay refuses; `problem` picks the
    reply. Raised by `smtp.addresses.parse_path`; caught by `smtp.server` (501/553).
  - CsvFormatError: a CSV file that cannot be imported at all (bad header, empty); nothing
    was written. Raised by `store.contacts_csv`, `store.importer`, `store.suppression_csv`;
    reaches the CLI's one-line handler.
  - RowError (also a ValueError): one bad row or cell of an import, naming the column.
    Raised by `store.contacts_csv` / `store.suppression_csv`; caught by `store.importer` and
    `store.suppression_csv` (reported by line, the good rows are imported) and `cli.register`
    (a bad address argument).
  - PeriodError (also a ValueError): a `--since`/`--until` value that is neither a duration
    nor a date. Raised by `ops.periods.parse_instant`; caught by `cli.ops` (usage error).
  - EspError: an email-provider webhook request that is not believed (bad signature,
    replay, unparsable); the message is safe to log and return. Raised by `feedback.esp`
    and `feedback.providers`; caught by `web.esp` (401).
  - BudgetExceeded: a large message's job in a worker thread did not finish within
    `content.processing_budget`; `started` says whether it ever got a worker. Raised by
    `offload.Offloader.run`; caught by `service` (552 5.3.4 when it ran that long, 451 4.3.0
    when all workers stayed busy), for the whole message or for one recipient's copy.
  - UpstreamClosed: the upstream closed the connection (EOF or reset). Raised by
    `upstream_client`; caught by `forward`: before MAIL was accepted a pooled connection is
    replaced once, later it is 451 4.4.1, after the final dot "delivery unknown".
  - UpstreamProtocolError: an upstream reply that is not SMTP or exceeds the bounds (a line
    over 8 KiB, a reply over 32 KiB). Raised by `upstream_client`; caught by `forward` (451
    4.4.1 and the connection dropped; after the final dot "delivery unknown").

Module-private signals, raised and caught inside one module and never seen outside it (so
not part of this tree): `forward._Stale` (a pooled upstream connection went stale: reconnect),
`mime.layout._Unfootable` (a part that cannot carry the footer), `feedback.dispatch.
_Unreachable` (a webhook endpoint did not answer), `cli.ops._UsageLine` (a click usage error
shown as one line). Control flow that is not a fault returns a value instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from proxy.smtp.addresses import Problem

__all__ = [
    "BudgetExceeded",
    "ConfigError",
    "ConfigProblem",
    "CsvFormatError",
    "EspError",
    "PathError",
    "PeriodError",
    "PolicyProblems",
    "RelayError",
    "RowError",
    "StoreUnavailable",
    "TokenError",
    "UpstreamClosed",
    "UpstreamProtocolError",
]


class RelayError(Exception):
    """Root of the relay's own exceptions (see the tree above)."""


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
    """Invalid configuration: every problem found, one line each."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class PolicyProblems(RelayError, ValueError):
    """Cross-field problems found after the shape was validated: (dotted key, message) pairs.

    A ValueError so that pydantic reports it as a validation error of the policy model."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems))


class StoreUnavailable(RelayError):
    """The register or suppression list cannot be read or written: fail closed with a 451.

    `transient` is False when the database refused the statement itself (a constraint or
    data error): retrying the same write fails again."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        self.transient = transient
        super().__init__(message)


class TokenError(RelayError):
    """An unsubscribe token that does not verify; the message is safe to show."""


class PathError(RelayError, ValueError):
    """A MAIL FROM / RCPT TO path the relay refuses; `problem` says which reply fits."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.value)


class CsvFormatError(RelayError):
    """The file as a whole cannot be imported (bad header): nothing was written."""


class RowError(RelayError, ValueError):
    """One bad cell or row; the message names the column and the problem."""


class PeriodError(RelayError, ValueError):
    """A value that is neither a duration nor a date; the message is shown as is."""


class EspError(RelayError):
    """A provider request that is not believed; the message is safe to log and to return."""


class BudgetExceeded(RelayError):
    """A job did not finish within the budget; `started` is False when it never got a worker
    (the pool stayed busy with other messages: a temporary condition)."""

    def __init__(self, budget: float, *, started: bool) -> None:
        super().__init__(f"over {budget:g} s ({'running' if started else 'waiting for a worker'})")
        self.budget = budget
        self.started = started


class UpstreamClosed(RelayError):
    """The upstream SMTP connection was closed by the other side (EOF or reset)."""


class UpstreamProtocolError(RelayError):
    """An upstream reply that is not SMTP: no 3-digit code, an over-long line or reply."""
