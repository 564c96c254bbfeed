"""Long-term memory: durable facts about the learner, extracted after conversations and recalled by relevance.

Stored at ``users/{uid}/memories/{id}`` with salience, source and counterpart; the text is sealed (ALE).
Each memory's embedding is computed once, when it is extracted, and cached on the document, sealed
too (vectors can be inverted into approximate text). Recall embeds only the learner's current line
and blends cosine similarity with a lexical score (``memory_relevance``); when the model port has no
embeddings (simple mode, outage) relevance is lexical alone. Memories stored without an embedding,
or with one of another size, are embedded on the next recall that has a query vector.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, Field

from workplace_roleplay.domain.conversation.records import Conversation, Message, Role
from workplace_roleplay.domain.memory.relevance import Memory, pack_vector, rank, similarity, unpack_vector
from workplace_roleplay.domain.sealing import PlainSealer, TextSealer
from workplace_roleplay.errors import AppError, NotFound
from workplace_roleplay.ports import Clock, DocumentStore, JsonValue
from workplace_roleplay.ports.model import (
    EMBED_DOCUMENT,
    EMBED_QUERY,
    ChatMessage,
    GenerationMode,
    GenerationRequest,
    LanguageModel,
    ModelTask,
)

__all__ = ["ExtractedMemories", "Memory", "MemoryBook", "MemoryFact", "rank", "rule_based_facts", "similarity"]

log = logging.getLogger("workplace_roleplay.memory")

Kind = Literal["preference", "promise", "difficulty", "fact"]
MAX_MEMORIES = 200  # per learner; the least salient go first


class MemoryFact(BaseModel):
    text: str = Field(max_length=120, description="学習者についての事実（1文、第三者視点）")
    kind: Kind
    salience: float = Field(ge=0.0, le=1.0, description="今後の会話での重要度")


class ExtractedMemories(BaseModel):
    facts: list[MemoryFact] = Field(default_factory=list, max_length=5)


EXTRACTION_SYSTEM = """\
以下は職場コミュニケーション練習の会話です。学習者（user）について、次回以降の会話で役立つ
長く続く事実だけを最大5件抜き出してください: 好み(preference)、約束や予定(promise)、
苦手なこと(difficulty)、その他の事実(fact)。一時的な話題・会話相手(model)についての情報・推測は含めない。
各事実は「学習者は〜」で始まる1文、salience は 0〜1。JSONのみを返す。"""

_CUES: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("difficulty", re.compile(r"苦手|難し|緊張|悩ん|困って|不安")),
    ("promise", re.compile(r"つもり|予定|約束|今度|来週|明日")),
    ("preference", re.compile(r"好き|ハマ|趣味|よく行|はまって")),
)


def rule_based_facts(messages: Sequence[Message]) -> list[MemoryFact]:
    """Offline extraction (simple-response mode): learner lines that state a liking, plan or difficulty."""
    facts: list[MemoryFact] = []
    for message in messages:
        if message.role is not Role.LEARNER:
            continue
        for kind, cue in _CUES:
            if cue.search(message.text):
                line = message.text.strip().replace("\n", " ")[:100]
                facts.append(MemoryFact(text=f"学習者の発言:「{line}」", kind=kind, salience=0.5))
                break
    return facts[-5:]


class MemoryBook:
    """The learner's long-term memories: extraction, storage, recall, listing and deletion."""

    def __init__(
        self, store: DocumentStore, model: LanguageModel, clock: Clock, sealer: TextSealer | None = None
    ) -> None:
        self.store = store
        self.model = model
        self.clock = clock
        self.sealer: TextSealer = sealer or PlainSealer()

    def _collection(self, user_id: str) -> str:
        return f"users/{user_id}/memories"

    async def list_all(self, user_id: str, *, with_embeddings: bool = False) -> list[Memory]:
        """The learner's memories, newest first (their cached embeddings opened only when asked for)."""
        rows = await self.store.query(self._collection(user_id), order_by="created_at", descending=True)
        return [
            Memory(
                id=row.id,
                text=self.sealer.open(row.data.get("text", ""), context=row.path),
                kind=str(row.data.get("kind", "fact")),
                salience=float(row.data.get("salience", 0.5)),
                counterpart=str(row.data.get("counterpart", "")),
                conversation_id=str((row.data.get("source") or {}).get("conversation_id", "")),
                created_at=float(row.data.get("created_at", 0.0)),
                embedding=self._open_embedding(row.data.get("embedding"), row.path) if with_embeddings else None,
            )
            for row in rows
        ]

    def _seal_embedding(self, vector: Sequence[float], path: str) -> JsonValue:
        return self.sealer.seal(pack_vector(vector), context=f"{path}#embedding")

    def _open_embedding(self, value: JsonValue, path: str) -> tuple[float, ...] | None:
        if value is None:
            return None
        try:
            return unpack_vector(self.sealer.open(value, context=f"{path}#embedding"))
        except (AppError, ValueError) as exc:
            # A cache, not data: an unreadable vector is computed again on the next recall.
            log.warning("memory embedding unreadable", extra={"error": type(exc).__name__})
            return None

    async def delete(self, user_id: str, memory_id: str) -> bool:
        path = f"{self._collection(user_id)}/{memory_id}"
        if not memory_id.isalnum() or await self.store.get(path) is None:
            return False
        await self.store.delete(path)
        return True

    async def recall(self, user_id: str, query: str, *, counterpart: str, limit: int = 3) -> list[str]:
        """Texts of the memories worth putting into the next prompt."""
        memories = await self.list_all(user_id, with_embeddings=True)
        if not memories or limit <= 0:
            return []
        vectors = await self.model.embed([query], task=EMBED_QUERY)
        query_vector = vectors[0] if vectors else None
        if query_vector is not None:
            memories = await self._embedded(user_id, memories, size=len(query_vector))
            if any(m.embedding is None for m in memories):
                query_vector = None  # one scale for every memory: lexical alone this time
        ranked = rank(memories, query, counterpart=counterpart, limit=limit, query_vector=query_vector)
        return [m.text for m in ranked]

    async def _embedded(self, user_id: str, memories: list[Memory], *, size: int) -> list[Memory]:
        """``memories`` with every embedding present and of ``size`` (missing ones computed and cached)."""
        missing = [m for m in memories if m.embedding is None or len(m.embedding) != size]
        if not missing:
            return memories
        vectors = await self.model.embed([m.text for m in missing], task=EMBED_DOCUMENT)
        if vectors is None:
            return memories
        fresh: dict[str, tuple[float, ...]] = {}
        for memory, vector in zip(missing, vectors, strict=True):
            path = f"{self._collection(user_id)}/{memory.id}"
            try:
                await self.store.update(path, {"embedding": self._seal_embedding(vector, path)})
            except NotFound:
                continue  # deleted meanwhile
            fresh[memory.id] = tuple(vector)
        gone = {m.id for m in missing} - fresh.keys()
        return [replace(m, embedding=fresh[m.id]) if m.id in fresh else m for m in memories if m.id not in gone]

    async def extract(self, conv: Conversation, messages: Sequence[Message], *, counterpart: str) -> int:
        """Extract durable facts from a conversation and store the new ones; returns how many were stored."""
        transcript = [
            ChatMessage(role="user" if m.role is Role.LEARNER else "model", text=m.text) for m in messages if m.text
        ]
        if not transcript:
            return 0
        result = await self.model.generate_structured(
            GenerationRequest(
                task=ModelTask.MEMORY_EXTRACTION,
                system=EXTRACTION_SYSTEM,
                messages=transcript,
                temperature=0.0,
                hints={"mode": conv.mode},
                user_id=conv.user_id,
            ),
            ExtractedMemories,
        )
        facts = result.value.facts
        if result.completion.mode is GenerationMode.SIMPLE:
            facts = rule_based_facts(messages)
        existing = await self.list_all(conv.user_id)
        new_facts: list[MemoryFact] = []
        known = [m.text for m in existing]
        for fact in facts:
            if not any(similarity(fact.text, text) > 0.8 for text in known):
                new_facts.append(fact)
                known.append(fact.text)
        # Embedded once here, so a recall only embeds the learner's line (None: computed on a later recall).
        vectors = await self.model.embed([f.text for f in new_facts], task=EMBED_DOCUMENT) if new_facts else None
        stored = 0
        for index, fact in enumerate(new_facts):
            memory_id = "m" + secrets.token_hex(8)
            path = f"{self._collection(conv.user_id)}/{memory_id}"
            data: dict[str, JsonValue] = {
                "text": self.sealer.seal(fact.text, context=path),
                "kind": fact.kind,
                "salience": fact.salience,
                "counterpart": counterpart,
                "source": {"conversation_id": conv.id, "mode": conv.mode},
                "created_at": self.clock.now(),
            }
            if vectors is not None:
                data["embedding"] = self._seal_embedding(vectors[index], path)
            await self.store.set(path, data)
            existing.append(Memory(memory_id, fact.text, fact.kind, fact.salience, counterpart, conv.id, 0.0))
            stored += 1
        await self._prune(conv.user_id, existing)
        return stored

    async def _prune(self, user_id: str, memories: Sequence[Memory]) -> None:
        if len(memories) <= MAX_MEMORIES:
            return
        for memory in sorted(memories, key=lambda m: (m.salience, m.created_at))[: len(memories) - MAX_MEMORIES]:
            await self.store.delete(f"{self._collection(user_id)}/{memory.id}")
