"""Gemini through google-genai: one async client per credential, built at startup, closed at shutdown.

This module is imported only by the builder that needs it (``bootstrap.build_language_model``), so a
service in the simple-response mode never pays for ``google.genai`` at startup.

One call here is exactly one HTTP request: the SDK's own retries are off (``HttpRetryOptions(
attempts=1)``, which also disables the hidden retry of refused connections), and retries, fallbacks
and breakers live in ``resilient_model``. SDK and transport exceptions become our error tree
(``gemini_wire.translate``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextvars import ContextVar

import google.auth.credentials
import httpx2
from google import genai
from google.genai import types
from pydantic import BaseModel

from workplace_roleplay import telemetry
from workplace_roleplay.adapters import gemini_wire as wire
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

# Texts per ``batchEmbedContents`` request (the API's limit).
EMBED_BATCH = 100
# HTTP responses opened by the current stream call, so cancelling the consumer closes the upstream
# connection at once (the SDK nests several async generators that only close when garbage collected).
_opened: ContextVar[list[httpx2.Response] | None] = ContextVar("gemini_opened_responses", default=None)


class _TrackingTransport(httpx2.AsyncHTTPTransport):
    """Applies our connect timeout (the SDK has one timeout for everything) and records responses."""

    def __init__(self, *, connect_timeout_s: float) -> None:
        super().__init__()
        self._connect_timeout_s = connect_timeout_s

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        timeout = dict(request.extensions.get("timeout") or {})
        timeout["connect"] = self._connect_timeout_s
        request.extensions["timeout"] = timeout
        response = await super().handle_async_request(request)
        opened = _opened.get()
        if opened is not None:
            opened.append(response)
        return response


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


class GeminiBackend:
    """Single HTTP calls to one model on Gemini, with a primary and an optional standby credential."""

    backend = "gemini"

    def __init__(self, clients: list[genai.Client], settings: ModelSettings) -> None:
        self._clients = clients
        self._active = 0
        self.first_token_timeout_s = settings.MODEL_FIRST_TOKEN_TIMEOUT_S
        self.total_timeout_s = settings.MODEL_TOTAL_TIMEOUT_S
        self._no_thinking = {settings.MODEL_FLASH} if settings.MODEL_FAST_TURNS else set()

    def _think(self, model: str, request: GenerationRequest) -> bool:
        # Thinking delays the first token by seconds; a conversation line is better fast than deep.
        return not (model in self._no_thinking and request.task in wire.FAST_TASKS)

    @classmethod
    def from_settings(cls, settings: ModelSettings, *, project: str) -> GeminiBackend:
        """Build the client(s); no network until the first call."""
        # The SDK and its transport log every request at INFO; our metrics and access logs cover that.
        for name in ("google_genai", "httpx2"):
            logging.getLogger(name).setLevel(logging.WARNING)
        options = types.HttpOptions(
            base_url=settings.GEMINI_BASE_URL or None,
            api_version=settings.GEMINI_API_VERSION or None,
            # A safety net per read/write; our own first-token and total deadlines are the real limits.
            timeout=int(settings.MODEL_TOTAL_TIMEOUT_S * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
            async_client_args={"transport": _TrackingTransport(connect_timeout_s=settings.MODEL_CONNECT_TIMEOUT_S)},
        )
        if settings.GEMINI_USE_VERTEX:
            vertex = genai.Client(
                vertexai=True,
                project=project,
                location=settings.GOOGLE_CLOUD_LOCATION,
                credentials=_vertex_credentials(settings),
                http_options=options,
            )
            return cls([vertex], settings)
        keys = [k for k in (settings.GEMINI_API_KEY, settings.GEMINI_API_KEY_FALLBACK) if k is not None]
        clients = [
            genai.Client(api_key=key.get_secret_value(), http_options=options) for key in keys if key.get_secret_value()
        ]
        return cls(clients, settings)

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
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.aio.aclose()
            with contextlib.suppress(Exception):
                client.close()

    async def stream(self, model: str, request: GenerationRequest) -> AsyncGenerator[StreamEvent, None]:
        """Deltas, then one Completion. Errors before the first delta raise from the first ``__anext__``."""
        client = self._clients[self._active]
        loop = asyncio.get_running_loop()
        started = loop.time()
        first_deadline = started + self.first_token_timeout_s
        total_deadline = started + self.total_timeout_s
        opened: list[httpx2.Response] = []
        upstream: AsyncIterator[types.GenerateContentResponse] | None = None
        parts: list[str] = []
        usage, finish = Usage(), "STOP"
        ended = False
        try:
            token = _opened.set(opened)
            try:
                async with asyncio.timeout_at(first_deadline):
                    upstream = await client.aio.models.generate_content_stream(
                        model=model,
                        contents=wire.contents(request),
                        config=wire.config(request, think=self._think(model, request)),
                    )
            finally:
                _opened.reset(token)
            while True:
                deadline = first_deadline if not parts else total_deadline
                token = _opened.set(opened)
                try:
                    async with asyncio.timeout_at(min(deadline, total_deadline)):
                        chunk = await anext(upstream)
                except StopAsyncIteration:
                    break
                finally:
                    _opened.reset(token)
                usage = wire.usage(chunk.usage_metadata) or usage
                finish = wire.finish_reason(chunk) or finish
                text = chunk.text or ""
                if text:
                    if not parts:
                        telemetry.MODEL_TTFT.labels(model=model).observe(loop.time() - started)
                    parts.append(text)
                    yield TextDelta(text)
            ended = True
        except AppError:
            raise
        except Exception as exc:  # CancelledError and GeneratorExit are BaseException: they pass
            raise wire.translate(exc) from exc
        finally:
            if not ended:
                # The consumer went away or the call failed: drop the upstream connection now.
                for response in opened:
                    with contextlib.suppress(Exception):
                        await response.aclose()
            if upstream is not None and hasattr(upstream, "aclose"):
                with contextlib.suppress(Exception, RuntimeError):
                    await upstream.aclose()
            telemetry.MODEL_LATENCY.labels(model=model, call="stream").observe(loop.time() - started)
        telemetry.record_tokens(model, usage.input_tokens, usage.output_tokens)
        yield Completion(text="".join(parts), model=model, mode=GenerationMode.MODEL, finish_reason=finish, usage=usage)

    async def generate(
        self, model: str, request: GenerationRequest, *, schema: type[BaseModel] | None = None
    ) -> Completion:
        """One unary call (JSON text validated by the caller when ``schema`` is given)."""
        client = self._clients[self._active]
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
        client = self._clients[self._active]
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
        client = self._clients[self._active]
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
