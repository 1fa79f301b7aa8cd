"""Rules `visible-recipients` and `cannot-add-footer`: what the message itself makes impossible."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, Finding, RewriteStep, Stage
from proxy.policy.context import RuleContext
from proxy.policy.policy_file import FooterMode, SignedMessages, VisibleRecipients
from proxy.policy.rules.base import Rule, mentions_present, needs_notice

__all__ = ["CannotAddFooter", "VisibleRecipientsRule"]


class VisibleRecipientsRule(Rule):
    """Showing a prospect the other prospects' addresses discloses personal data."""

    __slots__ = ()
    name: ClassVar[str] = "visible-recipients"
    description: ClassVar[str] = "several recipients visible in To/Cc of one marketing message"
    outcome: ClassVar[str] = "reject (or split into one copy per recipient when the policy says so)"
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.message is None or ctx.message.visible_recipients <= 1:
            return None
        count = ctx.message.visible_recipients
        if ctx.policy.visible_recipients is VisibleRecipients.SPLIT:
            return self.hit(
                Action.REWRITE,
                f"{count} recipients visible: each copy shows only its own recipient",
                "recipients.split",
                rewrite=RewriteStep.SPLIT_RECIPIENTS,
            )
        return self.hit(
            Action.REJECT,
            f"{count} recipients visible in To/Cc; send one message per recipient",
            "recipients.visible",
        )


class CannotAddFooter(Rule):
    """A signed or encrypted body cannot be edited without breaking it."""

    __slots__ = ()
    name: ClassVar[str] = "cannot-add-footer"
    description: ClassVar[str] = (
        "the footer is required and the message is signed/encrypted (multipart/signed, "
        "S/MIME) without the required mentions already present; or the message is too "
        "ambiguous to foot or wrap (two different `Content-Type` or "
        "`Content-Transfer-Encoding` fields), the reason naming why"
    )
    outcome: ClassVar[str] = "reject"
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        message = ctx.message
        if message is None or not message.signed_or_encrypted:
            return None
        if ctx.policy.signed_messages is SignedMessages.REJECT:
            return self.hit(
                Action.REJECT,
                "signed or encrypted commercial messages are refused by the policy",
                "footer.signed",
            )
        if needs_notice(ctx):
            return self.hit(
                Action.REJECT,
                "the first-contact notice cannot be added to a signed or encrypted message",
                "footer.signed-notice",
            )
        # In require mode the relay adds no footer, so signing changes nothing (`footer` decides).
        footer_needed = ctx.policy.footer_mode is FooterMode.ADD and not message.already_footed
        if footer_needed and not mentions_present(message):
            return self.hit(
                Action.REJECT,
                "signed or encrypted message without unsubscribe link and data source",
                "footer.signed-missing",
            )
        return None
