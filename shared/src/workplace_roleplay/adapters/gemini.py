"""Gemini: streamed lines over the thin REST path (``gemini_stream``), everything else through google-genai.

Streamed conversation lines go through ``gemini_stream`` (same wire, a fraction of the CPU: ADR 0026);
unary, structured, embedding and speech calls use the SDK: one async client per credential, built (and
``google.genai`` imported, ~0.4 s) on the first such call, so no service pays for the SDK at startup.
All clients are closed at shutdown.

One call here is exactly one HTTP request: the SDK's own retries are off (``HttpRetryOptions(
attempts=1)``, which also disables the hidden retry of refused connections), and retries, fallbacks
and breakers live in ``resilient_model``. SDK and transport exceptions become our error tree
(``gemini_wire.translate``, ``gemini_stream.transport_error``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import TYPE_CHECKING, Any

import httpx2
from pydantic import BaseModel

from workplace_roleplay import telemetry
from workplace_roleplay.adapters.gemini_stream import FAST_TASKS, Endpoint, GeminiStreamer, VertexToken, transport_error
from workplace_roleplay.errors import (
    AppError,
    ModelRejected,
)
from workplace_roleplay.ports.model import (
    Completion,
    GenerationMode,
    GenerationRequest,
    StreamEvent,
    TextDelta,
    Usage,
)
from workplace_roleplay.settings.model import ModelSettings

if TYPE_CHECKING:
    import google.auth.credentials
    from google import genai

# Texts per ``batchEmbedContents`` request (the API's limit).
EMBED_BATCH = 100


class _TrackingTransport(httpx2.AsyncHTTPTransport):
    """Applies our connect timeout (the SDK has one timeout for everything)."""

    def __init__(self, *, connect_timeout_s: float) -> None:
        super().__init__()
        self._connect_timeout_s = connect_timeout_s

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        timeout = dict(request.extensions.get("timeout") or {})
        timeout["connect"] = self._connect_timeout_s
        request.extensions["timeout"] = timeout
        return await super().handle_async_request(request)


class LazyClients:
    """The SDK clients, one per credential, built on first use (``google.genai`` is imported then)."""

    def __init__(self, count: int, build: Callable[[], list[genai.Client]]) -> None:
        self._count = count
        self._build = build
        self._built: list[genai.Client] | None = None

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> genai.Client:
        if self._built is None:
            self._built = self._build()
        return self._built[index]

    def built(self) -> list[genai.Client]:
        """The clients made so far (none if no unary call ever happened)."""
        return list(self._built or [])

    async def ready(self) -> None:
        """Build the clients on a worker thread: importing ``google.genai`` takes ~0.4 s of CPU (more under
        load), and on the event loop it would stall every stream the process is serving."""
        if self._built is None:
            self._built = await asyncio.to_thread(self._build_with_wire)

    def _build_with_wire(self) -> list[genai.Client]:
        from workplace_roleplay.adapters import gemini_wire  # noqa: F401  (the SDK's types and errors, same import)

        return self._build()


def _vertex_credentials(settings: ModelSettings) -> google.auth.credentials.Credentials | None:
    """None: the SDK's Application Default Credentials (the runtime service account on Cloud Run).

    A fixed token (local/test only, refused in the cloud by the settings) never refreshes, so the SDK
    sends it as the Bearer token without touching a metadata server or a credentials file.
    """
    if settings.GEMINI_VERTEX_ACCESS_TOKEN is None:
        return None
    from google.oauth2.credentials import Credentials

    token: google.auth.credentials.Credentials = Credentials(  # type: ignore[no-untyped-call]
        settings.GEMINI_VERTEX_ACCESS_TOKEN.get_secret_value()
    )
    return token


def _http_options(settings: ModelSettings) -> Any:
    """The SDK's ``HttpOptions``: our connect timeout, no SDK retries (retries live in ``resilient_model``)."""
    from google.genai import types

    return types.HttpOptions(
        base_url=settings.GEMINI_BASE_URL or None,
        api_version=settings.GEMINI_API_VERSION or None,
        # A safety net per read/write; our own first-token and total deadlines are the real limits.
        timeout=int(settings.MODEL_TOTAL_TIMEOUT_S * 1000),
        retry_options=types.HttpRetryOptions(attempts=1),
        async_client_args={"transport": _TrackingTransport(connect_timeout_s=settings.MODEL_CONNECT_TIMEOUT_S)},
    )


