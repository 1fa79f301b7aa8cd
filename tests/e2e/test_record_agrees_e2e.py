"""Issue 12: one record, true everywhere. A varied batch goes through the real relay; for every
recipient the delivered copy, the decision log line, the audit record, `report`, `explain` and
/metrics say the same action and the same acting rules."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from proxy.logs import DECISION_LOGGER
from proxy.model import SourceKind
from tests.conftest import stored_audit
from tests.e2e.conftest import SENDER, FullRelay, FullRelayFactory, make_message, policy_text
from tests.oracle import FooterExpectation, footer_problems
from tests.unit.policy_factory import consented, prospect

pytestmark = pytest.mark.postgres

CORPUS = Path(__file__).parents[1] / "corpus"
REWRITE_RULES = {"footer", "first-contact-notice", "list-unsubscribe", "visible-recipients"}


@dataclass
class Sent:
    sender: str
    recipients: list[str]
    message: bytes
    expected: dict[str, tuple[str, tuple[str, ...]]]  # recipient -> (action, acting rules)


def _corpus(name: str, to: str) -> bytes:
    raw = (CORPUS / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    raw = raw.replace(b"ventes@acme.example", SENDER.encode())
    return raw.replace(b"paul.martin@acme-industrie.fr", to.encode())


def _batch() -> list[Sent]:
    spring = {"X-Prospect-Campaign": "spring"}
    return [
        Sent(
            SENDER,
            ["marie@gmail.com", "jeanne@gmail.com"],  # jeanne: refused at RCPT
            make_message("marie@gmail.com", headers=spring),
            {
                "marie@gmail.com": ("rewrite", ("footer", "list-unsubscribe")),
                "jeanne@gmail.com": ("reject", ("b2c-no-consent",)),
            },
        ),
        Sent(
            SENDER,
            ["paul@acme-industrie.fr"],  # a first contact: the art. 14 notice
            make_message(
                "paul@acme-industrie.fr", headers={**spring, "X-Prospect-Targets": "finance"}
            ),
            {
                "paul@acme-industrie.fr": (
                    "rewrite",
                    ("footer", "first-contact-notice", "list-unsubscribe"),
                )
            },
        ),
        Sent(
            SENDER,
            ["luc@gmail.com"],
            make_message("luc@gmail.com", subject="Your unpaid invoice", headers=spring),
            {"luc@gmail.com": ("reject", ("deceptive-subject",))},
        ),
        Sent(
            SENDER,
            ["pierre@acme-industrie.fr"],  # two refusing rules, the first decides
            make_message(
                "pierre@acme-industrie.fr",
                subject="Overdue invoice",
                headers={**spring, "X-Prospect-Targets": "lunch"},
            ),
            {"pierre@acme-industrie.fr": ("reject", ("b2b-not-relevant", "deceptive-subject"))},
        ),
        Sent(
            SENDER,
            ["anne@gmail.com"],  # a PDF alone: wrapped with a footer part
            _corpus("18-pdf-alone.eml", "anne@gmail.com"),
            {"anne@gmail.com": ("rewrite", ("footer", "list-unsubscribe"))},
        ),
        Sent(
            SENDER,
            ["zoe@gmail.com"],  # two Content-Type fields: too ambiguous to foot
            _corpus("31-conflicting-content-type.eml", "zoe@gmail.com"),
            {"zoe@gmail.com": ("reject", ("cannot-add-footer",))},
        ),
        Sent(
            SENDER,
            ["anne@gmail.com"],  # an attached message alone
            _corpus("15-forwarded-message-rfc822-root.eml", "anne@gmail.com"),
            {"anne@gmail.com": ("rewrite", ("footer", "list-unsubscribe"))},
        ),
        Sent(
            "noreply@example.com",  # transactional: untouched
            ["marie@gmail.com"],
            make_message("marie@gmail.com", from_="Acme <noreply@example.com>"),
            {"marie@gmail.com": ("forward", ("not-commercial",))},
        ),
    ]


def _contacts() -> list[Any]:
    return [
        consented("marie@gmail.com"),
        consented("luc@gmail.com"),
        consented("anne@gmail.com"),
        consented("zoe@gmail.com"),
        prospect("paul@acme-industrie.fr"),
        prospect("pierre@acme-industrie.fr", source_kind=SourceKind.DIRECT),
    ]


async def _explain(relay: FullRelay, tmp_path: Path, sent: Sent, index: int) -> dict[str, Any]:
    eml = tmp_path / f"batch-{index}.eml"
    eml.write_bytes(sent.message)
    args = ["explain", str(eml), "--from", sent.sender, "--today", "2026-12-01", "--json"]
    for address in sent.recipients:
        args += ["--to", address]
    result = await relay.cli(*args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return {line["recipient"]: line for line in lines}


def _decision_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.decision for r in caplog.records if r.name == DECISION_LOGGER]  # type: ignore[attr-defined]


async def test_log_audit_report_explain_and_metrics_agree_for_every_recipient(
    full_relay: FullRelayFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=DECISION_LOGGER)
    relay = await full_relay(policy=policy_text(extra='\n[campaigns.spring]\nsource = "fair"\n'))
    await relay.store.upsert_contacts(_contacts())
    before = await relay.scrape()
    expected_rows: list[tuple[str, str, tuple[str, ...]]] = []  # (hash, action, rules)

    for index, sent in enumerate(_batch()):
        explained = await _explain(relay, tmp_path, sent, index)  # before: it sends nothing
        delivered_before = len(relay.delivered)
        caplog.clear()
        await relay.send(sent.recipients, sent.message, sender=sent.sender)
        [line] = _decision_lines(caplog)
        logged = {r["address"]: r for r in line["recipients"]}
        for address, (action, rules) in sent.expected.items():
            masked = address[0] + "***@" + address.split("@")[1]
            record = logged[masked]
            assert (record["action"], tuple(record["rules"])) == (action, rules), record
            assert (explained[address]["action"], tuple(explained[address]["rules"])) == (
                action,
                rules,
            ), explained[address]
            if action == "reject":
                assert not REWRITE_RULES & set(record["rules"])
            if action == "rewrite":
                assert any("footer added in" in reason for reason in record["reasons"])
            expected_rows.append((relay.store.address_hash(address), action, rules))
        for copy in relay.delivered[delivered_before:]:
            if sent.sender == SENDER and copy.mail_from:  # every commercial copy (not a DSN)
                url = copy.content.split(b"List-Unsubscribe: <", 1)[1].split(b">", 1)[0]
                expected = FooterExpectation(("Acme Prospecting SAS",), url.decode())
                assert footer_problems(copy.content, expected) == [], copy.rcpt_tos

    await relay.flush_audit()
    rows = [
        (record.recipient_hash, record.action.value, record.rule_ids, record.campaign)
        for record in await stored_audit(relay.engine)
    ]
    assert sorted(row[:3] for row in rows) == sorted(expected_rows)
    jeanne = relay.store.address_hash("jeanne@gmail.com")
    assert [row[3] for row in rows if row[0] == jeanne] == ["spring"]  # RCPT refusal: campaign

    result = await relay.cli("report", "--since", "2026-11-01", "--format", "json")
    report = json.loads(result.stdout)
    actions = Counter(action for _, action, _ in expected_rows)
    assert {k: v for k, v in report["by_action"].items() if v} == dict(actions)
    by_rule: Counter[tuple[str, str]] = Counter()
    deciding: Counter[str] = Counter()
    for _, action, rules in expected_rows:
        for rule in rules:
            by_rule[(rule, action)] += 1
        if action == "reject":
            deciding[rules[0]] += 1
    reported = Counter(
        {
            (item["rule"], action): n
            for item in report["by_rule"]
            for action, n in item["actions"].items()
            if n
        }
    )
    assert reported == by_rule
    assert {item["rule"]: item["recipients"] for item in report["top_rejections"]} == deciding
    assert "footer" not in {item["rule"] for item in report["top_rejections"]}

    after = await relay.scrape()

    def delta(name: str) -> Counter[tuple[str, str]]:
        out: Counter[tuple[str, str]] = Counter()
        for (sample, labels), value in after.items():
            if sample == name:
                change = value - before.get((sample, labels), 0.0)
                if change:
                    found = dict(labels)
                    out[(found["rule"], found["action"])] += int(change)
        return out

    expected_recipients = Counter((rules[0] if rules else "", a) for _, a, rules in expected_rows)
    assert delta("prospect_relay_recipients_total") == expected_recipients
    assert delta("prospect_relay_rule_hits_total") == by_rule


async def test_monitor_mode_records_would_reject_everywhere(
    full_relay: FullRelayFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=DECISION_LOGGER)
    relay = await full_relay(policy=policy_text(mode="monitor"))
    await relay.store.upsert_contacts([consented("luc@gmail.com")])
    message = make_message("luc@gmail.com", subject="Your unpaid invoice")
    sent = Sent(SENDER, ["luc@gmail.com", "jeanne@gmail.com"], message, {})
    explained = await _explain(relay, tmp_path, sent, 0)
    before = await relay.scrape()

    result = await relay.send(sent.recipients, message)

    assert result.accepted and len(relay.delivered) == 1  # both forwarded, untouched
    [line] = _decision_lines(caplog)
    logged = {r["address"]: r for r in line["recipients"]}
    would = {"l***@gmail.com": ["deceptive-subject"], "j***@gmail.com": ["b2c-no-consent"]}
    for masked, rules in would.items():
        assert logged[masked]["action"] == "forward" and logged[masked]["rules"] == []
        assert logged[masked]["would"] == "reject" and logged[masked]["would_rules"][:1] == rules
    for address in sent.recipients:
        assert explained[address]["action"] == "forward"
        assert explained[address]["would"] == "reject"
    await relay.flush_audit()
    records = await stored_audit(relay.engine)
    assert sorted(
        (r.action.value, r.would_action.value if r.would_action else None) for r in records
    ) == [
        ("forward", "reject"),
        ("forward", "reject"),
    ]
    report = json.loads(
        (await relay.cli("report", "--since", "2026-11-01", "--format", "json")).stdout
    )
    assert report["would"] == {"reject": 2}
    assert {item["rule"] for item in report["top_would_reject"]} == {
        "deceptive-subject",
        "b2c-no-consent",
    }
    after = await relay.scrape()
    key = (
        "prospect_relay_recipients_would_total",
        (("action", "reject"), ("rule", "deceptive-subject")),
    )
    assert after[key] - before.get(key, 0.0) == 1.0


async def test_require_mode_adds_only_the_notice(full_relay: FullRelayFactory) -> None:
    """A first contact whose message carries its own footer gets the art. 14 notice alone."""
    require = policy_text().replace(
        'visible_recipients = "reject"', 'visible_recipients = "reject"\nfooter_mode = "require"'
    )
    relay = await full_relay(policy=require)
    await relay.store.upsert_contacts([prospect("paul@acme-industrie.fr")])
    text = (
        "Hello.\nAcme Prospecting SAS, commercial prospecting. We obtained your address at the "
        "trade fair 2025.\nUnsubscribe: https://example.com/unsubscribe\n"
    )
    message = make_message(
        "paul@acme-industrie.fr", text=text, html=None, headers={"X-Prospect-Targets": "finance"}
    )
    result = await relay.send("paul@acme-industrie.fr", message)
    assert result.accepted, result
    [copy] = relay.delivered
    body = copy.content.decode("utf-8", "replace")
    assert body.count("commercial prospecting") == 1  # the sender's own footer, not ours again
    assert "prospection commerciale de" not in body  # the relay's footer is not added
    assert "RGPD, art. 14" in body  # only the notice


async def test_a_delivered_copy_replayed_to_another_recipient_gets_its_own_footer(
    full_relay: FullRelayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 12: the marker of one delivered copy must not switch off another's footer and
    notice, whether copied onto a new message or sent along with the whole copy."""
    caplog.set_level(logging.INFO, logger=DECISION_LOGGER)
    relay = await full_relay()
    paul, pierre = "paul@acme-industrie.fr", "pierre@acme-industrie.fr"
    await relay.store.upsert_contacts([prospect(paul), prospect(pierre)])
    first = make_message(paul, headers={"X-Prospect-Targets": "finance"})
    assert (await relay.send(paul, first)).accepted
    [copy] = relay.delivered
    head, _, body = copy.content.partition(b"\r\n\r\n")
    kept = [line for line in head.split(b"\r\n") if not line.startswith((b"Received:", b"\t"))]
    kept.append(b"X-Prospect-Targets: finance")  # the relay removed it from the copy
    replay = b"\r\n".join(kept).replace(paul.encode(), pierre.encode()) + b"\r\n\r\n" + body
    caplog.clear()

    assert (await relay.send(pierre, replay)).accepted

    [line] = _decision_lines(caplog)
    [record] = line["recipients"]
    assert record["rules"] == ["footer", "first-contact-notice", "list-unsubscribe"]
    replayed = relay.delivered[-1].content
    url = replayed.split(b"List-Unsubscribe: <", 1)[1].split(b">", 1)[0].decode()
    expected = FooterExpectation(("Acme Prospecting SAS", "RGPD, art. 14"), url)
    assert footer_problems(replayed, expected) == []
