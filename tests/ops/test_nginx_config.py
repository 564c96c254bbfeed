"""The local stack's nginx config, rendered from the catalog and a traffic state, checked by real nginx."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.ops.stack_runner import nginx_binary
from tools.ops import nginx
from tools.ops.traffic import OpsError, ServiceTraffic, TrafficState, canary, default_state, set_legacy
from workplace_roleplay.catalog import Catalog, load_catalog


@pytest.fixture
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def base(catalog: Catalog) -> TrafficState:
    return default_state({e.name: e.cloud_run_name for e in catalog.services})


def revisions(state: TrafficState, extra: dict[str, str] | None = None) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for port, (name, t) in enumerate(state.traffic.items(), start=20000):
        out[name] = {t.stable_revision: port}
    for i, (name, revision) in enumerate((extra or {}).items()):
        out[name][revision] = 21000 + i
    return out


def test_split_is_the_candidate_share_of_what_legacy_leaves(base: TrafficState) -> None:
    state = canary(base, "chat", 15, "chat-candidate")
    state = state.with_service("chat", replace(state.service("chat"), legacy_percent=10))
    assert nginx.split_weights(state, "chat") == [
        ("legacy", 10.0),
        (nginx.upstream_name("chat", "chat-stable"), 76.5),
        (nginx.upstream_name("chat", "chat-candidate"), 13.5),
    ]
    assert nginx.split_weights(state, "watch") == [(nginx.upstream_name("watch", "watch-stable"), 100.0)]


def test_legacy_fallback_sends_every_service_to_legacy(base: TrafficState) -> None:
    state = set_legacy(canary(base, "chat", 50, "chat-candidate"), True)
    for name in state.traffic:
        assert nginx.split_weights(state, name) == [("legacy", 100.0)]


def test_routes_mirror_the_catalog_without_prefix_stripping(
    catalog: Catalog, base: TrafficState, tmp_path: Path
) -> None:
    text = nginx.render(catalog, base, revisions(base), 19999, 18080, nginx.NginxPaths(tmp_path))
    for entry in catalog.services:
        for prefix in entry.prefixes:
            assert f"location = {prefix} {{\n            proxy_pass http://$route_{entry.name};" in text
            assert f"location ^~ {prefix}/ {{\n            proxy_pass http://$route_{entry.name};" in text
        for exact in entry.exact:
            assert f"location = {exact} {{\n            proxy_pass http://$route_{entry.name};" in text
    assert "location / {\n            proxy_pass http://legacy;" in text
    assert "proxy_buffering off;" in text
    assert "proxy_read_timeout 3600s;" in text
    assert "rewrite" not in text


def test_canary_renders_a_weighted_split(catalog: Catalog, base: TrafficState, tmp_path: Path) -> None:
    state = canary(base, "chat", 10, "chat-candidate")
    text = nginx.render(
        catalog, state, revisions(state, {"chat": "chat-candidate"}), 19999, 18080, nginx.NginxPaths(tmp_path)
    )
    block = text.split('split_clients "${request_id}" $route_chat {')[1].split("}")[0]
    assert block.split() == ["90%", "rev_chat__chat_stable;", "*", "rev_chat__chat_candidate;"]


def test_a_revision_without_a_process_is_refused(catalog: Catalog, base: TrafficState, tmp_path: Path) -> None:
    state = canary(base, "chat", 10, "chat-ghost")
    with pytest.raises(OpsError, match="chat-ghost"):
        nginx.render(catalog, state, revisions(state), 19999, 18080, nginx.NginxPaths(tmp_path))


@pytest.mark.parametrize("case", ["steady", "canary", "legacy_share", "fallback", "all_candidate"])
def test_nginx_accepts_every_rendered_config(catalog: Catalog, base: TrafficState, tmp_path: Path, case: str) -> None:
    binary = nginx_binary()
    state = base
    extra: dict[str, str] = {}
    if case != "steady":
        state = canary(base, "chat", 100 if case == "all_candidate" else 10, "chat-candidate")
        extra = {"chat": "chat-candidate"}
    if case == "legacy_share":
        state = state.with_service("scenario", ServiceTraffic("scenario-stable", None, 0, 33))
    if case == "fallback":
        state = set_legacy(state, True)
    paths = nginx.NginxPaths(tmp_path / "nginx")
    nginx.write_config(paths, nginx.render(catalog, state, revisions(state, extra), 19999, 18080, paths))
    result = subprocess.run([*paths.base_command(binary), "-t"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
