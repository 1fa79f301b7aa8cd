"""The copy each accepted recipient gets: its own unsubscribe token and link, the footer and
first-contact notice, List-Unsubscribe, the footer marker, the DKIM signature and its VERP
return path. Applies a decision's `RewritePlan`; decides nothing (the plan says what to do).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from proxy.feedback.returnpath import ReturnPath
from proxy.mime.dkim import DkimSigner, has_dkim_signature
from proxy.mime.footer_render import FooterValues, render_footer
from proxy.mime.layout import Placement, footer_layout
from proxy.mime.rewrite import RewriteInstructions, rewrite, rewrite_copy
from proxy.model import MessageFacts, RecipientDecision
from proxy.policy.footer_templates import authority_for, retention_for
from proxy.policy.placement import footer_placed, footer_refused, needs_footer_place
from proxy.policy.policy_file import Policy
from proxy.tokens import TokenSigner, UnsubscribeToken, mailto_uri

__all__ = ["CopyBuilder", "placed_decision"]

log = logging.getLogger(__name__)


def placed_decision(decision: RecipientDecision, message: bytes) -> RecipientDecision:
    """The decision as the copy will be: the mime layer finds where the footer goes, the
    policy (`proxy.policy.placement`) decides what that means for the recipient."""
    if not needs_footer_place(decision):
        return decision
    layout = footer_layout(message)
    if layout.placement is Placement.REFUSED:
        return footer_refused(decision, layout.reason)
    return footer_placed(decision, layout.describe())


class CopyBuilder:
    """Builds one recipient's copy from the received message and that recipient's decision."""

    def __init__(
        self,
        *,
        tokens: TokenSigner,
        address_hash: Callable[[str], str],
        marker_key: bytes,
        dkim: DkimSigner | None,
        return_path: ReturnPath | None,
        public_url: str,
        mailto_local: str,
        mailto_domain: str,
    ) -> None:
        self._tokens = tokens
        self._address_hash = address_hash
        self._marker_key = marker_key
        self._dkim = dkim
        self._return_path = return_path  # VERP, when `[feedback]` is enabled
        self._public_url = public_url.rstrip("/")
        self._mailto_local = mailto_local.lower()
        self._mailto_domain = mailto_domain.lower()

    @property
    def signs(self) -> bool:
        """Copies are DKIM-signed (milliseconds each: built in a worker thread)."""
        return self._dkim is not None

    def untouched(self, message: bytes) -> bytes:
        """The copy of a recipient nothing is added for (transactional, monitor mode): only
        the campaign headers go."""
        return rewrite(message, RewriteInstructions(marker_key=self._marker_key))

    def return_path(self, mail_from: str, address: str) -> str | None:
        """The copy's own VERP envelope sender, so its bounce names its recipient; the null
        sender stays null (a notification must not cause a bounce)."""
        if self._return_path is None or not mail_from:
            return None
        return self._return_path.address(self._address_hash(address))

    def build(
        self,
        queue_id: str,
        message: bytes,
        message_facts: MessageFacts,
        decision: RecipientDecision,
        policy: Policy,
        today: date,
    ) -> bytes:
        """The rewritten copy for a REWRITE decision (signed when a DKIM key is configured)."""
        plan = decision.rewrite
        assert plan is not None  # the engine gives every REWRITE a plan
        controller = policy.controller(plan.controller)
        signed = self._tokens.sign(
            UnsubscribeToken(
                address_hash=self._address_hash(decision.address),
                scope=f"controller:{plan.controller}",
                controller=plan.controller,
                language=plan.language,
                issued=today,
                campaign=message_facts.campaign_id,
            )
        )
        url = f"{self._public_url}/u/{signed}" if plan.list_unsubscribe or plan.footer else None
        mailto = mailto_uri(self._mailto_local, self._mailto_domain, signed)
        footer_text = footer_html = ""
        notice = plan.first_contact_notice
        if plan.footer or notice:
            template = policy.compiled.footers[plan.language]
            values = FooterValues(
                legal_name=controller.legal_name,
                postal_address=controller.postal_address,
                source=plan.source,
                unsubscribe_url=url or "",
                unsubscribe_mailto=mailto,
                privacy_url=controller.privacy_url,
                retention=retention_for(plan.language, policy.retention.prospect_months * 30),
                authority=authority_for(plan.language, decision.facts.get("country", "")),
            )
            footer_text = render_footer(template, values, False, notice, plan.footer)
            footer_html = render_footer(template, values, True, notice, plan.footer)
        result = rewrite_copy(
            message,
            RewriteInstructions(
                footer_text=footer_text,
                footer_html=footer_html,
                list_unsubscribe_url=url if plan.list_unsubscribe else None,
                list_unsubscribe_mailto=mailto if plan.list_unsubscribe else None,
                visible_recipient=decision.address if plan.split_recipients else None,
                marker_key=self._marker_key,
                marker_recipient=decision.address,
            ),
        )
        if footer_text and result.footer is not footer_layout(message).placement:
            raise RuntimeError("the copy's footer placement differs from the decision's")
        copy = result.message
        if self._dkim is not None:
            return self._dkim.sign(copy)
        if has_dkim_signature(message):
            log.warning(
                "rewriting invalidated the message's DKIM signature and no signing key is "
                "configured ([dkim] domain, selector, private_key_file)",
                extra={"queue_id": queue_id},
            )
        return copy
