"""Vertex AI mode (the cloud default) of the real Gemini adapter, against the fake server over HTTP.

The adapter is built from settings only, exactly as a service builds it; a fixed access token
(``GEMINI_VERTEX_ACCESS_TOKEN``, local/test only) stands in for the runtime service account, so no
metadata server or credentials file is needed.
"""

from __future__ import annotations

import importlib.util

import httpx
import pytest
from pydantic import BaseModel, Field

from tests.support.fake_gemini import FakeGeminiControl
from tests.support.model_gateway import FLASH, PRO, collect, gateway_settings, open_gateway, turn
from workplace_roleplay.errors import ConfigurationError
from workplace_roleplay.ports.model import GenerationMode, ModelTask, TextDelta
from workplace_roleplay.settings import ChatSettings

pytestmark = pytest.mark.integration

PROJECT = "demo-vertex"
LOCATION = "asia-northeast1"
TOKEN = "vertex-test-token"
REPLY = "承知しました。まず状況を整理しましょう。"


class Verdict(BaseModel):
    passed: bool
    evidence: str = Field(max_length=200)
    score: int = Field(ge=1, le=5)


def vertex_settings(url: str, **overrides: object) -> ChatSettings:
    return gateway_settings(
        url,
        GEMINI_API_KEY=None,
        GEMINI_USE_VERTEX=True,
        GOOGLE_CLOUD_PROJECT=PROJECT,
        GOOGLE_CLOUD_LOCATION=LOCATION,
        GEMINI_VERTEX_ACCESS_TOKEN=TOKEN,
        **overrides,
    )


def assert_vertex_wire(request: dict[str, object], method: str, model: str) -> None:
    """The path, version and credentials Vertex AI expects (not the Gemini API's key header)."""
    assert (request["method"], request["model"]) == (method, model)
    assert request["version"] == "v1beta1"
    assert (request["project"], request["location"]) == (PROJECT, LOCATION)
    assert request["bearer"] == TOKEN
    assert request["api_key"] == ""


async def test_vertex_mode_streams_a_turn_incrementally(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.configure(text=REPLY, chunk_chars=4, chunk_delay_ms=80)
    async with open_gateway(vertex_settings(fake_gemini.url)) as model:
        stream = model.stream(turn())
        first = await anext(stream)
        assert isinstance(first, TextDelta)
        assert first.text == REPLY[:4]
        assert fake_gemini.stats()["in_flight"] == 1, "the first delta arrives while the server still sends"
        deltas, completion = await collect(stream)
    assert first.text + "".join(deltas) == REPLY == completion.text
    assert (completion.model, completion.mode) == (FLASH, GenerationMode.MODEL)
    assert completion.usage.output_tokens > 0
    [sent] = fake_gemini.requests()
    assert_vertex_wire(sent, "streamGenerateContent", FLASH)
    body = sent["body"]
    assert isinstance(body, dict)
    assert body["contents"][-1]["parts"][0]["text"] == "お疲れさまです。今少しよろしいですか。"
    assert body["systemInstruction"]["parts"][0]["text"] == "あなたは職場の先輩です。"


async def test_vertex_mode_generates_validated_structured_output(fake_gemini: FakeGeminiControl) -> None:
    async with open_gateway(vertex_settings(fake_gemini.url)) as model:
        result = await model.generate_structured(turn(task=ModelTask.FEEDBACK_REPORT), Verdict)
    assert isinstance(result.value, Verdict)
    assert result.completion.mode is GenerationMode.MODEL
    [sent] = fake_gemini.requests()
    assert_vertex_wire(sent, "generateContent", PRO)
    body = sent["body"]
    assert isinstance(body, dict)
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseJsonSchema"]["properties"]) == {"passed", "evidence", "score"}


async def test_vertex_overload_falls_back_to_the_other_model_on_the_same_wire(fake_gemini: FakeGeminiControl) -> None:
    fake_gemini.script(PRO, {"kind": "status", "status": 503, "times": -1})
    async with open_gateway(vertex_settings(fake_gemini.url)) as model:
        result = await model.generate_structured(turn(task=ModelTask.FEEDBACK_REPORT), Verdict)
    assert result.completion.model == FLASH
    sent = fake_gemini.requests()
    assert [r["model"] for r in sent][-1] == FLASH
    for request in sent:
        assert (request["project"], request["bearer"]) == (PROJECT, TOKEN)


async def test_the_fake_refuses_an_unauthenticated_vertex_call_as_vertex_would(fake_gemini: FakeGeminiControl) -> None:
    """Proves the wire test above is not vacuous: without the token the fake answers 401."""
    path = f"/v1beta1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{FLASH}:generateContent"
    async with httpx.AsyncClient(base_url=fake_gemini.url) as client:
        refused = await client.post(path, json={"contents": [{"role": "user", "parts": [{"text": "こんにちは"}]}]})
        allowed = await client.post(
            path,
            json={"contents": [{"role": "user", "parts": [{"text": "こんにちは"}]}]},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert refused.status_code == 401
    assert refused.json()["error"]["status"] == "UNAUTHENTICATED"
    assert allowed.status_code == 200


def test_the_sdk_keeps_our_httpx_transport_in_vertex_mode() -> None:
    """With aiohttp installed the SDK may move Vertex calls to its own session, bypassing our transport (ADR 0008)."""
    assert importlib.util.find_spec("aiohttp") is None


def test_a_fixed_vertex_token_is_refused_in_the_cloud() -> None:
    with pytest.raises(ConfigurationError, match="GEMINI_VERTEX_ACCESS_TOKEN is for local/test"):
        ChatSettings(ENV="prod", GEMINI_USE_VERTEX=True, GEMINI_VERTEX_ACCESS_TOKEN=TOKEN)
