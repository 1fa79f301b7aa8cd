"""A new rule is one module in proxy/policy/rules/ plus one line in `RULES`: nothing else.

The rule modules and the list agree (no rule left out, none listed twice), and the engine
reads only what a finding says (its action, `RewriteStep` and `Record`), never a rule's name,
so a rule the engine has never seen rewrites and records like the shipped ones.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import ClassVar

import proxy.policy.rules as rules_package
from proxy.model import Action, Finding, Record, RewriteStep, Stage
from proxy.policy.context import RuleContext
from proxy.policy.rules import RULES, Rule
from proxy.policy.rules.rewrite import ListUnsubscribe
from tests.unit.policy_factory import consented, evaluation

MARIE = "marie@gmail.com"
_NOT_RULE_MODULES = {"base", "table"}  # the shape of a rule, and the docs table


def _rule_classes() -> dict[type[Rule], str]:
    """Every concrete Rule subclass defined in a module of the package, with its module."""
    found: dict[type[Rule], str] = {}
    for module_info in pkgutil.iter_modules(rules_package.__path__):
        if module_info.name in _NOT_RULE_MODULES:
            continue
        module = importlib.import_module(f"{rules_package.__name__}.{module_info.name}")
        classes = [
            cls
            for cls in vars(module).values()
            if inspect.isclass(cls)
            and issubclass(cls, Rule)
            and not inspect.isabstract(cls)
            and cls.__module__ == module.__name__
        ]
        assert classes, f"{module.__name__} defines no rule: only rule modules go here"
        found.update((cls, module.__name__) for cls in classes)
    return found


def test_every_rule_module_class_is_listed_once_and_nothing_else_is() -> None:
    defined = _rule_classes()
    listed = [type(rule) for rule in RULES]
    assert len(listed) == len(set(listed)), "a rule is listed twice"
    assert set(listed) == set(defined), {
        "defined, not in RULES": sorted(c.__name__ for c in set(defined) - set(listed)),
        "in RULES, not defined in a rule module": sorted(
            c.__name__ for c in set(listed) - set(defined)
        ),
    }
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names)), "two rules share a name"


class _BrandNew(Rule):
    """What a new module would hold: a rewrite the engine learns from its step only."""

    __slots__ = ()
    name: ClassVar[str] = "brand-new"
    description: ClassVar[str] = "every commercial message (test rule)"
    outcome: ClassVar[str] = "rewrite: List-Unsubscribe headers"
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        return self.hit(
            Action.REWRITE,
            "headers added",
            "brand.new",
            rewrite=RewriteStep.LIST_UNSUBSCRIBE,
            record=Record.REPERMISSION,
        )


def test_a_rule_the_engine_never_saw_rewrites_and_records_by_its_finding_alone() -> None:
    shipped = tuple(rule for rule in RULES if not isinstance(rule, ListUnsubscribe))
    without = evaluation(MARIE, consented(MARIE), rules=shipped).decision
    assert without.rewrite is not None and not without.rewrite.list_unsubscribe
    assert not without.record_repermission

    decision = evaluation(MARIE, consented(MARIE), rules=(*shipped, _BrandNew())).decision
    assert decision.action is Action.REWRITE
    assert decision.rewrite is not None and decision.rewrite.list_unsubscribe
    assert decision.record_repermission  # the Record it asked for reaches the service
    assert "brand-new" in decision.acting_rules
