"""Memory relevance with embeddings through the model port, and the lexical fallback without them."""

from __future__ import annotations

import os

from tests.support.clock import ManualClock
from tests.support.fake_model import FakeLanguageModel
from tests.support.fakes import FakeStore
from workplace_roleplay.adapters.field_crypto import AesGcmFieldCipher
from workplace_roleplay.domain.conversation.records import Conversation, Message, Role
from workplace_roleplay.domain.identity.encrypted_fields import CipherSealer
from workplace_roleplay.domain.identity.key_rotation import reencrypt_everything
from workplace_roleplay.domain.memory.book import MemoryBook
from workplace_roleplay.domain.memory.relevance import Memory, cosine, pack_vector, rank, unpack_vector
from workplace_roleplay.ports.model import EMBED_DOCUMENT, EMBED_QUERY, ModelTask

# Three texts with no character n-gram in common with the query (their lexical scores tie at 0),
# and hand-made vectors that say which one is about the same thing.
QUERY = "週末どうだった？"
CAMPING = "学習者はキャンプが趣味"
MEETINGS = "学習者は会議で発言するのが苦手"
FOOD = "学習者は辛い料理が好き"
VECTORS = {
    QUERY: [1.0, 0.2, 0.0],
    CAMPING: [0.9, 0.3, 0.1],
    MEETINGS: [0.0, 1.0, 0.3],
    FOOD: [0.4, 0.0, 0.9],
}


def _embedder(text: str) -> list[float]:
    return VECTORS[text]


def _memory(memory_id: str, text: str, *, embedding: list[float] | None = None, created_at: float = 0.0) -> Memory:
    vector = tuple(embedding) if embedding is not None else None
    return Memory(memory_id, text, "fact", 0.9, "chat:x", "c1", created_at, vector)


def test_embedding_order_decides_when_lexical_scores_tie() -> None:
    memories = [_memory(m, t, embedding=VECTORS[t]) for m, t in (("a", MEETINGS), ("b", FOOD), ("c", CAMPING))]
    by_meaning = rank(memories, QUERY, counterpart="chat:x", limit=3, query_vector=VECTORS[QUERY])
    assert [m.id for m in by_meaning] == ["c", "b", "a"]
    # Without a query vector the tie stays in the given order (newest first, as stored).
    assert [m.id for m in rank(memories, QUERY, counterpart="chat:x", limit=3)] == ["a", "b", "c"]


def test_a_shared_phrase_still_counts_next_to_meaning() -> None:
    query_vector = [1.0, 0.0, 0.0]
    same_words = _memory("w", "学習者は週末どうだったか聞かれると困る", embedding=[0.6, 0.8, 0.0])
    same_meaning = _memory("m", CAMPING, embedding=[0.6, 0.8, 0.0])
    ranked = rank([same_meaning, same_words], QUERY, limit=2, query_vector=query_vector)
    assert [m.id for m in ranked] == ["w", "m"]


def test_unrelated_low_salience_memories_are_left_out_and_other_sizes_score_lexically() -> None:
    unrelated = Memory("u", FOOD, "fact", 0.3, "", "c1", 0.0, (0.0, 0.0, 1.0))
    assert rank([unrelated], QUERY, query_vector=[1.0, 0.0, 0.0]) == []
    related = Memory("r", CAMPING, "fact", 0.3, "", "c1", 0.0, (1.0, 0.0, 0.0))
    assert rank([related], QUERY, query_vector=[1.0, 0.0, 0.0]) == [related]
    other_model = Memory("o", CAMPING, "fact", 0.3, "", "c1", 0.0, (1.0, 0.0))
    assert rank([other_model], QUERY, query_vector=[1.0, 0.0, 0.0]) == []  # no lexical overlap either


def test_vectors_pack_compactly_and_cosine_is_scale_free() -> None:
    vector = [0.25, -1.5, 3.0]
    assert unpack_vector(pack_vector(vector)) == (0.25, -1.5, 3.0)
    assert abs(cosine([1.0, 2.0], [2.0, 4.0]) - 1.0) < 1e-9
    assert cosine([1.0, 0.0], [1.0, 0.0, 0.0]) == 0.0


