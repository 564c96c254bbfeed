"""The thin streaming path sends exactly what google-genai sends for the same request (ADR 0026).

Both go to the fake Gemini server, which records path, version, credentials and JSON body; the SDK's
request is the reference the rest of the suite (and ../shared/notes/libraries.md) was verified against.
"""

from __future__ import annotations

from typing import Any

import pytest
from google import genai
from google.genai import types

from tests.support.fake_gemini import FakeGeminiControl
from workplace_roleplay.adapters import gemini_wire as wire
from workplace_roleplay.adapters.gemini_stream import Endpoint, GeminiStreamer, VertexToken
from workplace_roleplay.ports.model import ChatMessage, GenerationRequest, ModelTask

pytestmark = pytest.mark.integration

REPLY = "承知しました。まず状況を整理しましょう。"


def request(*, opening: bool = False) -> GenerationRequest:
    messages = (
        []
        if opening
        else [
            ChatMessage("user", "お疲れさまです。"),
            ChatMessage("model", "はい。"),
            ChatMessage("user", "相談です。"),
        ]
    )
    return GenerationRequest(
        task=ModelTask.CONVERSATION_TURN,
        system="あなたは職場の先輩です。",
        messages=messages,
        temperature=0.7,
        max_output_tokens=256,
    )


async def sdk_stream(client: genai.Client, model: str, req: GenerationRequest, *, think: bool) -> str:
    parts = []
    stream = await client.aio.models.generate_content_stream(
        model=model, contents=wire.contents(req), config=wire.config(req, think=think)
    )
    async for chunk in stream:
        parts.append(chunk.text or "")
    return "".join(parts)


async def thin_stream(streamer: GeminiStreamer, model: str, req: GenerationRequest, *, think: bool) -> str:
    parts = []
    async for chunk in streamer.stream(model, req, think=think):
        parts.append(chunk.text)
    await streamer.aclose()
    return "".join(parts)


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in ("model", "method", "version", "api_key", "project", "location", "bearer", "body")}


@pytest.mark.parametrize("opening", [False, True])
@pytest.mark.parametrize("think", [False, True])
async def test_gemini_api_requests_are_identical(fake_gemini: FakeGeminiControl, opening: bool, think: bool) -> None:
    fake_gemini.configure(text=REPLY, chunk_chars=4)
    options = types.HttpOptions(base_url=fake_gemini.url, retry_options=types.HttpRetryOptions(attempts=1))
    client = genai.Client(api_key="k-1", http_options=options)
    try:
        by_sdk = await sdk_stream(client, "gemini-2.5-flash", request(opening=opening), think=think)
    finally:
        await client.aio.aclose()
    streamer = GeminiStreamer(
        Endpoint.gemini_api(fake_gemini.url, ""), api_keys=["k-1"], vertex=None, connect_timeout_s=5, read_timeout_s=10
    )
    by_thin = await thin_stream(streamer, "gemini-2.5-flash", request(opening=opening), think=think)
    sdk, thin = fake_gemini.requests(method="streamGenerateContent")
    assert by_thin == by_sdk == REPLY
    assert comparable(thin) == comparable(sdk)


async def test_vertex_requests_are_identical(fake_gemini: FakeGeminiControl) -> None:
    from google.oauth2.credentials import Credentials

    fake_gemini.configure(text=REPLY, chunk_chars=4)
    token = Credentials("vertex-test-token")  # type: ignore[no-untyped-call]
    options = types.HttpOptions(base_url=fake_gemini.url, retry_options=types.HttpRetryOptions(attempts=1))
    client = genai.Client(
        vertexai=True, project="demo-vertex", location="asia-northeast1", credentials=token, http_options=options
    )
    try:
        by_sdk = await sdk_stream(client, "gemini-2.5-pro", request(), think=True)
    finally:
        await client.aio.aclose()
    endpoint = Endpoint.vertex(fake_gemini.url, "", project="demo-vertex", location="asia-northeast1")
    streamer = GeminiStreamer(endpoint, api_keys=[], vertex=VertexToken(token), connect_timeout_s=5, read_timeout_s=10)
    by_thin = await thin_stream(streamer, "gemini-2.5-pro", request(), think=True)
    sdk, thin = fake_gemini.requests(method="streamGenerateContent")
    assert by_thin == by_sdk == REPLY
    assert comparable(thin) == comparable(sdk)
    assert thin["bearer"] == "vertex-test-token"
    assert thin["version"] == "v1beta1"
