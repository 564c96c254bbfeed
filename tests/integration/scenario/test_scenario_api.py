"""The scenario API over real HTTP (Firestore emulator, real Redis): the catalog list with filters, paging,
locked entries and ETag; the detail behind the consent gate; the consent API; auth and rate limits on
every route; the catalog read from scenario_cache by the next instance."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.scenario.conftest import StartServer
from tests.support.scenario_server import ScenarioServer
from workplace_roleplay.domain.scenario.catalog import CACHE_PREFIX
from workplace_roleplay.domain.scenario.consent import CONSENT_VERSION

pytestmark = pytest.mark.integration

API = "/api/v2/scenarios"
REGULAR = "report_own_mistake"
GATED = ["harassment_basics", "guidance_or_reprimand"]  # harassment_prevention, gray_zone
# Every route of the service's API that needs a learner (method, path, JSON body).
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", API, None),
    ("GET", f"{API}/{REGULAR}", None),
    ("GET", f"{API}/consent", None),
    ("PUT", f"{API}/consent", {"version": CONSENT_VERSION}),
    ("DELETE", f"{API}/consent", None),
]


async def _list(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(API, headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_list_locks_consent_gated_scenarios_to_title_and_category(
    server: ScenarioServer, client: httpx.AsyncClient
) -> None:
    _, auth = await server.sign_in()
    body = await _list(client, auth, limit=100)
    assert body["total"] == len(server.scenarios.catalog) >= 54
    assert body["consented"] is False
    locked = [i for i in body["items"] if i["locked"]]
    assert {i["category"] for i in locked} == {"gray_zone", "harassment_prevention"}
    for item in locked:
        assert item["status"] == "locked"
        assert item["requires_consent"] is True
        assert (item["difficulty"], item["tags"], item["summary"], item["minutes"]) == (None, None, None, None)
        assert item["title"]
    open_item = next(i for i in body["items"] if i["id"] == REGULAR)
    assert open_item["status"] == "not_started"
    assert open_item["difficulty"] == "beginner"
    assert "報連相" in open_item["tags"]


async def test_filters_and_paging(server: ScenarioServer, client: httpx.AsyncClient) -> None:
    _, auth = await server.sign_in()
    reg = await _list(client, auth, category="regular", limit=100)
    assert reg["items"]
    assert {i["category"] for i in reg["items"]} == {"regular"}
    beginners = await _list(client, auth, difficulty="beginner", limit=100)
    assert {i["difficulty"] for i in beginners["items"]} == {"beginner"}  # locked ones are left out
    tagged = await _list(client, auth, tag="報連相", limit=100)
    assert REGULAR in {i["id"] for i in tagged["items"]}
    assert all("報連相" in i["tags"] for i in tagged["items"])
    text = await _list(client, auth, q="誤送信")
    assert [i["id"] for i in text["items"]] == ["report_misdirected_email"]
    first = await _list(client, auth, limit=10)
    second = await _list(client, auth, limit=10, offset=10)
    assert first["next_offset"] == 10
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    bad = await client.get(API, headers=auth, params={"category": "harassment"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_input"


async def test_list_etag_answers_304_until_the_learners_view_changes(
    server: ScenarioServer, client: httpx.AsyncClient
) -> None:
    _, auth = await server.sign_in()
    first = await client.get(API, headers=auth)
    etag = first.headers["etag"]
    again = await client.get(API, headers={**auth, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert again.content == b""
    assert (await client.put(f"{API}/consent", headers=auth, json={"version": CONSENT_VERSION})).status_code == 200
    changed = await client.get(API, headers={**auth, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


@pytest.mark.parametrize("scenario_id", GATED)
async def test_detail_needs_consent_and_opens_after_it(
    server: ScenarioServer, client: httpx.AsyncClient, scenario_id: str
) -> None:
    _, auth = await server.sign_in()
    refused = await client.get(f"{API}/{scenario_id}", headers=auth)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "consent_required"
    assert error["consent_url"] == f"/scenarios/consent?next=/scenarios/{scenario_id}"
    assert "同意" in error["message"]
    given = await client.put(f"{API}/consent", headers=auth, json={"version": CONSENT_VERSION})
    assert given.json()["consented"] is True
    detail = await client.get(f"{API}/{scenario_id}", headers=auth)
    assert detail.status_code == 200
    body = detail.json()
    assert body["requires_consent"] is True
    assert body["counterparts"]
    assert body["checks"]
    assert (await client.delete(f"{API}/consent", headers=auth)).json()["consented"] is False
    assert (await client.get(f"{API}/{scenario_id}", headers=auth)).status_code == 403


async def test_detail_of_a_regular_scenario_and_unknown_ids(server: ScenarioServer, client: httpx.AsyncClient) -> None:
    _, auth = await server.sign_in()
    detail = (await client.get(f"{API}/{REGULAR}", headers=auth)).json()
    assert detail["opening_speaker"] is None
    assert detail["situation_card"]
    assert [c["id"] for c in detail["checks"]] == ["conclusion_first", "facts", "cause", "countermeasure", "apology"]
    assert detail["counterparts"][0]["name"] == "高橋課長"
    missing = await client.get(f"{API}/no_such_scenario", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "scenario_not_found"


async def test_consent_is_per_learner_versioned_and_revocable(
    server: ScenarioServer, client: httpx.AsyncClient
) -> None:
    uid, auth = await server.sign_in()
    _, other = await server.sign_in()
    assert (await client.get(f"{API}/consent", headers=auth)).json()["consented"] is False
    stale = await client.put(f"{API}/consent", headers=auth, json={"version": "2020-old"})
    assert stale.status_code == 422
    given = (await client.put(f"{API}/consent", headers=auth, json={"version": CONSENT_VERSION})).json()
    assert given["version"] == CONSENT_VERSION
    assert given["given_at"] > 0
    stored = await server.resources.store.get(f"users/{uid}")
    assert stored is not None
    assert stored["consents"]["scenario_training"]["version"] == CONSENT_VERSION
    assert (await _list(client, other))["consented"] is False
    assert (await client.get(f"{API}/{GATED[0]}", headers=other)).status_code == 403
    revoked = (await client.delete(f"{API}/consent", headers=auth)).json()
    assert revoked["consented"] is False
    assert revoked["revoked_at"] >= revoked["given_at"]
    assert (await client.delete(f"{API}/consent", headers=auth)).status_code == 200  # idempotent


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_every_route_needs_a_learner(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


async def test_every_route_spends_the_default_rate_limit(start_server: StartServer) -> None:
    server = await start_server(RATE_LIMIT_DEFAULT_USER=f"{len(ROUTES)}/60")
    _, auth = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        for method, path, body in ROUTES:
            assert (await client.request(method, path, json=body, headers=auth)).status_code == 200, path
        limited = await client.get(API, headers=auth)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1


async def test_the_next_instance_reads_the_catalog_from_scenario_cache(
    start_server: StartServer, redis_namespace: str
) -> None:
    first = await start_server()
    digest = first.scenarios.catalog.digest
    key = f"{CACHE_PREFIX}{digest}"
    assert await first.resources.cache.get(key) is not None
    second = await start_server()
    assert (first.scenarios.from_cache, second.scenarios.from_cache) == (False, True)
    assert second.scenarios.catalog.digest == digest
    assert [s.id for s in second.scenarios.catalog.scenarios] == [s.id for s in first.scenarios.catalog.scenarios]


async def test_openapi_documents_the_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get(f"{API}/openapi.json")).json()["paths"]
    assert {API, f"{API}/{{scenario_id}}", f"{API}/consent"} <= set(paths)
    assert "403" in paths[f"{API}/{{scenario_id}}"]["get"]["responses"]
