"""deploy/: the Grafana dashboard, the Prometheus alerts and the purge timer load as they are,
and every PromQL expression names only metrics (and labels) the relay exports."""

from __future__ import annotations

import configparser
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from proxy.metrics import Metrics

pytestmark = pytest.mark.deploy

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
METRIC = re.compile(r"\bprospect_relay_[a-z_]+\b")
# `name{label="x", other=~"y"}`: the labels a selector filters on.
SELECTOR = re.compile(r"\b(prospect_relay_[a-z_]+)\{([^}]*)\}")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
TARGET_LABELS = {"instance", "job"}  # added by Prometheus to every scraped series


def _exported() -> dict[str, set[str]]:
    """Every series name the relay's metrics can expose -> its label names."""
    names: dict[str, set[str]] = {}
    suffixes = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}
    for metric in vars(Metrics()).values():
        if not isinstance(metric, MetricWrapperBase):
            continue
        labels = set(metric._labelnames)  # the label names given at construction
        for family in metric.describe():
            for suffix in suffixes[family.type]:
                names[family.name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    return names


EXPORTED = _exported()
ALL_LABELS = set().union(*EXPORTED.values()) | TARGET_LABELS


def _check_expression(expr: str) -> None:
    used = set(METRIC.findall(expr))
    assert used, f"no relay metric in {expr!r}"
    unknown = used - EXPORTED.keys()
    assert not unknown, f"{expr!r} uses metrics the relay does not export: {sorted(unknown)}"
    for name, matchers in SELECTOR.findall(expr):
        labels = set(LABEL.findall(matchers))
        assert labels <= EXPORTED[name] | TARGET_LABELS, f"{name} has no label {labels}"
    for grouping in GROUPING.findall(expr):
        labels = {part.strip() for part in grouping.split(",") if part.strip()}
        assert labels <= ALL_LABELS, f"grouping by unknown labels {labels} in {expr!r}"


def test_the_relay_exports_the_documented_metrics() -> None:
    assert {
        "prospect_relay_messages_total",
        "prospect_relay_recipients_total",
        "prospect_relay_smtp_replies_total",
        "prospect_relay_upstream_errors_total",
        "prospect_relay_decision_seconds_bucket",
        "prospect_relay_delivery_seconds_bucket",
        "prospect_relay_policy_reloads_total",
        "prospect_relay_suppression_entries",
        "prospect_relay_unsubscribes_total",
        "prospect_relay_smtp_sessions_open",
        "prospect_relay_feedback_total",
        "prospect_relay_webhook_deliveries_total",
        "prospect_relay_webhook_backlog",
    } <= EXPORTED.keys()
    assert EXPORTED["prospect_relay_recipients_total"] == {"action", "rule"}


# -- Grafana -------------------------------------------------------------------------------


def _dashboard() -> dict[str, Any]:
    data = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    assert isinstance(data, dict)
    return data


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def _dashboard_expressions() -> list[str]:
    return [
        target["expr"]
        for panel in _panels(_dashboard()["panels"])
        for target in panel.get("targets", [])
    ]


def test_dashboard_is_a_loadable_grafana_model() -> None:
    board = _dashboard()
    assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 36
    assert board["uid"] == "prospect-relay" and board["title"]
    assert board["id"] is None  # importable into any Grafana
    panels = list(_panels(board["panels"]))
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            refs = [target["refId"] for target in panel["targets"]]
            assert len(refs) == len(set(refs))
    variables = {item["name"] for item in board["templating"]["list"]}
    assert variables == {"datasource", "instance"}


def test_dashboard_covers_every_metric() -> None:
    used = {name for expr in _dashboard_expressions() for name in METRIC.findall(expr)}
    families = {re.sub(r"_(bucket|count|sum)$", "", name) for name in used}
    assert {
        re.sub(r"_bucket$", "", name) for name in EXPORTED if not name.endswith(("_count", "_sum"))
    } <= families


@pytest.mark.parametrize("expr", _dashboard_expressions())
def test_dashboard_expression_uses_exported_metrics(expr: str) -> None:
    _check_expression(expr)
    assert expr.count("(") == expr.count(")")


# -- Prometheus alerts ---------------------------------------------------------------------


def _rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((DEPLOY / "prometheus-alerts.yml").read_text())
    assert set(document) == {"groups"}
    rules: list[dict[str, Any]] = []
    for group in document["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit"} and group["name"]
        rules.extend(group["rules"])
    return rules


def test_alert_rules_are_a_valid_rule_file() -> None:
    rules = _rules()
    names = [rule["alert"] for rule in rules]
    assert names == [
        "ProspectRelayRejectRateSpike",
        "ProspectRelayUpstreamFailures",
        "ProspectRelayNoTraffic",
        "ProspectRelayPolicyReloadFailed",
        "ProspectRelayComplaintRate",
        "ProspectRelayBounceRate",
        "ProspectRelayWebhookBacklog",
    ]
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
        assert isinstance(rule["expr"], str)
        if "for" in rule:
            assert re.fullmatch(r"\d+[smhdwy]", rule["for"])
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


@pytest.mark.parametrize("rule", _rules(), ids=lambda rule: str(rule["alert"]))
def test_alert_expression_uses_exported_metrics(rule: dict[str, Any]) -> None:
    _check_expression(rule["expr"])
    assert rule["expr"].count("(") == rule["expr"].count(")")


# -- systemd -------------------------------------------------------------------------------


def _unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / name).read_text())
    return parser


def test_purge_timer_runs_the_purge_daily() -> None:
    service = _unit("prospect-relay-purge.service")
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["ExecStart"].split()[1:3] == ["purge", "--config"]
    timer = _unit("prospect-relay-purge.timer")
    assert timer["Timer"]["OnCalendar"] == "*-*-* 03:00:00"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
