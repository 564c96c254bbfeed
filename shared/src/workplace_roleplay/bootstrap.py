"""Builds the adapters a service runs on from its settings (the composition root's toolbox).

Heavy SDKs are imported here lazily, inside the builder that needs them, so a service pays for
Firestore or Redis only when its settings select them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property

from workplace_roleplay import tracing
from workplace_roleplay.domain.conversation.service import ConversationService
from workplace_roleplay.domain.identity.encrypted_fields import CipherSealer
from workplace_roleplay.domain.identity.refresh_tokens import RefreshTokens
from workplace_roleplay.domain.identity.users import IdentityService
from workplace_roleplay.domain.model_budget import DailyModelBudget
from workplace_roleplay.domain.speech import SpeechService
from workplace_roleplay.ports import Cache, Clock, DocumentStore, RateLimiter, SystemClock
from workplace_roleplay.ports.cipher import FieldCipher
from workplace_roleplay.ports.legacy_session import LegacySessionSource, LegacySessionVerifier
from workplace_roleplay.ports.model import LanguageModel
from workplace_roleplay.ports.pubsub import PubSub
from workplace_roleplay.ports.tokens import AccessTokenCodec
from workplace_roleplay.settings import ServiceSettings

log = logging.getLogger("workplace_roleplay.bootstrap")


@dataclass
class Resources:
    """Everything built at startup and closed at shutdown, shared by a service's requests."""

    settings: ServiceSettings
    store: DocumentStore
    cache: Cache
    clock: Clock
    # Defaults to a per-process limiter so harnesses that build Resources by hand need not pass one.
    rate_limiter: RateLimiter = field(default_factory=lambda: _in_process_limiter(SystemClock()))
    # The model gateway; defaults to the offline simple-response mode for hand-built harnesses.
    model: LanguageModel = field(default_factory=lambda: _simple_model())
    # Text-to-speech; None when TTS_ENABLED is off or no Gemini is configured (the route answers 503).
    speech: SpeechService | None = None
    # Where legacy sessions are read (LEGACY_SESSION_SOURCE); None: the signed-cookie reader when
    # LEGACY_SECRET_KEY is set, else no legacy sessions at all.
    legacy_source: LegacySessionSource | None = None
    # The conversation engine of the service's mode, set by the service's startup (None in services
    # without conversations, e.g. migrate_session).
    conversations: ConversationService | None = None

    @cached_property
    def model_budget(self) -> DailyModelBudget:
        """The learner's daily model budget (no I/O to build; every spend is one cache append)."""
        return DailyModelBudget(self.cache, self.clock, per_user=self.settings.MODEL_DAILY_BUDGET_USER)

    @cached_property
    def security(self) -> Security:
        """Identity, token and encryption services (no I/O to build; hand-built harnesses get them too)."""
        return build_security(self.settings, self.store, self.clock, legacy_source=self.legacy_source)


@dataclass(frozen=True)
class Security:
    """Who is calling and how their data is sealed: built from the auth settings."""

    identity: IdentityService
    tokens: AccessTokenCodec
    cipher: FieldCipher
    sealer: CipherSealer
    csrf_key: bytes
    legacy: LegacySessionVerifier | None  # consulted only when FALLBACK_AUTH=flask_session


def build_security(
    settings: ServiceSettings, store: DocumentStore, clock: Clock, *, legacy_source: LegacySessionSource | None = None
) -> Security:
    """Key rings from settings (Secret Manager in the cloud, derived dev keys locally)."""
    from workplace_roleplay.adapters.field_crypto import AesGcmFieldCipher
    from workplace_roleplay.adapters.jwt_tokens import JwtAccessTokens

    active_kid, jwt_keys = settings.jwt_key_ring()
    tokens = JwtAccessTokens(
        algorithm=settings.JWT_ALGORITHM,
        active_kid=active_kid,
        keys=jwt_keys,
        issuer=settings.JWT_ISSUER,
        audience=settings.JWT_AUDIENCE,
        ttl_s=settings.ACCESS_TOKEN_TTL_S,
        leeway_s=settings.JWT_LEEWAY_S,
    )
    refresh = RefreshTokens(
        store, clock, ttl_s=settings.REFRESH_TOKEN_TTL_S, reuse_grace_s=settings.REFRESH_REUSE_GRACE_S
    )
    primary, ale_keys = settings.ale_key_ring()
    cipher = AesGcmFieldCipher(primary_kid=primary, keys=ale_keys)
    legacy: LegacySessionVerifier | None = None
    source = legacy_source or _cookie_source(settings)
    if source is not None:
        from workplace_roleplay.domain.migration.fallback import SourceVerifier

        legacy = SourceVerifier(source, clock, cookie_name=settings.LEGACY_SESSION_COOKIE)
    return Security(
        identity=IdentityService(store=store, tokens=tokens, refresh=refresh, clock=clock),
        tokens=tokens,
        cipher=cipher,
        sealer=CipherSealer(cipher),
        csrf_key=settings.csrf_key(),
        legacy=legacy,
    )


