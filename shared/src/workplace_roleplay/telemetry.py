"""Process-wide Prometheus metrics recorded below the web layer (adapters, domain).

``prometheus_client`` is plain Python with no I/O at import, so every layer may record here.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CACHE_EVENTS = Counter(
    "cache_operations_total",
    "Cache operations by backend, operation and outcome (hit, miss, error, skipped).",
    ["backend", "op", "outcome"],
)
CACHE_UP = Gauge(
    "cache_up", "1 when the cache backend answered its last call, 0 when it is being bypassed.", ["backend"]
)
STORE_ERRORS = Counter(
    "store_errors_total", "Document-store calls that failed, by backend and operation.", ["backend", "op"]
)
SECURITY_EVENTS = Counter(
    "security_events_total",
    "Security events (refresh-token reuse, revoked token presented, ...) by event.",
    ["event"],
)
RATE_LIMIT_DECISIONS = Counter(
    "rate_limit_decisions_total",
    "Rate-limit decisions by backend (redis, memory, memory-fallback while Redis is down) and outcome.",
    ["backend", "outcome"],
)
ADMISSION_IN_FLIGHT = Gauge(
    "admission_in_flight", "Model-calling requests admitted and still running in this process, by service.", ["service"]
)
ADMISSION_REJECTED = Counter(
    "admission_rejected_total", "Model-calling requests answered 503 because the process was at capacity.", ["service"]
)

# --- language model (docs/architecture.md, Observability): latency, first token, tokens, errors, fallbacks, caches
_MODEL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60)
MODEL_LATENCY = Histogram(
    "model_call_duration_seconds",
    "Duration of one upstream model call (stream: to its last chunk), by model and call kind.",
    ["model", "call"],
    buckets=_MODEL_BUCKETS,
)
MODEL_TTFT = Histogram(
    "model_time_to_first_token_seconds",
    "Time from sending a streamed model call to its first text delta, by model.",
    ["model"],
    buckets=_MODEL_BUCKETS,
)
MODEL_TOKENS = Counter(
    "model_tokens_total", "Tokens reported by the model, by model and direction.", ["model", "direction"]
)
MODEL_ERRORS = Counter("model_errors_total", "Failed model calls by model and error code.", ["model", "code"])
MODEL_FALLBACKS = Counter(
    "model_fallbacks_total",
    "Fallbacks taken: to the other model, to the simple-response mode, to the standby credential.",
    ["task", "kind"],
)
MODEL_BREAKER_STATE = Gauge(
    "model_breaker_state", "Circuit breaker per model: 0 closed, 1 half-open, 2 open.", ["model"]
)
MODEL_CACHE_EVENTS = Counter(
    "model_cache_events_total", "ai_cache and tts_cache lookups by cache and outcome (hit, miss).", ["cache", "outcome"]
)
MODEL_SIMPLE_RESPONSES = Counter(
    "model_simple_responses_total", "Answers given by the simple-response mode, by task and reason.", ["task", "reason"]
)
TTS_CHARACTERS = Counter("tts_characters_total", "Characters sent to text-to-speech (cache misses only).", ["model"])


def record_tokens(model: str, input_tokens: int, output_tokens: int) -> None:
    """Add one call's token usage to the per-model counters."""
    if input_tokens:
        MODEL_TOKENS.labels(model=model, direction="input").inc(input_tokens)
    if output_tokens:
        MODEL_TOKENS.labels(model=model, direction="output").inc(output_tokens)


# --- conversations (docs/architecture.md, Observability: feature usage) ---
CONVERSATION_TURNS = Counter(
    "conversation_turns_total",
    "Turns of the shared turn pipeline by mode and outcome (complete, partial, failed, cancelled, replayed).",
    ["mode", "outcome"],
)
MODERATION_DECISIONS = Counter(
    "moderation_decisions_total",
    "Learner lines blocked (inappropriate_word, loop) or nudged (off_topic) by moderation, by mode and reason.",
    ["mode", "reason"],
)
CONVERSATION_REPORTS = Counter(
    "conversation_reports_total",
    "Summaries and feedback reports by kind and source (model, simple, cache).",
    ["kind", "source"],
)