class GeminiBackend:
    """Single HTTP calls to one model on Gemini, with a primary and an optional standby credential."""

    backend = "gemini"

    def __init__(
        self, clients: list[genai.Client] | LazyClients, settings: ModelSettings, streamer: GeminiStreamer | None = None
    ) -> None:
        self._clients = clients
        # Streamed lines go over the thin REST path; without one given, the Gemini API with the settings' keys.
        self._streamer = streamer or GeminiStreamer.from_settings(
            Endpoint.gemini_api(settings.GEMINI_BASE_URL, settings.GEMINI_API_VERSION),
            settings,
            api_keys=[k.get_secret_value() for k in (settings.GEMINI_API_KEY, settings.GEMINI_API_KEY_FALLBACK) if k],
        )
        self._active = 0
        self.first_token_timeout_s = settings.MODEL_FIRST_TOKEN_TIMEOUT_S
        self.total_timeout_s = settings.MODEL_TOTAL_TIMEOUT_S
        self._no_thinking = {settings.MODEL_FLASH} if settings.MODEL_FAST_TURNS else set()

    def _think(self, model: str, request: GenerationRequest) -> bool:
        # Thinking delays the first token by seconds; a conversation line is better fast than deep.
        return not (model in self._no_thinking and request.task in FAST_TASKS)

    @classmethod
    def from_settings(cls, settings: ModelSettings, *, project: str) -> GeminiBackend:
        """Set up the streamer and the (lazy) SDK client(s); no network and no SDK import until a call needs it."""
        # The SDK and its transport log every request at INFO; our metrics and access logs cover that.
        for name in ("google_genai", "httpx2"):
            logging.getLogger(name).setLevel(logging.WARNING)
        if settings.GEMINI_USE_VERTEX:
            credentials = _vertex_credentials(settings)
            endpoint = Endpoint.vertex(
                settings.GEMINI_BASE_URL,
                settings.GEMINI_API_VERSION,
                project=project,
                location=settings.GOOGLE_CLOUD_LOCATION,
            )
            streamer = GeminiStreamer.from_settings(endpoint, settings, vertex=VertexToken(credentials))

            def vertex() -> list[genai.Client]:
                from google import genai

                return [
                    genai.Client(
                        vertexai=True,
                        project=project,
                        location=settings.GOOGLE_CLOUD_LOCATION,
                        credentials=credentials,
                        http_options=_http_options(settings),
                    )
                ]

            return cls(LazyClients(1, vertex), settings, streamer)
        secrets = (settings.GEMINI_API_KEY, settings.GEMINI_API_KEY_FALLBACK)
        keys = [k.get_secret_value().strip() for k in secrets if k is not None and k.get_secret_value()]

        def keyed() -> list[genai.Client]:
            from google import genai

            return [genai.Client(api_key=key, http_options=_http_options(settings)) for key in keys]

        endpoint = Endpoint.gemini_api(settings.GEMINI_BASE_URL, settings.GEMINI_API_VERSION)
        return cls(
            LazyClients(len(keys), keyed), settings, GeminiStreamer.from_settings(endpoint, settings, api_keys=keys)
        )

    @property
    def credential(self) -> str:
        return "primary" if self._active == 0 else "standby"

    def switch_credential(self) -> bool:
        """Move to the standby credential, once; False when there is none or it is already in use."""
        if self._active + 1 >= len(self._clients):
            return False
        self._active += 1
        return True

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._streamer.aclose()
        clients = self._clients.built() if isinstance(self._clients, LazyClients) else self._clients
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aio.aclose()
            with contextlib.suppress(Exception):
                client.close()

    async def stream(self, model: str, request: GenerationRequest) -> AsyncGenerator[StreamEvent, None]:
        """Deltas, then one Completion. Errors before the first delta raise from the first ``__anext__``."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        first_deadline = started + self.first_token_timeout_s
        total_deadline = started + self.total_timeout_s
        parts: list[str] = []
        usage, finish = Usage(), "STOP"
        upstream = self._streamer.stream(model, request, think=self._think(model, request), credential=self._active)
        try:
            while True:
                deadline = first_deadline if not parts else total_deadline
                try:
                    async with asyncio.timeout_at(min(deadline, total_deadline)):
                        chunk = await anext(upstream)
                except StopAsyncIteration:
                    break
                usage = chunk.usage or usage
                finish = chunk.finish_reason or finish
                if chunk.text:
                    if not parts:
                        telemetry.MODEL_TTFT.labels(model=model).observe(loop.time() - started)
                    parts.append(chunk.text)
                    yield TextDelta(chunk.text)
        except AppError:
            raise
        except Exception as exc:  # CancelledError and GeneratorExit are BaseException: they pass
            raise transport_error(exc) from exc
        finally:
            # Ended, failed or abandoned by the consumer: closing the generator drops the upstream connection now.
            with contextlib.suppress(Exception, RuntimeError):
                await upstream.aclose()  # type: ignore[attr-defined]
            telemetry.MODEL_LATENCY.labels(model=model, call="stream").observe(loop.time() - started)
        telemetry.record_tokens(model, usage.input_tokens, usage.output_tokens)
        yield Completion(text="".join(parts), model=model, mode=GenerationMode.MODEL, finish_reason=finish, usage=usage)

    async def _client(self) -> genai.Client:
        """The active credential's SDK client, built off the event loop the first time."""
        if isinstance(self._clients, LazyClients):
            await self._clients.ready()
        return self._clients[self._active]

    async def generate(
        self, model: str, request: GenerationRequest, *, schema: type[BaseModel] | None = None
    ) -> Completion:
        """One unary call (JSON text validated by the caller when ``schema`` is given)."""
        client = await self._client()  # first: it imports the SDK off the event loop
        from workplace_roleplay.adapters import gemini_wire as wire

        started = time.monotonic()
        try:
            async with asyncio.timeout(self.total_timeout_s):
                response = await client.aio.models.generate_content(
                    model=model,
                    contents=wire.contents(request),
                    config=wire.config(request, schema, think=self._think(model, request)),
                )
        except Exception as exc:
            raise wire.translate(exc) from exc
        finally:
            telemetry.MODEL_LATENCY.labels(model=model, call="generate").observe(time.monotonic() - started)
        usage = wire.usage(response.usage_metadata) or Usage()
        telemetry.record_tokens(model, usage.input_tokens, usage.output_tokens)
        return Completion(
            text=response.text or "",
            model=model,
            mode=GenerationMode.MODEL,
            finish_reason=wire.finish_reason(response) or "STOP",
            usage=usage,
        )

    async def embed(
        self, model: str, texts: Sequence[str], *, task: str, dimensions: int, timeout_s: float
    ) -> list[list[float]]:
        """One vector per text (``:batchEmbedContents``; Vertex: ``:embedContent`` for a single text)."""
        client = await self._client()  # first: it imports the SDK off the event loop
        from google.genai import types

        from workplace_roleplay.adapters import gemini_wire as wire

        config = types.EmbedContentConfig(task_type=task, output_dimensionality=dimensions)
        vectors: list[list[float]] = []
        started = time.monotonic()
        try:
            async with asyncio.timeout(timeout_s):
                for start in range(0, len(texts), EMBED_BATCH):
                    batch = list(texts[start : start + EMBED_BATCH])
                    response = await client.aio.models.embed_content(model=model, contents=batch, config=config)
                    vectors.extend(list(item.values or []) for item in response.embeddings or [])
        except Exception as exc:
            raise wire.translate(exc) from exc
        finally:
            telemetry.MODEL_LATENCY.labels(model=model, call="embed").observe(time.monotonic() - started)
        if len(vectors) != len(texts) or not all(vectors):
            raise ModelRejected(f"{model} returned {len(vectors)} embeddings for {len(texts)} texts")
        return vectors

    async def synthesize(self, model: str, text: str, voice: str) -> tuple[bytes, str]:
        """Speech for ``text`` in ``voice`` as WAV (Gemini TTS answers raw 16-bit PCM)."""
        client = await self._client()  # first: it imports the SDK off the event loop
        from google.genai import types

        from workplace_roleplay.adapters import gemini_wire as wire

        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"],
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            speech_config=types.SpeechConfig(
                voice_config=types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice))
            ),
        )
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.total_timeout_s):
                response = await client.aio.models.generate_content(model=model, contents=text, config=config)
        except Exception as exc:
            raise wire.translate(exc) from exc
        finally:
            telemetry.MODEL_LATENCY.labels(model=model, call="tts").observe(time.monotonic() - started)
        for candidate in response.candidates or []:
            for part in (candidate.content.parts if candidate.content else None) or []:
                if part.inline_data is not None and part.inline_data.data:
                    return wire.as_wav(part.inline_data.data, part.inline_data.mime_type or "")
        raise ModelRejected("gemini tts returned no audio")
