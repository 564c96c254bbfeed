"""``ai_cache:{hash}``: deterministic structured model results, through the cache port.

Only temperature-0 structured generations are cacheable (graders, summaries, quizzes): the same
prompt to the same model gives the same answer, so a second call is a waste of quota. Conversation
turns are never cached, whatever their temperature: a cached counterpart line would repeat itself.
The key covers the model, the whole prompt, the generation parameters and the schema's version (a
hash of its JSON schema), so changing any of them misses.

Results that retell the learner (coaching cards, summaries, feedback reports with quoted evidence,
extracted memories) are not cached here either: this cache is plaintext and unscoped, so they would sit
in Redis unencrypted for days. Their callers cache them themselves, sealed and scoped to the learner
(``feedback.py``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict

from pydantic import BaseModel, ValidationError

from workplace_roleplay import telemetry
from workplace_roleplay.ports.cache import Cache
from workplace_roleplay.ports.model import (
    Completion,
    GenerationMode,
    GenerationRequest,
    M,
    ModelTask,
    Structured,
    Usage,
)

log = logging.getLogger("workplace_roleplay.ai_cache")

KEY_PREFIX = "ai_cache:"
# Bump to invalidate every cached result at once (e.g. after a prompt-format change).
FORMAT_VERSION = 1
LEARNER_DERIVED = frozenset(
    {ModelTask.TURN_ANALYSIS, ModelTask.SUMMARY, ModelTask.FEEDBACK_REPORT, ModelTask.MEMORY_EXTRACTION}
)
NEVER_CACHED = frozenset({ModelTask.OPENING, ModelTask.CONVERSATION_TURN, ModelTask.WATCH_LINE}) | LEARNER_DERIVED


def schema_version(schema: type[BaseModel]) -> str:
    """A short hash of the schema's JSON schema: any field change is a new version."""
    text = json.dumps(schema.model_json_schema(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_cacheable(request: GenerationRequest) -> bool:
    return request.task not in NEVER_CACHED and request.temperature == 0


def cache_key(model: str, request: GenerationRequest, schema: type[BaseModel]) -> str:
    material = {
        "v": FORMAT_VERSION,
        "model": model,
        "task": request.task.value,
        "system": request.system,
        "messages": [[m.role, m.speaker, m.text] for m in request.messages],
        "temperature": request.temperature,
        "max_output_tokens": request.max_output_tokens,
        "schema": f"{schema.__module__}.{schema.__qualname__}",
        "schema_version": schema_version(schema),
    }
    digest = hashlib.sha256(json.dumps(material, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return KEY_PREFIX + digest


class AiCache:
    """Reads and writes structured results; a cache outage is a miss, never an error."""

    def __init__(self, cache: Cache, *, ttl_s: int) -> None:
        self._cache = cache
        self._ttl_s = ttl_s

    async def get(self, key: str, schema: type[M]) -> Structured[M] | None:
        raw = await self._cache.get(key)
        if raw is None:
            telemetry.MODEL_CACHE_EVENTS.labels(cache="ai_cache", outcome="miss").inc()
            return None
        try:
            stored = json.loads(raw)
            value = schema.model_validate(stored["value"])
            c = stored["completion"]
            completion = Completion(
                text=c["text"],
                model=c["model"],
                mode=GenerationMode(c["mode"]),
                finish_reason=c["finish_reason"],
                usage=Usage(**c["usage"]),
            )
        except (ValueError, KeyError, TypeError, ValidationError):
            # An entry of an older shape: treat it as a miss and let the fresh result overwrite it.
            log.warning("ai_cache entry unreadable; ignoring it", extra={"cache_key": key})
            telemetry.MODEL_CACHE_EVENTS.labels(cache="ai_cache", outcome="miss").inc()
            return None
        telemetry.MODEL_CACHE_EVENTS.labels(cache="ai_cache", outcome="hit").inc()
        return Structured(value=value, completion=completion, cached=True)

    async def put(self, key: str, result: Structured[M]) -> None:
        completion = asdict(result.completion)
        completion["mode"] = result.completion.mode.value
        body = {"value": result.value.model_dump(mode="json"), "completion": completion}
        await self._cache.set(key, json.dumps(body, ensure_ascii=False).encode(), ttl=self._ttl_s)