def _cookie_source(settings: ServiceSettings) -> LegacySessionSource | None:
    if settings.LEGACY_SECRET_KEY is None or not settings.LEGACY_SECRET_KEY.get_secret_value():
        return None
    from workplace_roleplay.adapters.legacy_flask_cookie import FlaskCookieLegacySource

    return FlaskCookieLegacySource(
        secret_key=settings.LEGACY_SECRET_KEY.get_secret_value(), max_age_s=settings.LEGACY_SESSION_MAX_AGE_S
    )


def build_legacy_source(settings: ServiceSettings) -> LegacySessionSource | None:
    """The reader ``LEGACY_SESSION_SOURCE`` selects (no I/O until used); None when unset."""
    source = settings.LEGACY_SESSION_SOURCE
    if not source:
        return None
    if source == "cookie":
        return _cookie_source(settings)
    if source.startswith("filesystem:"):
        from pathlib import Path

        from workplace_roleplay.adapters.legacy_filesystem import FilesystemLegacySource

        return FilesystemLegacySource(
            Path(source.removeprefix("filesystem:")), key_prefix=settings.LEGACY_FILE_KEY_PREFIX
        )
    from workplace_roleplay.adapters.legacy_redis import RedisLegacySource

    secret = settings.LEGACY_SECRET_KEY.get_secret_value() if settings.LEGACY_SECRET_KEY else None
    return RedisLegacySource.from_url(
        source,
        secret_key=secret,
        key_prefix=settings.LEGACY_REDIS_KEY_PREFIX,
        use_signer=settings.LEGACY_REDIS_USE_SIGNER,
    )


async def build_store(settings: ServiceSettings, clock: Clock | None = None) -> DocumentStore:
    """The document store the settings select (``clock``: what the embedded store judges expiry by)."""
    if settings.STORE_BACKEND == "firestore":
        from workplace_roleplay.adapters.firestore_store import FirestoreDocumentStore

        return FirestoreDocumentStore.build(
            project=settings.GOOGLE_CLOUD_PROJECT or "demo-local",
            database=settings.FIRESTORE_DATABASE,
            emulator_host=settings.FIRESTORE_EMULATOR_HOST or None,
        )
    from workplace_roleplay.adapters.sqlite_store import SqliteDocumentStore

    return await SqliteDocumentStore.open(settings.DATA_DIR / "store.sqlite3", clock=clock)


def build_cache(settings: ServiceSettings, clock: Clock) -> Cache:
    """Redis (single node or cluster, ``REDIS_MODE``) when ``REDIS_URL`` is set, the in-process cache otherwise."""
    if settings.cache_backend == "redis" and settings.REDIS_URL is not None:
        from workplace_roleplay.adapters.redis_cache import RedisCache

        return RedisCache.from_url(
            settings.REDIS_URL.get_secret_value(),
            timeout_s=settings.REDIS_TIMEOUT_S,
            clock=clock,
            mode=settings.REDIS_MODE,
            iam_auth=settings.REDIS_IAM_AUTH,
        )
    from workplace_roleplay.adapters.memory_cache import MemoryCache

    return MemoryCache(clock=clock)


def _simple_model(reason: str = "unconfigured") -> LanguageModel:
    from workplace_roleplay.adapters.simple_model import SimpleModel, SimpleReason

    return SimpleModel(SimpleReason(reason))


