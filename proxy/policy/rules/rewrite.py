"""Rules `footer`, `first-contact-notice` and `list-unsubscribe`: what every commercial message
must carry. They emit rewrite instructions; proxy.mime applies them."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, Finding, RewriteStep, Stage
from proxy.policy.context import RuleContext
from proxy.policy.policy_file import FooterMode
from proxy.policy.rules.base import Rule, mentions_present, needs_notice

__all__ = ["FirstContactNotice", "FooterRule", "ListUnsubscribe"]


class FooterRule(Rule):
    """add mode: the relay appends the footer; require mode: the message must carry it."""

    __slots__ = ()
    name: ClassVar[str] = "footer"
    description: ClassVar[str] = "every commercial message"
    outcome: ClassVar[str] = (
        "rewrite: footer with the controller's identity (legal name, postal address), \"this "
        'is commercial prospecting", the data source, and a visible unsubscribe link; in the '
        "recipient's language"
    )
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        message = ctx.message
        if message is None:
            return None
        if ctx.policy.footer_mode is FooterMode.REQUIRE:
            if mentions_present(message):
                return None
            return self.hit(
                Action.REJECT,
                "the policy requires the message to carry its footer (unsubscribe link and "
                "data source)",
                "footer.missing",
            )
        if message.already_footed or message.signed_or_encrypted:
            return None  # signed: `cannot-add-footer` decides
        return self.hit(Action.REWRITE, "footer added", "footer.add", rewrite=RewriteStep.FOOTER)


class FirstContactNotice(Rule):
    __slots__ = ()
    name: ClassVar[str] = "first-contact-notice"
    description: ClassVar[str] = (
        "first message the relay sends to a contact whose `source_kind` is not `direct`"
    )
    outcome: ClassVar[str] = (
        "rewrite: the GDPR art. 14 notice (controller, purpose, legal basis, source, "
        "retention, right to object, privacy-policy URL, right to complain to the authority);"
        " the relay records that it was sent"
    )
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.message is None or ctx.message.signed_or_encrypted or not needs_notice(ctx):
            return None
        kind = ctx.source_kind.value if ctx.source_kind is not None else "not recorded"
        return self.hit(
            Action.REWRITE,
            f"first message to a contact obtained indirectly (source kind: {kind}): "
            "art. 14 notice added",
            "notice.add",
            rewrite=RewriteStep.FIRST_CONTACT_NOTICE,
        )


class ListUnsubscribe(Rule):
    __slots__ = ()
    name: ClassVar[str] = "list-unsubscribe"
    description: ClassVar[str] = "every commercial message"
    outcome: ClassVar[str] = (
        "rewrite: exactly one `List-Unsubscribe` (https URL + mailto) and `List-Unsubscribe-"
        "Post: List-Unsubscribe=One-Click`, then DKIM-sign covering both when a key is "
        "configured"
    )
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.message is None:
            return None
        return self.hit(
            Action.REWRITE,
            "List-Unsubscribe and List-Unsubscribe-Post set",
            "headers.unsubscribe",
            rewrite=RewriteStep.LIST_UNSUBSCRIBE,
        )
