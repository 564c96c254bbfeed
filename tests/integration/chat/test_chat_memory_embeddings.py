"""Memory recall through embeddings over real HTTP (fake Gemini, Firestore emulator, real Redis).

The fake's embedding is built from character 1- and 2-grams, while the lexical score compares 2- and
3-grams. Two memories that share no 2-gram with the learner's line tie lexically; the one sharing
more single characters is closer by embedding. Only one memory fits the prompt, so which one is
injected shows which path ranked them.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.integration.chat.conftest import StartServer
from tests.integration.chat.test_chat_api import open_chat, say, system_prompts
from tests.support.fake_gemini import FakeGeminiControl
from tools.fake_gemini import fake_embedding
from workplace_roleplay.domain.memory.relevance import cosine, similarity
from workplace_roleplay.ports.model import EMBED_DOCUMENT, EMBED_QUERY

pytestmark = pytest.mark.integration

QUERY = "週末は山に登りました"
CLOSE = "学習者は登山と山小屋が好き"  # shares 山, 登, は with the query, but no 2-gram
FAR = "学習者は辛い料理が好き"  # shares only は


def test_the_memories_tie_lexically_and_differ_by_the_fake_embedding() -> None:
    assert similarity(QUERY, CLOSE) == similarity(QUERY, FAR) == 0.0
    query = fake_embedding(QUERY, 768)
    assert cosine(query, fake_embedding(CLOSE, 768)) > cosine(query, fake_embedding(FAR, 768)) + 0.1


async def _remember_and_ask(start_server: StartServer, fake_gemini: FakeGeminiControl) -> str:
    """Store CLOSE then FAR (FAR is newer: first on a lexical tie), then ask QUERY; the prompt sent."""
    server = await start_server(MEMORY_EVERY_TURNS=1, MEMORIES_IN_PROMPT=1)
    facts = {"facts": [{"text": text, "kind": "preference", "salience": 0.9} for text in (CLOSE, FAR)]}
    # The second conversation's turn also extracts (in the background, racing the reads below): it finds
    # nothing new, so the only embeddings are the two memories' and the recall's query.
    fake_gemini.script(
        "memory-model",
        {"kind": "ok", "text": json.dumps(facts, ensure_ascii=False)},
        {"kind": "ok", "text": json.dumps({"facts": []})},
    )
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        first = await open_chat(client, headers, topic="hobby")
        await say(client, headers, first, "最近いろいろ始めました", "m1")
        memories: list[dict[str, Any]] = []
        for _ in range(200):
            memories = (await client.get("/api/v2/chat/memories", headers=headers)).json()["items"]
            if len(memories) == 2:
                break
            await asyncio.sleep(0.05)
        assert sorted(m["text"] for m in memories) == sorted([CLOSE, FAR])
        other = await open_chat(client, headers, topic="hobby")
        status, _ = await say(client, headers, other, QUERY, "m2")
        assert status == 200
    return system_prompts(fake_gemini)[-1]


def _embedding_calls(fake_gemini: FakeGeminiControl) -> list[tuple[str, list[str]]]:
    calls = []
    for row in fake_gemini.requests(method="batchEmbedContents"):
        assert row["model"] == "embed-model"
        requests = row["body"]["requests"]
        tasks = {r["taskType"] for r in requests}
        assert len(tasks) == 1
        calls.append((tasks.pop(), [r["content"]["parts"][0]["text"] for r in requests]))
    return calls


async def test_recall_follows_the_embedding_order(start_server: StartServer, fake_gemini: FakeGeminiControl) -> None:
    prompt = await _remember_and_ask(start_server, fake_gemini)
    assert CLOSE in prompt
    assert FAR not in prompt
    calls = _embedding_calls(fake_gemini)
    # Embedded once at extraction (cached, sealed, on the memory documents); the recall embeds the line only.
    # The second turn's own memory extraction runs after its response and may embed its facts before this
    # reads the calls, so the recall is found as the query call, not as the last call.
    assert calls.count((EMBED_DOCUMENT, [CLOSE, FAR])) == 1
    assert [call for call in calls if call[0] == EMBED_QUERY] == [(EMBED_QUERY, [QUERY])]


async def test_without_embeddings_recall_falls_back_to_the_lexical_order(
    start_server: StartServer, fake_gemini: FakeGeminiControl
) -> None:
    fake_gemini.script("embed-model", {"kind": "status", "status": 503, "times": -1})
    prompt = await _remember_and_ask(start_server, fake_gemini)
    assert FAR in prompt  # lexical tie: the newest memory first
    assert CLOSE not in prompt
    # The embedding model was asked (and answered 503) at extraction and at recall; the turn went on.
    calls = _embedding_calls(fake_gemini)
    assert (EMBED_DOCUMENT, [CLOSE, FAR]) in calls
    assert calls[-1] == (EMBED_QUERY, [QUERY])
