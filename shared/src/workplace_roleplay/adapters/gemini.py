"""Gemini through google-genai: one async client per credential, built at startup, closed at shutdown.

This module is imported only by the builder that needs it (``bootstrap.build_language_model``), so a
service in the simple-response mode never pays for ``google.genai`` at startup.

One call here is exactly one HTTP request: the SDK's own retries are off (``HttpRetryOptions(
attempts=1)``, which also disables the hidden retry of refused connections), and retries, fallbacks
and breakers live in ``resilient_model``. SDK and transport exceptions become our error tree here.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import time
import wave
from collections.abc import AsyncGenerator, AsyncIterator
from contextvars import ContextVar

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel

from workplace_roleplay import telemetry
from workplace_roleplay.errors import (
    AppError,
    ModelCredentialRejected,
    ModelOverloaded,
    ModelRejected,
    ModelTimeout,
)
from workplace_roleplay.ports.model import (
    Completion,
    GenerationMode,
    GenerationRequest,
    ModelTask,
    StreamEvent,
    TextDelta,
    Usage,
)
from workplace_roleplay.settings.model import ModelSettings

# HTTP responses opened by the current stream call, so cancelling the consumer closes the upstream
# connection at once (the SDK nests several async generators that only close when garbage collected).
_opened: ContextVar[list[httpx2.Response] | None] = ContextVar("gemini_opened_responses", default=None)
_RETRY_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")
# Gemini needs at least one user turn; the counterpart's opening line has none yet.
_OPENING_TURN = "(会話を始めてください)"
_FAST_TASKS = frozenset({ModelTask.OPENING, ModelTask.CONVERSATION_TURN, ModelTask.WATCH_LINE})


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


def translate(exc: BaseException) -> AppError:
    """One SDK or transport exception as an error of our tree."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, genai_errors.APIError):
        code = int(exc.code or 0)
        detail = f"gemini {code} {exc.status or ''}".strip()
        if code in (401, 403):
            return ModelCredentialRejected(detail)
        if code in (408, 429) or code >= 500:
            return ModelOverloaded(detail, status=code, retry_after=_retry_after(exc))
        return ModelRejected(detail)
    if isinstance(exc, TimeoutError | httpx2.TimeoutException):
        return ModelTimeout(f"gemini timed out ({type(exc).__name__})")
    if isinstance(exc, httpx2.TransportError):
        return ModelOverloaded(f"gemini unreachable ({type(exc).__name__})", status=0)
    return ModelRejected(f"gemini call failed ({type(exc).__name__})")


def _retry_after(exc: genai_errors.APIError) -> float | None:
    """``Retry-After`` header, else the ``RetryInfo.retryDelay`` Gemini puts in a 429 body."""
    headers = getattr(exc.response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    if value:
        with contextlib.suppress(ValueError):
            return max(0.0, float(value))
    details = exc.details if isinstance(exc.details, dict) else {}
    for item in details.get("error", {}).get("details", []) or []:
        match = _RETRY_DELAY.match(str(item.get("retryDelay", ""))) if isinstance(item, dict) else None
        if match:
            return float(match.group(1))
    return None


def as_wav(audio: bytes, mime_type: str) -> tuple[bytes, str]:
    """Wrap raw PCM (``audio/L16;rate=24000``) in a WAV header browsers play; pass other formats on."""
    mime = mime_type.lower()
    if not (mime.startswith("audio/l16") or mime.startswith("audio/pcm")):
        return audio, mime_type
    rate = int(m.group(1)) if (m := re.search(r"rate=(\d+)", mime)) else 24000
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(audio)
    return buffer.getvalue(), "audio/wav"


def _contents(request: GenerationRequest) -> list[types.Content]:
    if not request.messages:
        return [types.Content(role="user", parts=[types.Part(text=_OPENING_TURN)])]
    return [types.Content(role=m.role, parts=[types.Part(text=m.text)]) for m in request.messages]


def _config(
    request: GenerationRequest, schema: type[BaseModel] | None = None, *, think: bool = True
) -> types.GenerateContentConfig:
    config = types.GenerateContentConfig(
        system_instruction=request.system or None,
        temperature=request.temperature,
        max_output_tokens=request.max_output_tokens,
        # We declare no tools; this skips the SDK's function-calling loop and its per-call log line.
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    if not think:
        config.thinking_config = types.ThinkingConfig(thinking_budget=0)
    if schema is not None:
        config.response_mime_type = "application/json"
        config.response_json_schema = schema.model_json_schema()
    return config


def _usage(meta: types.GenerateContentResponseUsageMetadata | None) -> Usage | None:
    if meta is None:
        return None
    return Usage(input_tokens=meta.prompt_token_count or 0, output_tokens=meta.candidates_token_count or 0)


def _finish_reason(chunk: types.GenerateContentResponse) -> str | None:
    if chunk.prompt_feedback is not None and chunk.prompt_feedback.block_reason is not None:
        return "SAFETY"
    if chunk.candidates and chunk.candidates[0].finish_reason is not None:
        reason = chunk.candidates[0].finish_reason
        return str(getattr(reason, "value", reason))
    return None


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
        return not (model in self._no_thinking and request.task in _FAST_TASKS)

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
                vertexai=True, project=project, location=settings.GOOGLE_CLOUD_LOCATION, http_options=options
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
                        contents=_contents(request),
                        config=_config(request, think=self._think(model, request)),
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
                usage = _usage(chunk.usage_metadata) or usage
                finish = _finish_reason(chunk) or finish
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
            raise translate(exc) from exc
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
                    contents=_contents(request),
                    config=_config(request, schema, think=self._think(model, request)),
                )
        except Exception as exc:
            raise translate(exc) from exc
        finally:
            telemetry.MODEL_LATENCY.labels(model=model, call="generate").observe(time.monotonic() - started)
        usage = _usage(response.usage_metadata) or Usage()
        telemetry.record_tokens(model, usage.input_tokens, usage.output_tokens)
        return Completion(
            text=response.text or "",
            model=model,
            mode=GenerationMode.MODEL,
            finish_reason=_finish_reason(response) or "STOP",
            usage=usage,
        )

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
            raise translate(exc) from exc
        finally:
            telemetry.MODEL_LATENCY.labels(model=model, call="tts").observe(time.monotonic() - started)
        for candidate in response.candidates or []:
            for part in (candidate.content.parts if candidate.content else None) or []:
                if part.inline_data is not None and part.inline_data.data:
                    return as_wav(part.inline_data.data, part.inline_data.mime_type or "")
        raise ModelRejected("gemini tts returned no audio")