# --- legacy-session migration (docs/migration.md) ---
LEGACY_MIGRATIONS = Counter(
    "legacy_sessions_migrated_total",
    "Legacy sessions handled by the migration, by result (migrated, nothing_to_migrate, repeat, not_found, "
    "invalid, failed).",
    ["result"],
)

# --- product (docs/architecture.md, Observability: product metrics; ports/product.py) ---
# Labels are bounded: mode, scenario category ("none" outside scenarios), scenario id, model, outcome.
PRODUCT_SESSIONS_STARTED = Counter(
    "product_sessions_started_total", "Conversations started, by mode and scenario category.", ["mode", "category"]
)
PRODUCT_SESSIONS_COMPLETED = Counter(
    "product_sessions_completed_total",
    "Conversations completed (their first fresh feedback report), by mode and scenario category.",
    ["mode", "category"],
)
PRODUCT_SESSION_TURNS = Histogram(
    "product_session_turns",
    "Learner turns of a conversation when it is completed, by mode.",
    ["mode"],
    buckets=(1, 2, 3, 5, 8, 13, 21, 34, 55),
)
PRODUCT_TURNS = Counter(
    "product_turns_total",
    "Turns answered to their end by mode, scenario category and who answered (model, simple).",
    ["mode", "category", "reply"],
)
PRODUCT_REPORTS_REQUESTED = Counter(
    "product_reports_requested_total", "Summaries and feedback reports requested, by mode and kind.", ["mode", "kind"]
)
PRODUCT_HINTS = Counter(
    "product_hints_used_total", "Hints shown on request, by mode and category.", ["mode", "category"]
)
PRODUCT_QUIZ_ANSWERS = Counter(
    "product_quiz_answers_total",
    "Quiz answers by mode, category and result (correct, wrong).",
    ["mode", "category", "result"],
)
PRODUCT_FORKS = Counter("product_forks_total", "Conversations forked (「この発言からやり直す」), by mode.", ["mode"])
PRODUCT_RATINGS = Counter(
    "product_ratings_total",
    "Learner ratings (up, down) of replies and reports, by mode, category, scenario and model.",
    ["mode", "category", "scenario", "model", "target", "value"],
)


def _category(category: str) -> str:
    return category or "none"


class PrometheusProductEvents:
    """``ports.product.ProductEvents`` on the process's Prometheus registry (no I/O)."""

    def session_started(self, *, mode: str, category: str) -> None:
        PRODUCT_SESSIONS_STARTED.labels(mode, _category(category)).inc()

    def session_completed(self, *, mode: str, category: str, turns: int) -> None:
        PRODUCT_SESSIONS_COMPLETED.labels(mode, _category(category)).inc()
        PRODUCT_SESSION_TURNS.labels(mode).observe(turns)

    def turn(self, *, mode: str, category: str, simple: bool) -> None:
        PRODUCT_TURNS.labels(mode, _category(category), "simple" if simple else "model").inc()

    def report_requested(self, *, mode: str, kind: str) -> None:
        PRODUCT_REPORTS_REQUESTED.labels(mode, kind).inc()

    def hint_used(self, *, mode: str, category: str) -> None:
        PRODUCT_HINTS.labels(mode, _category(category)).inc()

    def quiz_answered(self, *, mode: str, category: str, correct: bool) -> None:
        PRODUCT_QUIZ_ANSWERS.labels(mode, _category(category), "correct" if correct else "wrong").inc()

    def fork(self, *, mode: str) -> None:
        PRODUCT_FORKS.labels(mode).inc()

    def rating(self, *, mode: str, category: str, scenario: str, model: str, target: str, value: str) -> None:
        PRODUCT_RATINGS.labels(mode, _category(category), scenario or "none", model or "none", target, value).inc()


LEARNER_ERRORS = Counter(
    "learner_errors_total",
    "Errors a learner saw (an error response, or an SSE error event after the stream began), by service, route "
    "template and error code; the error rate per route is this over http_requests_total.",
    ["service", "route", "code"],
)
