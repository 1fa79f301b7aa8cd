"""docs/RULES.md's rule table is the RULES tuple: generated from it, and tested equal."""

from __future__ import annotations

import re
from pathlib import Path

from proxy.policy.rules import RULES
from proxy.policy.rules.table import SERVICE_ROWS, rules_table

DOC = Path(__file__).parents[2] / "docs" / "RULES.md"


def test_the_documented_rule_table_is_the_generated_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## 4.", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    assert table == rules_table(), "run: python -m proxy.policy.rules.table"


def test_every_rule_has_its_row_in_precedence_order() -> None:
    ids = re.findall(r"^\| `([a-z0-9-]+)`", rules_table(), re.M)
    assert ids == [rule.name for rule in RULES] + [name for name, _, _ in SERVICE_ROWS]
    assert [name for name, _, _ in SERVICE_ROWS] == ["store-unavailable"]
    for rule in RULES:
        assert rule.description.strip() and rule.outcome.strip(), rule
        assert "|" not in rule.description + rule.outcome, rule
