"""Long-term memory: durable facts about the learner, extracted after conversations and recalled by relevance.

Stored at ``users/{uid}/memories/{id}`` with salience, source and counterpart; the text is sealed (ALE).
Relevance is lexical and works offline: Japanese has no spaces, so lines are compared by their
character bigram and trigram sets (Dice coefficient), weighted with the fact's salience.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from workplace_roleplay.domain.conversation import Conversation, Message, Role
from workplace_roleplay.domain.sealing import PlainSealer, TextSealer
from workplace_roleplay.ports import Clock, DocumentStore
from workplace_roleplay.ports.model import (
    ChatMessage,
    GenerationMode,
    GenerationRequest,
    LanguageModel,
    ModelTask,
)

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


@dataclass(frozen=True, slots=True)
class Memory:
    id: str
    text: str
    kind: str
    salience: float
    counterpart: str
    conversation_id: str
    created_at: float


def _grams(text: str) -> set[str]:
    norm = re.sub(r"[\s、。！？!?,.「」『』()（）]+", "", unicodedata.normalize("NFKC", text).casefold())
    return {norm[i : i + n] for n in (2, 3) for i in range(len(norm) - n + 1)}


def similarity(a: str, b: str) -> float:
    """Dice coefficient of character 2- and 3-gram sets (0..1)."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    return 2 * len(ga & gb) / (len(ga) + len(gb))


def rank(memories: Sequence[Memory], query: str, *, counterpart: str = "", limit: int = 3) -> list[Memory]:
    """The memories most relevant to ``query``: lexical overlap first, salience and same counterpart next."""
    scored: list[tuple[float, Memory]] = []
    for memory in memories:
        overlap = similarity(query, memory.text)
        if overlap <= 0.0 and memory.salience < 0.8:
            continue
        score = overlap + 0.15 * memory.salience + (0.05 if memory.counterpart == counterpart else 0.0)
        scored.append((score, memory))
    scored.sort(key=lambda pair: pair[0], reverse=True)
    return [memory for _, memory in scored[:limit]]


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

    async def list_all(self, user_id: str) -> list[Memory]:
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
            )
            for row in rows
        ]

    async def delete(self, user_id: str, memory_id: str) -> bool:
        path = f"{self._collection(user_id)}/{memory_id}"
        if not memory_id.isalnum() or await self.store.get(path) is None:
            return False
        await self.store.delete(path)
        return True

    async def recall(self, user_id: str, query: str, *, counterpart: str, limit: int = 3) -> list[str]:
        """Texts of the memories worth putting into the next prompt."""
        return [m.text for m in rank(await self.list_all(user_id), query, counterpart=counterpart, limit=limit)]

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
        stored = 0
        for fact in facts:
            if any(similarity(fact.text, m.text) > 0.8 for m in existing):
                continue
            memory_id = "m" + secrets.token_hex(8)
            path = f"{self._collection(conv.user_id)}/{memory_id}"
            await self.store.set(
                path,
                {
                    "text": self.sealer.seal(fact.text, context=path),
                    "kind": fact.kind,
                    "salience": fact.salience,
                    "counterpart": counterpart,
                    "source": {"conversation_id": conv.id, "mode": conv.mode},
                    "created_at": self.clock.now(),
                },
            )
            existing.append(Memory(memory_id, fact.text, fact.kind, fact.salience, counterpart, conv.id, 0.0))
            stored += 1
        await self._prune(conv.user_id, existing)
        return stored

    async def _prune(self, user_id: str, memories: Sequence[Memory]) -> None:
        if len(memories) <= MAX_MEMORIES:
            return
        for memory in sorted(memories, key=lambda m: (m.salience, m.created_at))[: len(memories) - MAX_MEMORIES]:
            await self.store.delete(f"{self._collection(user_id)}/{memory.id}")
