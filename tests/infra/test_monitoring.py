"""Alert rules as code: the Prometheus rules, the Grafana dashboard and the Cloud Monitoring policies agree
with the escalation criteria, the catalog, the metrics the services really export and the runbook."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra import render
from tests.infra.hcl import Tree
from workplace_roleplay import telemetry
from workplace_roleplay.web import metrics


def _histogram_or_counter_names() -> set[str]:
    names = set()
    for module in (metrics, telemetry):
        for value in vars(module).values():
            name = getattr(value, "_name", None)
            kind = getattr(value, "_type", None)
            if isinstance(name, str) and kind in {"counter", "histogram", "gauge"}:
                names.add(f"{name}_total" if kind == "counter" else name)
                if kind == "histogram":
                    names |= {f"{name}_sum", f"{name}_count"}
    return names


def _slug(heading: str) -> str:
    """GitHub's anchor for a markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.fixture(scope="module")
def rules(repo: Path) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((repo / "ops/prometheus/alerts.yml").read_text(encoding="utf-8"))
    return {rule["alert"]: rule for group in data["groups"] for rule in group["rules"]}


@pytest.fixture(scope="module")
def dashboard(repo: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((repo / "ops/grafana/dashboard.json").read_text(encoding="utf-8"))
    return data


def _streaming_regex(catalog_path: Path) -> str:
    catalog = render.load_catalog(catalog_path)
    prefixes = sorted({p for s in catalog.values() for p in s["streaming_prefixes"]})
    return "(" + "|".join(prefixes) + ")(/.*)?"


def test_prometheus_rules_encode_the_escalation_criteria(rules: dict[str, dict[str, Any]]) -> None:
    expected = {
        "HighErrorRatio": ("5m", "> 0.05"),
        "SlowResponses": ("5m", "> 5"),
        "SlowFirstToken": ("3m", "> 5"),
        "HealthCheckFailing": ("1m", "== 0"),
    }
    assert set(rules) == set(expected)
    assert rules["HighErrorRatio"]["for"] == "5m"
    assert rules["SlowResponses"]["for"] == rules["SlowFirstToken"]["for"] == "3m"
    assert rules["HealthCheckFailing"]["for"] == "1m"
    for name, (_, threshold) in expected.items():
        assert threshold in rules[name]["expr"], name
    ratio = rules["HighErrorRatio"]["expr"]
    assert ratio.count("http_requests_total") == 2
    assert "/" in ratio
    assert "histogram_quantile(0.95" in rules["SlowResponses"]["expr"]


def test_latency_rules_exclude_exactly_the_catalog_streaming_routes(
    rules: dict[str, dict[str, Any]], dashboard: dict[str, Any], catalog_path: Path
) -> None:
    regex = _streaming_regex(catalog_path)
    assert f'route!~"{regex}"' in rules["SlowResponses"]["expr"]
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert any(f'route!~"{regex}"' in e for e in exprs)


def test_rules_and_dashboard_use_metrics_the_services_export(
    rules: dict[str, dict[str, Any]], dashboard: dict[str, Any]
) -> None:
    exported = _histogram_or_counter_names()
    exprs = [r["expr"] for r in rules.values()] + [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {m for e in exprs for m in re.findall(r"\b([a-z_]+?)(?:_bucket)?\{", e) if m not in {"up", "probe_success"}}
    used |= {m for e in exprs for m in re.findall(r"\(([a-z_]+?)(?:_bucket)?\[", e)}
    assert used, exprs
    assert used <= exported, sorted(used - exported)


def test_every_alert_links_to_an_existing_runbook_section(
    rules: dict[str, dict[str, Any]], repo: Path, real_tree: Tree
) -> None:
    runbook = (repo / "docs/runbook.md").read_text(encoding="utf-8")
    anchors = {_slug(line.lstrip("#")) for line in runbook.splitlines() if line.startswith("#")}
    links = [r["annotations"]["runbook_url"] for r in rules.values()]
    for policy in real_tree.resources("google_monitoring_alert_policy"):
        content = policy.body["documentation"][0]["content"]
        found = re.findall(r"runbook_url\}(#[a-z0-9-]+)", content)
        assert found, f"{policy.address} has no runbook link"
        links += found
    for link in links:
        assert link.split("#", 1)[1] in anchors, f"{link} is not a heading of docs/runbook.md"


def test_cloud_monitoring_error_alert_is_a_ratio_and_latency_skips_streams(real_tree: Tree) -> None:
    policies_by_name = {b.labels[1]: b.body for b in real_tree.resources("google_monitoring_alert_policy")}
    assert set(policies_by_name) == {"error_ratio", "latency", "first_token", "uptime"}
    error_query = policies_by_name["error_ratio"]["conditions"][0]["condition_prometheus_query_language"][0]
    assert error_query["duration"] == "300s"
    assert error_query["query"].count("run_googleapis_com:request_count") == 2
    latency = policies_by_name["latency"]["conditions"][0]["condition_prometheus_query_language"][0]
    assert latency["duration"] == "180s"
    assert "route!~" in latency["query"]
    uptime = policies_by_name["uptime"]["conditions"][0]["condition_threshold"][0]
    assert uptime["duration"] == "60s"
    assert uptime["threshold_value"] == 1
    checks = real_tree.resources("google_monitoring_uptime_check_config")
    assert checks
    assert checks[0].body["for_each"] == "${var.services}"


def test_dashboard_has_a_panel_per_criterion(dashboard: dict[str, Any]) -> None:
    titles = " | ".join(p["title"] for p in dashboard["panels"])
    for needle in ("5xx ratio", "p95 latency", "time to first token", "health"):
        assert needle in titles
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_first_token_alerts_watch_the_learner_not_the_upstream_model(
    rules: dict[str, dict[str, Any]], dashboard: dict[str, Any], real_tree: Tree, catalog_path: Path
) -> None:
    """Every first-token alert and its panels read stream_first_token_seconds on the catalog's streaming routes."""
    regex = _streaming_regex(catalog_path)
    rule = rules["SlowFirstToken"]["expr"]
    assert f'stream_first_token_seconds_bucket{{route=~"{regex}"}}' in rule
    assert "model_time_to_first_token" not in rule
    assert "histogram_quantile(0.95, sum by (service, le)" in rule

    policy = next(b.body for b in real_tree.resources("google_monitoring_alert_policy") if b.labels[1] == "first_token")
    assert "length(s.streaming_prefixes) > 0" in policy["for_each"]
    condition = policy["conditions"][0]["condition_prometheus_query_language"][0]
    assert condition["duration"] == "180s"
    matcher = 'stream_first_token_seconds_bucket{service="${each.key}",route=~"${local.streaming_regex[each.key]}"}'
    assert matcher in condition["query"]
    assert "model_time_to_first_token" not in condition["query"]

    alerting = [p for p in dashboard["panels"] if "time to first token" in p["title"] and "alert" in p["title"]]
    assert len(alerting) == 1
    assert [
        f'stream_first_token_seconds_bucket{{service=~"$service",route=~"{regex}"}}' in t["expr"]
        for t in alerting[0]["targets"]
    ] == [True]
    cloud_dashboard = real_tree.resources("google_monitoring_dashboard")[0].module_dir / "dashboard.tf"
    text = cloud_dashboard.read_text(encoding="utf-8")
    assert "stream_first_token_seconds_bucket{service=" in text
    assert "model_time_to_first_token_seconds" not in text


def test_the_learner_metric_is_labelled_by_service_and_route() -> None:
    assert metrics.STREAM_FIRST_TOKEN._labelnames == ("service", "route")
    assert metrics.STREAM_FIRST_TOKEN._type == "histogram"
    # The alert threshold (5 s) must be a bucket boundary, or the p95 estimate straddles it.
    assert 5 in metrics.STREAM_FIRST_TOKEN._upper_bounds
