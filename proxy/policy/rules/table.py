"""The rule table of docs/RULES.md §4, generated from the rules themselves.

`python -m proxy.policy.rules.table` prints it; a test keeps docs/RULES.md equal to it, so the
documentation and the `RULES` tuple cannot drift apart.
"""

from __future__ import annotations

from proxy.policy.rules import RULES, Rule

__all__ = ["SERVICE_ROWS", "rules_table"]

# Verdicts the service gives outside the rule list (see `proxy.service`).
SERVICE_ROWS: tuple[tuple[str, str, str], ...] = (
    (
        "store-unavailable",
        "a fact the rules need cannot be read",
        "451, try later (fail closed)",
    ),
)

_HEADER = "| id | condition | outcome |\n|---|---|---|"


def _row(rule: Rule) -> str:
    label = f"`{rule.name}` (basis)" if rule.basis_only else f"`{rule.name}`"
    return f"| {label} | {rule.description} | {rule.outcome} |"


def rules_table(rules: tuple[Rule, ...] = RULES) -> str:
    """The markdown table, one row per rule in precedence order, then the service's rows."""
    rows = [_row(rule) for rule in rules]
    rows += [f"| `{name}` | {condition} | {outcome} |" for name, condition, outcome in SERVICE_ROWS]
    return "\n".join([_HEADER, *rows])


if __name__ == "__main__":
    print(rules_table())