def build_language_model(settings: ServiceSettings, cache: Cache, clock: Clock) -> LanguageModel:
    """Gemini behind routing, retries, breakers and ai_cache; the simple-response mode when Gemini is
    not configured or ``MODEL_FORCE_SIMPLE`` is on (then ``google.genai`` is never imported)."""
    if settings.MODEL_FORCE_SIMPLE:
        return _simple_model("forced")
    if not settings.gemini_configured:
        if settings.ENV.is_cloud:
            # Allowed (ops may run without a model), but never silently: every reply will be canned text.
            log.error(
                "no Gemini configuration (GEMINI_API_KEY or GEMINI_USE_VERTEX): simple-response mode only",
                extra={"model_mode": "simple", "env": settings.ENV.value},
            )
        return _simple_model("unconfigured")
    from workplace_roleplay.adapters.gemini import GeminiBackend
    from workplace_roleplay.adapters.model_routing import ModelRouter
    from workplace_roleplay.adapters.resilient_model import ResilientModel

    router = ModelRouter(flash=settings.MODEL_FLASH, pro=settings.MODEL_PRO, overrides=settings.MODEL_TASK_OVERRIDES)
    backend = GeminiBackend.from_settings(settings, project=settings.GOOGLE_CLOUD_PROJECT)
    return ResilientModel(backend, router=router, settings=settings, clock=clock, cache=cache)


def build_speech(settings: ServiceSettings, cache: Cache, clock: Clock) -> SpeechService | None:
    """Gemini TTS behind the daily budget and tts_cache, when ``TTS_ENABLED`` and Gemini is configured."""
    if not settings.TTS_ENABLED or settings.uses_simple_model:
        return None
    from workplace_roleplay.adapters.gemini import GeminiBackend

    return SpeechService(
        GeminiBackend.from_settings(settings, project=settings.GOOGLE_CLOUD_PROJECT),
        cache,
        clock,
        model=settings.TTS_MODEL,
        voices=settings.TTS_VOICES,
        daily_chars=settings.TTS_DAILY_CHARS_PER_USER,
        max_chars=settings.TTS_MAX_CHARS,
        ttl_s=settings.TTS_CACHE_TTL_S,
    )


def _in_process_limiter(clock: Clock) -> RateLimiter:
    from workplace_roleplay.adapters.memory_ratelimit import MemoryRateLimiter

    return MemoryRateLimiter(clock)


def build_rate_limiter(settings: ServiceSettings, cache: Cache, clock: Clock) -> RateLimiter:
    """Shared limits on the cache's Redis connection (local fallback in an outage), in-process otherwise."""
    if settings.cache_backend == "redis":
        from workplace_roleplay.adapters.redis_cache import RedisCache
        from workplace_roleplay.adapters.redis_ratelimit import RedisRateLimiter

        if isinstance(cache, RedisCache):
            return RedisRateLimiter(cache.connection, namespace=cache.namespace)
    return _in_process_limiter(clock)


def build_pubsub(cache: Cache) -> PubSub:
    """Pub/sub on the cache's Redis (sharded on a cluster), in-process otherwise (for watch mode)."""
    from workplace_roleplay.adapters.redis_cache import RedisCache

    if isinstance(cache, RedisCache):
        from workplace_roleplay.adapters.redis_pubsub import RedisPubSub

        return RedisPubSub(cache.connection, namespace=cache.namespace)
    from workplace_roleplay.adapters.memory_pubsub import MemoryPubSub

    return MemoryPubSub()


@asynccontextmanager
async def open_resources(settings: ServiceSettings, *, clock: Clock | None = None) -> AsyncIterator[Resources]:
    """Build the store and cache, yield them, close them on exit (also on failure)."""
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        store = await build_store(settings, clock)
        stack.push_async_callback(store.close)
        if tracing.enabled():
            from workplace_roleplay.adapters.traced_store import TracedStore

            store = TracedStore(store)
        cache = build_cache(settings, clock)
        stack.push_async_callback(cache.close)
        rate_limiter = build_rate_limiter(settings, cache, clock)
        model = build_language_model(settings, cache, clock)
        stack.push_async_callback(model.close)
        if tracing.enabled():
            from workplace_roleplay.adapters.traced_model import TracedModel

            model = TracedModel(model)
        speech = build_speech(settings, cache, clock)
        if speech is not None:
            stack.push_async_callback(speech.synthesizer.close)
        legacy_source = build_legacy_source(settings)
        if legacy_source is not None:
            stack.push_async_callback(legacy_source.close)
        yield Resources(
            settings=settings,
            store=store,
            cache=cache,
            clock=clock,
            rate_limiter=rate_limiter,
            model=model,
            speech=speech,
            legacy_source=legacy_source,
        )
