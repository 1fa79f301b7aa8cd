"""`prospect-relay explain`: the decision and every rule's verdict, without sending anything."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from proxy.cli.common import config_option, open_store, run_with_settings
from proxy.copies import placed_decision
from proxy.mime.inspect import read_message_facts
from proxy.model import Action, MessageFacts, RecipientDecision, Stage
from proxy.policy.engine import Evaluation, evaluate, explain_lines
from proxy.policy.mode import under_mode
from proxy.policy.placement import FOOTER_STEPS
from proxy.policy.policy_file import load_policy
from proxy.settings import Settings
from proxy.store.records import FeedbackEntry

__all__ = ["COMMANDS"]


@click.command()
@click.argument("message", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--from", "mail_from", required=True, help="Envelope sender (MAIL FROM).")
@click.option("--to", "recipients", required=True, multiple=True, help="Recipient; repeatable.")
@click.option("--client-ip", default="127.0.0.1", show_default=True, help="Sending client's IP.")
@click.option("--auth-user", default=None, help="SMTP AUTH user of the sending tool, if any.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Decide as on this day (default: today, UTC).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per recipient.")
@config_option
def explain(
    message: Path,
    mail_from: str,
    recipients: tuple[str, ...],
    client_ip: str,
    auth_user: str | None,
    today: datetime | None,
    as_json: bool,
    config_file: Path | None,
) -> None:
    """Show how the relay would decide MESSAGE for each --to recipient.

    Reads the register and the policy exactly as `serve` does; writes nothing and sends
    nothing (re-permission and first-contact records are not made).
    """
    raw = message.read_bytes()
    day = today.date() if today is not None else datetime.now(UTC).date()

    async def work(settings: Settings) -> list[str]:
        policy = load_policy(settings.policy.file)
        async with open_store(settings) as store:
            facts = await store.load_recipient_facts(list(recipients))
            feedback = {
                address: await store.feedback_of(store.address_hash(address))
                for address in recipients
            }
        envelope = MessageFacts(mail_from=mail_from, client_ip=client_ip, auth_user=auth_user)
        content = read_message_facts(
            raw, mail_from=mail_from, client_ip=client_ip, auth_user=auth_user
        )
        mode = settings.policy.mode or policy.mode
        out: list[str] = []
        for address in recipients:
            at_rcpt = evaluate(facts[address], envelope, policy, day, Stage.RCPT)
            at_data = evaluate(facts[address], content, policy, day, Stage.DATA)
            final = at_rcpt.decision
            if final.action is not Action.REJECT:
                final = placed_decision(at_data.decision, raw)  # as the relay's copy will be
            enforced = under_mode(final, mode)
            if as_json:
                record = {
                    "recipient": address,
                    "today": day.isoformat(),
                    "action": enforced.action.value,
                    "rules": list(enforced.acting_rules),
                    "reasons": [finding.reason for finding in enforced.acting],
                    "stages": [_stage_dict(at_rcpt), _stage_dict(at_data)],
                    "feedback": [_feedback_dict(entry) for entry in feedback[address]],
                }
                if enforced.monitored is not None:
                    record["would"] = final.action.value
                    record["would_rules"] = list(final.acting_rules)
                out.append(json.dumps(record))
                continue
            out.append(f"== {address}")
            out.append("-- at RCPT TO")
            out.extend(explain_lines(at_rcpt))
            out.append("-- at end of DATA")
            out.extend(explain_lines(at_data))
            if feedback[address]:
                out.append("-- bounces and complaints received")
                out.extend(_feedback_line(entry) for entry in feedback[address])
            out.append(_verdict(enforced, final))
        return out

    for line in run_with_settings(work, config_file):
        click.echo(line)


def _verdict(enforced: RecipientDecision, final: RecipientDecision) -> str:
    """The last line: the action and the rules that acted, as the log line names them."""
    line = f"=> {enforced.action.value.upper()}"
    if enforced.acting_rules:
        line += " (" + ", ".join(enforced.acting_rules) + ")"
    if enforced.monitored is not None:
        line += (
            f"; monitor mode, enforce would {final.action.value.upper()} ("
            + ", ".join(final.acting_rules)
            + ")"
        )
    if final.action is Action.REWRITE:
        line += "; " + "; ".join(f.reason for f in final.acting if f.rewrite in FOOTER_STEPS)
    return line.rstrip("; ")


def _stage_dict(evaluation: Evaluation) -> dict[str, object]:
    decision = evaluation.decision
    return {
        "stage": decision.stage.value,
        "action": decision.action.value,
        "basis": decision.basis.value,
        "rules": list(decision.rule_ids),  # every hit; the top-level "rules" are the acting ones
        "reasons": [finding.reason for finding in decision.findings],
        "facts": decision.facts,
    }


def _feedback_dict(entry: FeedbackEntry) -> dict[str, object]:
    return {
        "at": entry.created_at.isoformat(),
        "kind": entry.kind,
        "status": entry.status,
        "source": entry.source,
        "campaign": entry.campaign,
        "suppressed": entry.suppressed,
        "detail": entry.detail,
    }


def _feedback_line(entry: FeedbackEntry) -> str:
    suppressed = " -> suppressed" if entry.suppressed else ""
    return (
        f"  {entry.created_at:%Y-%m-%d %H:%M} {entry.kind} {entry.status} via {entry.source}"
        f" (campaign {entry.campaign or '-'}){suppressed}: {entry.detail or ''}".rstrip(": ")
    )


COMMANDS: list[click.Command] = [explain]
