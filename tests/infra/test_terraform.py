"""The real terraform binary, offline: formatting, and the routing Terraform computes from the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra import render
from tests.infra.hcl import Tree
from tests.infra.terraform_cli import TerraformRejected, run


def test_terraform_fmt_is_clean(repo: Path) -> None:
    result = run(["fmt", "-check", "-recursive", "-diff", "-no-color"], repo / "terraform")
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


def _traffic(catalog: dict[str, Any], **chat: Any) -> dict[str, Any]:
    entries: dict[str, dict[str, Any]] = {
        name: {
            "stable_revision": f"{svc['cloud_run_name']}-stable",
            "candidate_revision": None,
            "candidate_percent": 0,
            "legacy_percent": 0,
        }
        for name, svc in catalog.items()
    }
    entries["chat"].update(chat)
    return {"legacy_fallback": False, "traffic": entries}


def test_every_environment_routes_each_catalog_path_to_its_service(real_tree: Tree, catalog_path: Path) -> None:
    catalog = render.load_catalog(catalog_path)
    for env_dir in real_tree.environments():
        rendered = render.render_routing(real_tree, catalog, render.traffic_file(env_dir))
        expected = {(p, name) for name, s in catalog.items() for p in [*s["prefixes"], *(s.get("exact") or [])]}
        assert {(r["path"], r["service"]) for r in rendered["routes"]} == expected, env_dir.name


def test_longer_prefixes_win_and_prefixes_do_not_swallow_lookalikes(real_tree: Tree, catalog_path: Path) -> None:
    catalog = render.load_catalog(catalog_path)
    rendered = render.render_routing(real_tree, catalog, _traffic(catalog))
    routes = rendered["routes"]
    assert [r["priority"] for r in routes] == sorted(r["priority"] for r in routes)
    lengths = [len(r["path"]) for r in routes]
    assert lengths == sorted(lengths, reverse=True)
    chat = next(r for r in routes if r["path"] == "/api/v2/chat")
    assert (chat["full_path"], chat["prefix"]) == ("/api/v2/chat", "/api/v2/chat/")
    tests = {t["path"]: t["backend"] for t in rendered["url_tests"]}
    assert tests["/api/v2/chat/probe"] == "chat"
    assert tests["/api/v2/chat-unclaimed"] == "legacy"


def test_a_canary_splits_cloud_run_traffic_between_stable_and_candidate(real_tree: Tree, catalog_path: Path) -> None:
    catalog = render.load_catalog(catalog_path)
    traffic = _traffic(catalog, candidate_revision="chat-abc1234-5f6a7b", candidate_percent=10)
    rendered = render.render_routing(real_tree, catalog, traffic)
    assert rendered["run_traffic"]["chat"] == [
        {"revision": "chat-stable", "percent": 90, "tag": "stable"},
        {"revision": "chat-abc1234-5f6a7b", "percent": 10, "tag": "candidate"},
    ]
    assert rendered["run_traffic"]["watch"] == [{"revision": "watch-stable", "percent": 100, "tag": "stable"}]


def test_a_gradual_move_weights_the_route_and_drops_its_url_test(real_tree: Tree, catalog_path: Path) -> None:
    catalog = render.load_catalog(catalog_path)
    rendered = render.render_routing(real_tree, catalog, _traffic(catalog, legacy_percent=25))
    chat_routes = [r for r in rendered["routes"] if r["service"] == "chat"]
    assert chat_routes
    assert all((r["service_weight"], r["legacy_weight"]) == (75, 25) for r in chat_routes)
    tested = {t["path"] for t in rendered["url_tests"]}
    assert "/api/v2/chat" not in tested
    assert "/api/v2/watch" in tested
    assert "/watch" in tested


def test_legacy_fallback_sends_every_path_to_legacy(real_tree: Tree, catalog_path: Path) -> None:
    catalog = render.load_catalog(catalog_path)
    traffic = {**_traffic(catalog), "legacy_fallback": True}
    rendered = render.render_routing(real_tree, catalog, traffic)
    assert rendered["routes"] == []
    assert rendered["url_tests"]
    assert {t["backend"] for t in rendered["url_tests"]} == {"legacy"}


def test_traffic_keyed_differently_from_the_catalog_is_rejected(real_tree: Tree, catalog_path: Path) -> None:
    catalog = render.load_catalog(catalog_path)
    traffic = _traffic(catalog)
    del traffic["traffic"]["watch"]
    with pytest.raises(TerraformRejected, match="exactly one entry per catalog service"):
        render.render_routing(real_tree, catalog, traffic)


def test_runtime_switches_reach_the_env_and_unknown_ones_are_refused(real_tree: Tree) -> None:
    from tests.infra.terraform_cli import evaluate_module

    base = {
        "environment": "prod",
        "project_id": "p-123456",
        "region": "asia-northeast1",
        "jwt_active_kid": "k1",
        "ale_primary_kid": "a1",
    }
    config = evaluate_module(
        real_tree.module("service_config"), {**base, "runtime_switches": {"FALLBACK_AUTH": "flask_session"}}
    )
    assert config["env"]["FALLBACK_AUTH"] == "flask_session"
    with pytest.raises(TerraformRejected, match="only set FALLBACK_AUTH and MODEL_FORCE_SIMPLE"):
        evaluate_module(real_tree.module("service_config"), {**base, "runtime_switches": {"ENV": "local"}})


def test_scenario_pages_route_to_the_scenario_service_and_lookalikes_stay_legacy(
    real_tree: Tree, catalog_path: Path
) -> None:
    catalog = render.load_catalog(catalog_path)
    rendered = render.render_routing(real_tree, catalog, _traffic(catalog))
    tests = {t["path"]: t["backend"] for t in rendered["url_tests"]}
    assert tests["/scenarios"] == "scenario"
    assert tests["/scenarios/probe"] == "scenario"
    assert tests["/scenarios-unclaimed"] == "legacy"
    assert tests["/"] == "scenario"
    assert tests["/api/v2/scenarios/probe"] == "scenario"
    routes = {r["path"]: r for r in rendered["routes"]}
    assert (routes["/scenarios"]["full_path"], routes["/scenarios"]["prefix"]) == ("/scenarios", "/scenarios/")
    assert not any(p == "/scenario" or p.startswith("/scenario/") for p in routes)  # legacy play page stays
