"""Crafted headers and path parameters get a 4xx, never a 500, through `make run`'s gateway (issue 13, item 2)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from functions.chat.pages import ASSETS
from tests.support.local_gateway import run_gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with run_gateway(tmp_path_factory.mktemp("data")) as base, httpx.Client(base_url=base, timeout=20) as client:
        token = client.post("/api/v2/auth/anonymous").json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


# Header values travel as latin-1 bytes: \xb2 is a superscript two, which str.isdigit() accepts.
@pytest.mark.parametrize("event_id", [b"t1.\xb2", b"t\xb2.1", b"t1.1\xb9", b"t1.99999999999999999999999"])
def test_a_crafted_last_event_id_is_a_422_on_both_routes(signed_in: httpx.Client, event_id: bytes) -> None:
    turn = signed_in.post("/api/v2/chat", json={"partner_type": "senior"}, headers={b"Last-Event-ID": event_id})
    assert turn.status_code == 422, turn.text
    assert turn.json()["error"]["code"] == "invalid_input"
    resume = signed_in.get("/api/v2/chat/streams/t1", headers={b"Last-Event-ID": event_id})
    assert resume.status_code == 422, resume.text


@pytest.mark.parametrize("conversation_id", ["c%C2%B2", "%EF%BC%A3", "c.d", "c%00", "c%0A", "-c"])
def test_a_path_parameter_outside_the_id_grammar_is_a_422_with_details(
    signed_in: httpx.Client, conversation_id: str
) -> None:
    response = signed_in.get(f"/api/v2/chat/conversations/{conversation_id}")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"][0]["loc"] == ["path", "conversation_id"]


def test_a_well_formed_unknown_id_is_still_a_404(signed_in: httpx.Client) -> None:
    response = signed_in.get("/api/v2/chat/conversations/c0123456789abcdef0123")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "conversation_not_found"


def test_static_asset_paths_keep_working_and_crafted_ones_are_a_422(signed_in: httpx.Client) -> None:
    # The page kit serves fingerprinted scripts (kit.<hash>.js, htmx.<hash>.js) under each service's prefix.
    assert signed_in.get(ASSETS.url("kit.js")).status_code == 200
    assert signed_in.get(ASSETS.url("htmx.js")).status_code == 200
    assert signed_in.get("/chat/static/ki%C2%B2t.0123456789.js").status_code == 422
    assert signed_in.get("/chat/static/nothing.0123456789.js").status_code == 404
