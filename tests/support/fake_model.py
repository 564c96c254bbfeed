"""A scripted in-process fake of our ``LanguageModel`` port (unit tests of the domain and web layer).

It records every request, streams scripted replies in small chunks and answers structured calls from
scripted dicts validated against the caller's schema, so prompts can be asserted on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

from workplace_roleplay.errors import ModelUnavailable
from workplace_roleplay.ports.model import (
    Completion,
    GenerationMode,
    GenerationRequest,
    M,
    ModelTask,
    StreamEvent,
    Structured,
    TextDelta,
    Usage,
)


class FakeLanguageModel:
    def __init__(self, *, mode: GenerationMode = GenerationMode.MODEL, model: str = "fake-flash") -> None:
        self.mode = mode
        self.model = model
        self.requests: list[GenerationRequest] = []
        self.replies: list[str] = []
        self.structured: dict[ModelTask, list[dict[str, Any]]] = {}
        self.texts: dict[ModelTask, list[str]] = {}
        self.fail_after_chunks: int | None = None  # raise ModelUnavailable after this many deltas
        self.chunk_delay_s = 0.0
        self.closed_streams = 0
        # Embeddings: None (the default) answers "not available", like the simple mode or an outage.
        self.embedder: Callable[[str], list[float]] | None = None
        self.embed_calls: list[tuple[str, list[str]]] = []  # (task, texts)

    def tasks(self, task: ModelTask) -> list[GenerationRequest]:
        return [r for r in self.requests if r.task is task]

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[StreamEvent, None]:
        self.requests.append(request)
        text = self.replies.pop(0) if self.replies else "そうなんですね。それで、どうでしたか？"
        chunks = [text[i : i + 3] for i in range(0, len(text), 3)]
        try:
            for index, chunk in enumerate(chunks):
                if self.fail_after_chunks is not None and index >= self.fail_after_chunks:
                    raise ModelUnavailable("scripted failure")
                if self.chunk_delay_s:
                    await asyncio.sleep(self.chunk_delay_s)
                yield TextDelta(chunk)
            yield Completion(text=text, model=self.model, mode=self.mode, usage=Usage(12, len(text)))
        finally:
            self.closed_streams += 1

    async def generate(self, request: GenerationRequest) -> Completion:
        self.requests.append(request)
        queue = self.texts.get(request.task) or []
        text = queue.pop(0) if queue else f"({request.task.value})"
        return Completion(text=text, model=self.model, mode=self.mode)

    async def generate_structured(self, request: GenerationRequest, schema: type[M]) -> Structured[M]:
        self.requests.append(request)
        queue = self.structured.get(request.task) or []
        if not queue:
            raise ModelUnavailable(f"no scripted {request.task.value} result")
        value = schema.model_validate(queue.pop(0))
        return Structured(value=value, completion=Completion(text="{}", model=self.model, mode=self.mode))

    async def close(self) -> None:
        return None

    async def embed(self, texts: Sequence[str], *, task: str) -> list[list[float]] | None:
        self.embed_calls.append((task, list(texts)))
        if self.embedder is None:
            return None
        return [self.embedder(text) for text in texts]