def _sealer(key: bytes, kid: str = "k1") -> CipherSealer:
    return CipherSealer(AesGcmFieldCipher(primary_kid=kid, keys={kid: key}))


async def _book_with(facts: list[str], *, embed: bool, key: bytes) -> tuple[MemoryBook, FakeLanguageModel, FakeStore]:
    store, model = FakeStore(), FakeLanguageModel()
    model.embedder = _embedder if embed else None
    book = MemoryBook(store, model, ManualClock(), _sealer(key))
    model.structured[ModelTask.MEMORY_EXTRACTION] = [
        {"facts": [{"text": text, "kind": "fact", "salience": 0.9} for text in facts]}
    ]
    conv = Conversation(id="c1", user_id="u1", mode="chat", settings={}, created_at=1.0, updated_at=1.0)
    learner = Message(id="l1", role=Role.LEARNER, text="いろいろ話しました", created_at=1.0, turn_id="t1")
    await book.extract(conv, [learner], counterpart="chat:x")
    return book, model, store


async def test_extraction_caches_sealed_embeddings_and_recall_embeds_only_the_query() -> None:
    key = os.urandom(32)
    book, model, store = await _book_with([MEETINGS, FOOD, CAMPING], embed=True, key=key)
    assert model.embed_calls == [(EMBED_DOCUMENT, [MEETINGS, FOOD, CAMPING])]
    rows = await store.query("users/u1/memories")
    assert len(rows) == 3
    for row in rows:
        assert set(row.data["embedding"]) == {"kid", "ct"}  # sealed like the text: vectors leak meaning
    model.embed_calls.clear()
    assert await book.recall("u1", QUERY, counterpart="chat:x", limit=2) == [CAMPING, FOOD]
    assert model.embed_calls == [(EMBED_QUERY, [QUERY])]


async def test_without_embeddings_recall_is_lexical_and_later_recalls_backfill() -> None:
    key = os.urandom(32)
    book, model, store = await _book_with([MEETINGS, CAMPING], embed=False, key=key)
    assert all("embedding" not in row.data for row in await store.query("users/u1/memories"))
    lexical = await book.recall("u1", "会議で発言するのが不安です", counterpart="chat:x", limit=1)
    assert lexical == [MEETINGS]
    model.embedder = _embedder  # the embedding model is back
    model.embed_calls.clear()
    assert await book.recall("u1", QUERY, counterpart="chat:x", limit=1) == [CAMPING]
    (query_call, backfill) = model.embed_calls
    assert query_call == (EMBED_QUERY, [QUERY])
    assert backfill[0] == EMBED_DOCUMENT
    assert sorted(backfill[1]) == sorted([MEETINGS, CAMPING])
    assert all("embedding" in row.data for row in await store.query("users/u1/memories"))
    model.embed_calls.clear()
    await book.recall("u1", QUERY, counterpart="chat:x", limit=1)
    assert model.embed_calls == [(EMBED_QUERY, [QUERY])], "backfilled vectors are cached"


async def test_an_unreadable_cached_vector_is_computed_again() -> None:
    key = os.urandom(32)
    book, model, store = await _book_with([CAMPING], embed=True, key=key)
    (row,) = await store.query("users/u1/memories")
    await store.update(row.path, {"embedding": "not sealed, not base64!"})
    model.embed_calls.clear()
    assert await book.recall("u1", QUERY, counterpart="chat:x", limit=1) == [CAMPING]
    assert model.embed_calls == [(EMBED_QUERY, [QUERY]), (EMBED_DOCUMENT, [CAMPING])]


async def test_key_rotation_moves_the_cached_embedding_too() -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    _, _, store = await _book_with([CAMPING], embed=True, key=old_key)
    await store.set("users/u1", {"user_id": "u1", "kind": "anonymous"})
    ring = AesGcmFieldCipher(primary_kid="k2", keys={"k2": new_key, "k1": old_key})
    report = await reencrypt_everything(store, ring)
    assert report.failed == []
    model = FakeLanguageModel()
    model.embedder = _embedder
    book = MemoryBook(store, model, ManualClock(), _sealer(new_key, "k2"))
    (memory,) = await book.list_all("u1", with_embeddings=True)
    assert memory.embedding is not None
    assert [round(v, 5) for v in memory.embedding] == VECTORS[CAMPING]
