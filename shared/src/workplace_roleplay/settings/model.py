"""Language-model settings (Gemini access, routing, timeouts, resilience, caches, TTS)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings

from workplace_roleplay.errors import ConfigurationError
from workplace_roleplay.settings.base import Environment

# Japanese voices of Gemini's TTS model chosen per character (and optionally ``character:emotion``).
DEFAULT_TTS_VOICES: dict[str, str] = {
    "default": "Kore",
    "partner": "Kore",
    "taro": "Puck",
    "hanako": "Aoede",
    "taro:angry": "Fenrir",
    "hanako:happy": "Leda",
}


class ModelSettings(BaseSettings):
    """How services reach the language model, and what they do when it is busy or gone."""

    GEMINI_API_KEY: SecretStr | None = Field(
        None, description="Gemini Developer API key. Unset (and no Vertex): the simple-response mode."
    )
    GEMINI_API_KEY_FALLBACK: SecretStr | None = Field(
        None,
        description="Standby key, used only when the primary key is rejected (401/403), never for quota.",
    )
    GEMINI_BASE_URL: str = Field("", description="Override of the Gemini endpoint (fake server, proxies).")
    GEMINI_API_VERSION: str = Field("", description="API version path segment (v1, v1beta); SDK default.")
    GEMINI_USE_VERTEX: bool = Field(
        False, description="Use Vertex AI (project/location, runtime service account) instead of a key."
    )
    GOOGLE_CLOUD_LOCATION: str = Field("asia-northeast1", description="Vertex AI region.")
    GEMINI_VERTEX_ACCESS_TOKEN: SecretStr | None = Field(
        None,
        description=(
            "Local/test only: a fixed OAuth access token for Vertex AI mode (a fake or emulator endpoint), so no "
            "Application Default Credentials or metadata server are needed. Refused when ENV is dev/staging/prod."
        ),
    )

    MODEL_FLASH: str = Field("gemini-2.5-flash", description="Flash-class model (turns, watch lines).")
    MODEL_PRO: str = Field("gemini-2.5-pro", description="Pro-class model (reports, summaries, quizzes).")
    MODEL_TASK_OVERRIDES: dict[str, str] = Field(
        default_factory=dict,
        description=(
            'Per-task override, JSON: {"feedback_report": "flash"} picks a class, any other value is a '
            "model name. Tasks: opening, conversation_turn, watch_line, turn_analysis, feedback_report, "
            "summary, quiz, memory_extraction."
        ),
    )
    MODEL_EMBEDDING: str = Field(
        "gemini-embedding-001",
        description="Embedding model (memory relevance); empty: no embeddings, the lexical score alone.",
    )
    MODEL_EMBEDDING_DIMENSIONS: int = Field(
        768, ge=8, le=3072, description="Length of the embedding vectors requested (outputDimensionality)."
    )
    MODEL_EMBEDDING_TIMEOUT_S: float = Field(
        3.0, gt=0, le=60, description="Longest wait for an embedding call (then the lexical score alone)."
    )
    MODEL_FAST_TURNS: bool = Field(
        True, description="Conversation lines on the Flash model skip thinking (thinking_budget=0): faster first token."
    )
    MODEL_FORCE_SIMPLE: bool = Field(
        False, description="Ops switch: answer everything in the simple-response mode (簡易応答モード)."
    )

    MODEL_CONNECT_TIMEOUT_S: float = Field(5.0, gt=0, le=60, description="TCP/TLS connect timeout.")
    MODEL_FIRST_TOKEN_TIMEOUT_S: float = Field(
        10.0, gt=0, le=300, description="Longest wait for the first chunk of a reply (then the other model)."
    )
    MODEL_TOTAL_TIMEOUT_S: float = Field(
        60.0, gt=0, le=600, description="Longest a whole model call may take (all chunks)."
    )
    MODEL_RETRY_ATTEMPTS: int = Field(
        2, ge=1, le=6, description="Attempts per model on 429/5xx before the other model (timeouts: 1)."
    )
    MODEL_RETRY_BASE_DELAY_S: float = Field(0.5, ge=0, le=30, description="First backoff delay.")
    MODEL_RETRY_MAX_DELAY_S: float = Field(
        4.0, ge=0, le=60, description="Longest single backoff (Retry-After above it: skip to fallback)."
    )
    MODEL_RETRY_BUDGET_S: float = Field(
        20.0, gt=0, le=300, description="Total time spent waiting in backoffs for one call."
    )
    MODEL_BREAKER_FAILURES: int = Field(
        5, ge=1, le=100, description="Consecutive failures that open a model's circuit breaker."
    )
    MODEL_BREAKER_COOLDOWN_S: float = Field(
        30.0, gt=0, le=3600, description="How long an open breaker waits before one probe call."
    )

    AI_CACHE_TTL_S: int = Field(
        7 * 24 * 3600, ge=1, description="TTL of ai_cache:{hash} (deterministic structured results)."
    )

    TTS_ENABLED: bool = Field(False, description="Text-to-speech endpoint (off by default: cost).")
    TTS_MODEL: str = Field("gemini-2.5-flash-preview-tts", description="Gemini TTS model.")
    TTS_VOICES: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TTS_VOICES),
        description='Voice per character or "character:emotion", JSON; "default" is the fallback.',
    )
    TTS_DAILY_CHARS_PER_USER: int = Field(
        3000, ge=0, description="Characters each user may synthesize per day (Asia/Tokyo day)."
    )
    TTS_MAX_CHARS: int = Field(400, ge=1, le=5000, description="Longest text of one TTS request.")
    TTS_CACHE_TTL_S: int = Field(30 * 24 * 3600, ge=1, description="TTL of tts_cache:{text_hash}.")

    @model_validator(mode="after")
    def _check_vertex_token(self) -> ModelSettings:
        env = getattr(self, "ENV", Environment.LOCAL)
        # The cloud authenticates as the runtime service account; a pasted token would expire within the hour.
        if self.GEMINI_VERTEX_ACCESS_TOKEN is not None and Environment(env).is_cloud:
            raise ConfigurationError(f"GEMINI_VERTEX_ACCESS_TOKEN is for local/test endpoints only (ENV={env})")
        return self

    @property
    def gemini_configured(self) -> bool:
        """True when a real model can be reached (a key, or Vertex AI)."""
        key = self.GEMINI_API_KEY.get_secret_value() if self.GEMINI_API_KEY is not None else ""
        return bool(key) or self.GEMINI_USE_VERTEX

    @property
    def uses_simple_model(self) -> bool:
        """True when every generation is answered by the simple-response mode."""
        return self.MODEL_FORCE_SIMPLE or not self.gemini_configured
