"""How relevant a stored memory is to the learner's current line: embeddings when available, else lexical.

The lexical score works offline: Japanese has no spaces, so lines are compared by their character
bigram and trigram sets (Dice coefficient). When the model port can embed, cosine similarity of the
query's and the memory's vectors is blended with that lexical score (meaning beats wording, but an
exact shared phrase still counts). Salience and a same-counterpart bonus break near-ties either way.
"""

from __future__ import annotations

import base64
import math
import re
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

SEMANTIC_WEIGHT = 0.6  # share of the cosine similarity in a blended relevance; the rest is lexical
# Below this cosine (and with no shared n-gram) a memory is unrelated. Unverified against the real
# embedding model here (no network); gemini-embedding-001 puts unrelated sentences well above 0.
MIN_SEMANTIC = 0.5
SALIENT = 0.8  # memories at least this salient are always candidates, relevant or not


@dataclass(frozen=True, slots=True)
class Memory:
    id: str
    text: str
    kind: str
    salience: float
    counterpart: str
    conversation_id: str
    created_at: float
    embedding: tuple[float, ...] | None = None  # cached at extraction time; None until embedded


def _grams(text: str) -> set[str]:
    norm = re.sub(r"[\s、。！？!?,.「」『』()（）]+", "", unicodedata.normalize("NFKC", text).casefold())
    return {norm[i : i + n] for n in (2, 3) for i in range(len(norm) - n + 1)}


def similarity(a: str, b: str) -> float:
    """Dice coefficient of character 2- and 3-gram sets (0..1)."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    return 2 * len(ga & gb) / (len(ga) + len(gb))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity (-1..1); 0 for vectors of different length (another model) or zero length."""
    if len(a) != len(b) or not a:
        return 0.0
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


def pack_vector(vector: Sequence[float]) -> str:
    """A vector as base64 of little-endian float32 (a quarter of the size of a JSON list of floats)."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def unpack_vector(packed: str) -> tuple[float, ...]:
    raw = base64.b64decode(packed, validate=True)
    if len(raw) % 4:
        raise ValueError("packed vector is not a whole number of float32 values")
    return struct.unpack(f"<{len(raw) // 4}f", raw)


def rank(
    memories: Sequence[Memory],
    query: str,
    *,
    counterpart: str = "",
    limit: int = 3,
    query_vector: Sequence[float] | None = None,
) -> list[Memory]:
    """The memories most relevant to ``query``, best first.

    With ``query_vector`` (the query's embedding) a memory's relevance blends the cosine similarity of
    its cached embedding with the lexical score; without it, or for a memory without an embedding of
    the same size, relevance is lexical alone. Salience and the same counterpart add small bonuses.
    """
    scored: list[tuple[float, Memory]] = []
    for memory in memories:
        lexical = similarity(query, memory.text)
        semantic: float | None = None
        if query_vector is not None and memory.embedding is not None and len(memory.embedding) == len(query_vector):
            semantic = cosine(query_vector, memory.embedding)
        related = lexical > 0.0 or (semantic is not None and semantic >= MIN_SEMANTIC)
        if not related and memory.salience < SALIENT:
            continue
        relevance = (
            lexical if semantic is None else SEMANTIC_WEIGHT * max(0.0, semantic) + (1 - SEMANTIC_WEIGHT) * lexical
        )
        score = relevance + 0.15 * memory.salience + (0.05 if memory.counterpart == counterpart else 0.0)
        scored.append((score, memory))
    scored.sort(key=lambda pair: pair[0], reverse=True)
    return [memory for _, memory in scored[:limit]]
