"""The service catalog agrees with the function folders and with what each service serves."""

from __future__ import annotations

import importlib
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from workplace_roleplay.catalog import load_catalog, parse_catalog
from workplace_roleplay.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]


def _function_folders() -> set[str]:
    return {p.name for p in (ROOT / "functions").iterdir() if p.is_dir() and (p / "main.py").is_file()}


def test_every_function_folder_has_a_catalog_entry() -> None:
    catalog = load_catalog()
    assert _function_folders() == {entry.name for entry in catalog.services}
    for entry in catalog.services:
        assert (ROOT / entry.folder / "main.py").is_file()
        assert entry.module == entry.folder.replace("/", ".") + ".main"


def _documented_paths(app: FastAPI) -> set[str]:
    return set(app.openapi()["paths"])


@pytest.mark.parametrize("service", [e.name for e in load_catalog().services])
async def test_every_catalog_prefix_is_served(service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    entry = load_catalog().get(service)
    app: FastAPI = importlib.import_module(entry.module).create()
    paths = _documented_paths(app)
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lb")
        async with client:
            for prefix in entry.prefixes:
                documented = any(p == prefix or p.startswith(prefix + "/") for p in paths)
                # Pages are not in the OpenAPI document; they must answer the prefix itself.
                probe = (await client.get(prefix, headers={"Accept": "text/html"})).status_code
                assert documented or probe != 404, f"{service} serves nothing under {prefix}"
            for exact in entry.exact:
                assert (await client.get(exact)).status_code == 200, f"{service} does not serve {exact}"
            for health in ("/health", entry.health_path):
                assert (await client.get(health)).status_code == 200
    # No service serves a path that routes to another service (no prefix stripping, no overlap).
    catalog = load_catalog()
    for path in paths:
        owner = catalog.route(path)
        if path in ("/health", "/ready") or owner is None:
            continue
        assert owner.name == service, f"{service} serves {path}, which the catalog routes to {owner.name}"


def test_routing_prefers_the_longest_prefix_and_respects_segment_boundaries() -> None:
    catalog = load_catalog()
    chat = catalog.route("/api/v2/chat/conversations")
    assert chat is not None
    assert chat.name == "chat"
    assert catalog.route("/api/v2/chatter") is None
    home = catalog.route("/")
    assert home is not None
    assert home.name == "scenario"
    assert catalog.route("/api/csrf-token") is None  # legacy keeps unversioned /api
    for path in ("/scenarios", "/scenarios/consent", "/scenarios/report_own_mistake", "/progress"):
        owner = catalog.route(path)
        assert owner is not None
        assert owner.name == "scenario"
    assert catalog.route("/scenario/scenario1") is None  # the legacy play page stays on legacy
    for path in ("/watch", "/watch/static/watch.js", "/api/v2/watch/ws/c1"):
        owner = catalog.route(path)
        assert owner is not None
        assert owner.name == "watch"
    assert catalog.route("/watcher") is None


def test_malformed_catalog_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ConfigurationError, match="malformed service catalog"):
        parse_catalog({"services": {"chat": {"folder": "functions/chat"}}, "legacy": {"name": "legacy"}})
    bad = {
        "legacy": {"name": "legacy"},
        "services": {
            "x": {
                "folder": "f",
                "module": "m",
                "cloud_run_name": "x",
                "api_prefix": "/api/x/",
                "prefixes": ["/api/x/"],
            }
        },
    }
    with pytest.raises(ConfigurationError, match="must start and not end"):
        parse_catalog(bad)


def test_background_work_is_read_and_must_be_a_real_boolean() -> None:
    catalog = load_catalog()
    assert catalog.get("chat").background_work is True
    assert catalog.get("migrate_session").background_work is False
    body = {"folder": "f", "module": "m", "cloud_run_name": "x", "api_prefix": "/api/x", "prefixes": ["/api/x"]}
    assert parse_catalog({"legacy": {"name": "legacy"}, "services": {"x": body}}).get("x").background_work is False
    # A quoted "false" would be truthy for anyone who reads the flag loosely; the catalog refuses it.
    with pytest.raises(ConfigurationError, match=r"x.background_work must be true or false"):
        parse_catalog({"legacy": {"name": "legacy"}, "services": {"x": {**body, "background_work": "false"}}})
