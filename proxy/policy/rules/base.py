"""The shape of a rule: a frozen, named, pure check of one RuleContext."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from proxy.model import Action, Finding, MessageFacts, Record, RewriteStep, SourceKind, Stage
from proxy.policy.context import RuleContext

__all__ = ["Rule", "mentions_present", "needs_notice"]


class Rule(ABC):
    """One rule ID of RULES.md §4.

    `description` (the condition) and `outcome` are the rule's row of the rule table in
    docs/RULES.md, which is generated from them (`proxy.policy.rules.table`) and tested equal.
    `stage` is the earliest stage the rule can run at: RCPT rules run again at DATA (with the
    controller and campaign then known); at RCPT they return a finding only when it holds
    whatever the message says. `commercial_only` rules do not run for transactional mail.
    A new rule is one module with one such class plus one line in `RULES`: REWRITE findings
    say what to edit with a `RewriteStep`, and facts to write with a `Record`.
    """

    __slots__ = ()

    name: ClassVar[str]
    description: ClassVar[str]
    outcome: ClassVar[str]
    basis_only: ClassVar[bool] = False  # names a legal basis; never refuses by itself
    stage: ClassVar[Stage]
    commercial_only: ClassVar[bool] = True

    @abstractmethod
    def check(self, ctx: RuleContext) -> Finding | None:
        """The finding when the rule hits, else None. Pure: reads ctx only."""

    def hit(
        self,
        action: Action,
        reason: str,
        code: str,
        *,
        rewrite: RewriteStep | None = None,
        record: Record | None = None,
    ) -> Finding:
        return Finding(self.name, action, reason, code, rewrite, record)

    def __repr__(self) -> str:
        return f"<rule {self.name}>"


def mentions_present(message: MessageFacts) -> bool:
    """The message already carries an unsubscribe link and a data-source statement."""
    return message.has_unsubscribe_link and message.has_source_statement


def needs_notice(ctx: RuleContext) -> bool:
    """GDPR art. 14: first message to a contact whose data was not obtained from them."""
    already = ctx.message is not None and ctx.message.already_footed
    return ctx.first_contact and ctx.source_kind is not SourceKind.DIRECT and not already
