"""Dashboards as code (issue 15): the Grafana dashboard is schema-checked and laid out without overlaps; every
query of it and of the Cloud Monitoring dashboard names a metric the code exports (the list is derived from
the code's own Prometheus registry, never copied); both carry a product row covering every product metric."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from prometheus_client import REGISTRY

import workplace_roleplay

SCHEMA = Path(__file__).parent / "schemas" / "grafana_dashboard.schema.json"
# PromQL words that are not metric names, and metrics that come from elsewhere: the scrape itself (``up``)
# and Cloud Run's own request count in Cloud Monitoring.
PROMQL_WORDS = {
    "sum", "rate", "increase", "histogram_quantile", "by", "without", "on", "ignoring", "group_left",
    "group_right", "scalar", "avg", "max", "min", "count", "and", "or", "unless", "le", "bool", "offset",
}  # fmt: skip
EXTERNAL = {"up", "run_googleapis_com:request_count"}


def exported_metric_names() -> set[str]:
    """Every sample name the application's code registers (counters with _total, histograms with _bucket...)."""
    for module in pkgutil.walk_packages(workplace_roleplay.__path__, "workplace_roleplay."):
        importlib.import_module(module.name)
    names: set[str] = set()
    for collector_names in REGISTRY._collector_to_names.values():
        names |= set(collector_names)
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (label matchers, strings, durations and grouping dropped)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr.replace('\\"', '"'))
    text = re.sub(r"\{[^{}]*\}", "", re.sub(r"\$\{[^}]*\}", "x", text))
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", text))
    return {w for w in words if w not in PROMQL_WORDS and not re.fullmatch(r"\d+[smhdw]?", w)}


@pytest.fixture(scope="module")
def grafana(repo: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((repo / "ops/grafana/dashboard.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def cloud_queries(repo: Path) -> list[str]:
    text = (repo / "terraform/modules/monitoring/dashboard.tf").read_text(encoding="utf-8")
    return re.findall(r'prometheusQuery\s*=\s*"((?:[^"\\]|\\.)*)"', text) + re.findall(
        r'\["[^"]*",\s*"((?:[^"\\]|\\.)*)"\]', text
    )


@pytest.fixture(scope="module")
def exported() -> set[str]:
    return exported_metric_names()


def grafana_exprs(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_grafana_dashboard_matches_the_schema_and_panels_do_not_overlap(grafana: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(grafana)
    ids = [p["id"] for p in grafana["panels"]]
    assert len(ids) == len(set(ids))
    cells: dict[tuple[int, int], str] = {}
    for p in grafana["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{p['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = p["title"]
    variables = {v["name"] for v in grafana["templating"]["list"]}
    for expr in grafana_exprs(grafana):
        assert set(re.findall(r"\$(\w+)", expr)) - {"__range", "__interval"} <= variables, expr


def test_the_schema_refuses_a_broken_dashboard(grafana: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(grafana))
    broken["panels"][1]["targets"][0].pop("expr")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(broken)


def test_metric_names_are_read_from_promql() -> None:
    expr = 'sum by (mode, le) (rate(product_session_turns_bucket{mode=~"$mode",x="a b"}[1d])) / scalar(up)'
    assert metric_names(expr) == {"product_session_turns_bucket", "up"}
    assert metric_names('sum(rate(run_googleapis_com:request_count{service_name=\\"${name}\\"}[5m]))') == {
        "run_googleapis_com:request_count"
    }


def test_every_dashboard_query_names_a_metric_the_code_exports(
    grafana: dict[str, Any], cloud_queries: list[str], exported: set[str]
) -> None:
    assert "product_ratings_total" in exported  # the derivation found the product counters
    assert len(cloud_queries) >= 15
    for expr in grafana_exprs(grafana) + cloud_queries:
        names = metric_names(expr)
        assert names, expr
        assert names <= exported | EXTERNAL, (sorted(names - exported - EXTERNAL), expr)


def test_both_dashboards_have_a_product_row_covering_every_product_metric(
    grafana: dict[str, Any], cloud_queries: list[str], exported: set[str]
) -> None:
    # Counters by their _total sample, histograms by their base name (what the queries read, less suffixes).
    product = {
        n.removesuffix("_bucket") for n in exported if n.startswith("product_") and n.endswith(("_total", "_bucket"))
    }
    product |= {"learner_errors_total"}
    assert len(product) >= 9, sorted(product)
    rows = [p for p in grafana["panels"] if p["type"] == "row" and p["title"].startswith("Product")]
    assert len(rows) == 1
    below = [p for p in grafana["panels"] if p["gridPos"]["y"] > rows[0]["gridPos"]["y"]]
    for name, queries in (("grafana", [t["expr"] for p in below for t in p["targets"]]), ("cloud", cloud_queries)):
        used = {re.sub(r"_(bucket|sum|count)$", "", m) for q in queries for m in metric_names(q)}
        assert product <= used, (name, sorted(product - used))
    titles = " | ".join(p["title"] for p in below)
    for needle in ("Satisfaction by mode", "Satisfaction by scenario", "funnel", "fallback", "error rate"):
        assert needle in titles
