"""A thin streaming call to Gemini over its documented REST wire (``:streamGenerateContent?alt=sse``).

The google-genai SDK turns every streamed chunk into pydantic objects and builds each request through
its own model layer; under load that was most of the CPU of a streamed turn (ADR 0026). A conversation
line needs only three things from each chunk: its text, the finish reason and the token usage. This
module sends the same request the SDK sends (same paths, headers and JSON body, captured by the fake
server's tests) over a minimal HTTP/1.1 client (``http1_stream``; httpx2, the SDK's own transport, when a
proxy is configured) and reads just those fields.
The SDK keeps the unary, structured, embedding and speech calls (``gemini``).

Credentials: the Gemini API key header, or on Vertex AI a Bearer token from google-auth credentials
(Application Default Credentials on Cloud Run), refreshed in a worker thread when they expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx2

from workplace_roleplay.adapters.http1_stream import ProtocolError, StreamingHttp1
from workplace_roleplay.errors import (
    AppError,
    ModelCredentialRejected,
    ModelOverloaded,
    ModelRejected,
    ModelTimeout,
)
from workplace_roleplay.ports.model import GenerationRequest, ModelTask, Usage
from workplace_roleplay.settings.model import ModelSettings

if TYPE_CHECKING:
    import google.auth.credentials

_CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
_RETRY_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")
# Gemini needs at least one user turn; the counterpart's opening line has none yet.
OPENING_TURN = "(会話を始めてください)"
# Conversation lines: fast rather than deep (no thinking on the flash model when MODEL_FAST_TURNS).
FAST_TASKS = frozenset({ModelTask.OPENING, ModelTask.CONVERSATION_TURN, ModelTask.WATCH_LINE})
_MULTI_REGIONAL = frozenset({"us", "eu"})
_SAFE_MODEL = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True, slots=True)
class Chunk:
    """What a conversation line needs from one streamed chunk."""

    text: str
    finish_reason: str | None
    usage: Usage | None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where stream calls go: ``{base}/{version}/{prefix}models/{model}:streamGenerateContent``."""

    base_url: str
    version: str
    prefix: str  # "" (Gemini API) or "projects/{p}/locations/{l}/publishers/google/" (Vertex AI)

    @classmethod
    def gemini_api(cls, base_url: str, version: str) -> Endpoint:
        return cls((base_url or "https://generativelanguage.googleapis.com").rstrip("/"), version or "v1", "")

    @classmethod
    def vertex(cls, base_url: str, version: str, *, project: str, location: str) -> Endpoint:
        if not base_url:
            if location == "global":
                base_url = "https://aiplatform.googleapis.com"
            elif location in _MULTI_REGIONAL:
                base_url = f"https://aiplatform.{location}.rep.googleapis.com"
            else:
                base_url = f"https://{location}-aiplatform.googleapis.com"
        prefix = f"projects/{project}/locations/{location}/publishers/google/"
        return cls(base_url.rstrip("/"), version or "v1beta1", prefix)

    def url(self, model: str) -> str:
        name = model.removeprefix("models/")
        if not _SAFE_MODEL.match(name):
            raise ValueError(f"unexpected model name {model!r}")
        return f"{self.base_url}/{self.version}/{self.prefix}models/{name}:streamGenerateContent?alt=sse"


class VertexToken:
    """Bearer tokens from google-auth credentials (ADC when none are given), refreshed off the event loop."""

    def __init__(self, credentials: google.auth.credentials.Credentials | None) -> None:
        self._credentials = credentials
        self._lock = asyncio.Lock()

    async def header(self) -> str:
        credentials = self._credentials
        if credentials is None or not credentials.valid:
            async with self._lock:
                credentials = await asyncio.to_thread(self._fresh)
        return f"Bearer {credentials.token}"

    def _fresh(self) -> google.auth.credentials.Credentials:
        credentials = self._credentials
        if credentials is None:
            import google.auth

            credentials, _ = google.auth.default(scopes=[_CLOUD_PLATFORM])
            self._credentials = credentials
        if not credentials.valid:
            from google.auth.transport.requests import Request

            credentials.refresh(Request())  # type: ignore[no-untyped-call]
        return credentials


def wire_error(code: int, status: str, retry_after_header: str | None, details: object) -> AppError:
    """An HTTP error answer of Gemini (status code, ``error.status``, ``Retry-After``, JSON body) as our error."""
    detail = f"gemini {code} {status}".strip()
    if code in (401, 403):
        return ModelCredentialRejected(detail)
    if code in (408, 429) or code >= 500:
        return ModelOverloaded(detail, status=code, retry_after=_retry_after(retry_after_header, details))
    return ModelRejected(detail)


def _retry_after(header: str | None, details: object) -> float | None:
    """``Retry-After`` header, else the ``RetryInfo.retryDelay`` Gemini puts in a 429 body."""
    if header:
        with contextlib.suppress(ValueError):
            return max(0.0, float(header))
    body = details if isinstance(details, dict) else {}
    error = body.get("error")
    for item in (error.get("details", []) if isinstance(error, dict) else []) or []:
        match = _RETRY_DELAY.match(str(item.get("retryDelay", ""))) if isinstance(item, dict) else None
        if match:
            return float(match.group(1))
    return None


def transport_error(exc: BaseException) -> AppError:
    """A timeout or transport failure of the stream call as our error (HTTP answers go through ``wire_error``)."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, TimeoutError | httpx2.TimeoutException):
        return ModelTimeout(f"gemini timed out ({type(exc).__name__})")
    if isinstance(
        exc,
        httpx2.TransportError | OSError | asyncio.IncompleteReadError | asyncio.LimitOverrunError | ProtocolError,
    ):
        return ModelOverloaded(f"gemini unreachable ({type(exc).__name__})", status=0)
    return ModelRejected(f"gemini call failed ({type(exc).__name__})")


def request_body(request: GenerationRequest, *, think: bool) -> dict[str, Any]:
    """The JSON body google-genai builds for a plain text stream (see ``gemini_wire.config``)."""
    if request.messages:
        contents = [{"parts": [{"text": m.text}], "role": m.role} for m in request.messages]
    else:
        contents = [{"parts": [{"text": OPENING_TURN}], "role": "user"}]
    body: dict[str, Any] = {"contents": contents}
    if request.system:
        body["systemInstruction"] = {"parts": [{"text": request.system}], "role": "user"}
    generation: dict[str, Any] = {}
    if request.temperature is not None:
        generation["temperature"] = request.temperature
    if request.max_output_tokens is not None:
        generation["maxOutputTokens"] = request.max_output_tokens
    if not think:
        generation["thinkingConfig"] = {"thinking_budget": 0}  # exactly as the SDK sends it
    if generation:
        body["generationConfig"] = generation
    return body


def parse_chunk(data: dict[str, Any]) -> Chunk:
    """Text (thought parts left out), finish reason and usage of one chunk, as the SDK would read them."""
    if "error" in data:
        error = data["error"] if isinstance(data["error"], dict) else {}
        raise wire_error(int(error.get("code") or 500), str(error.get("status") or ""), None, data)
    finish: str | None = None
    feedback = data.get("promptFeedback")
    if isinstance(feedback, dict) and feedback.get("blockReason"):
        finish = "SAFETY"
    text = ""
    candidates = data.get("candidates") or []
    if candidates:
        candidate = candidates[0]
        if finish is None and candidate.get("finishReason"):
            finish = str(candidate["finishReason"])
        parts = (candidate.get("content") or {}).get("parts") or []
        text = "".join(p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought"))
    meta = data.get("usageMetadata")
    usage = None
    if isinstance(meta, dict):
        usage = Usage(
            input_tokens=meta.get("promptTokenCount") or 0, output_tokens=meta.get("candidatesTokenCount") or 0
        )
    return Chunk(text, finish, usage)


class GeminiStreamer:
    """Streamed calls over pooled keep-alive connections (built at startup, closed at shutdown).

    The minimal HTTP/1.1 client of ``http1_stream`` carries them (ADR 0030); when a proxy is configured in the
    environment (``HTTPS_PROXY`` and friends, read by the standard library as httpx2 reads them) the calls go
    through httpx2 instead, which speaks proxies.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        api_keys: list[str],
        vertex: VertexToken | None,
        connect_timeout_s: float,
        read_timeout_s: float,
        max_connections: int = 1000,
    ) -> None:
        self.endpoint = endpoint
        self._api_keys = api_keys
        self._vertex = vertex
        self._http1: StreamingHttp1 | None = None
        self._client: httpx2.AsyncClient | None = None
        if _proxied():
            self._client = httpx2.AsyncClient(
                timeout=httpx2.Timeout(read_timeout_s, connect=connect_timeout_s, pool=read_timeout_s),
                limits=httpx2.Limits(max_connections=max_connections, max_keepalive_connections=100),
            )
        else:
            self._http1 = StreamingHttp1(
                ssl_context=httpx2.create_ssl_context(),  # the trust httpx2 would use
                connect_timeout_s=connect_timeout_s,
                read_timeout_s=read_timeout_s,
            )

    @classmethod
    def from_settings(
        cls,
        endpoint: Endpoint,
        settings: ModelSettings,
        *,
        api_keys: list[str] | None = None,
        vertex: VertexToken | None = None,
    ) -> GeminiStreamer:
        return cls(
            endpoint,
            api_keys=api_keys or [],
            vertex=vertex,
            connect_timeout_s=settings.MODEL_CONNECT_TIMEOUT_S,
            # A safety net per read; the backend's first-token and total deadlines are the real limits.
            read_timeout_s=settings.MODEL_TOTAL_TIMEOUT_S,
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self._http1 is not None:
            await self._http1.aclose()

    async def _headers(self, credential: int) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._vertex is not None:
            headers["Authorization"] = await self._vertex.header()
        else:
            headers["x-goog-api-key"] = self._api_keys[credential]
        return headers

    async def stream(
        self, model: str, request: GenerationRequest, *, think: bool, credential: int = 0
    ) -> AsyncIterator[Chunk]:
        """The chunks of one call; HTTP and wire errors raise as our error tree."""
        body = json.dumps(request_body(request, think=think), ensure_ascii=False).encode()
        headers = await self._headers(credential)
        url = self.endpoint.url(model)
        events = SseLines()
        if self._http1 is not None:
            async with self._http1.post(url, body, headers) as answer:
                if answer.status != 200:
                    raise _answer_error(answer.status, answer.headers.get("retry-after"), await answer.read())
                async for raw in answer.chunks():
                    for data in events.feed(raw):
                        yield parse_chunk(_json(data))
        else:
            assert self._client is not None
            async with self._client.stream("POST", url, content=body, headers=headers) as response:
                if response.status_code != 200:
                    raise await _status_error(response)
                async for raw in response.aiter_bytes():
                    for data in events.feed(raw):
                        yield parse_chunk(_json(data))
        for data in events.end():
            yield parse_chunk(_json(data))


def _proxied() -> bool:
    """Whether the environment names an HTTP(S) proxy (as httpx2 would read it)."""
    found = urllib.request.getproxies()
    return any(found.get(scheme) for scheme in ("http", "https", "all"))


class SseLines:
    """The ``data`` of each server-sent event in a byte stream, split on bytes (no text decoding layers).

    Lines end with LF, CRLF or CR (a UTF-8 character never contains those bytes, so splitting before
    decoding is safe); an event ends with an empty line; its ``data:`` lines are joined with LF.
    """

    def __init__(self) -> None:
        self._rest = b""
        self._data: list[bytes] = []

    def feed(self, raw: bytes) -> list[bytes]:
        text = self._rest + raw
        held = b""
        if text.endswith(b"\r"):  # maybe the first half of a CRLF split between two reads
            text, held = text[:-1], b"\r"
        if b"\r" in text:
            text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = text.split(b"\n")
        self._rest = lines.pop() + held
        found: list[bytes] = []
        for line in lines:
            if line.startswith(b"data:"):
                self._data.append(line[5:].lstrip())
            elif not line and self._data:
                found.append(b"\n".join(self._data))
                self._data.clear()
        return found

    def end(self) -> list[bytes]:
        """The last event when the stream ended without its empty line."""
        found = self.feed(b"\n") if self._rest else []
        if self._data:
            found.append(b"\n".join(self._data))
            self._data.clear()
        return found


def _json(text: str | bytes) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ModelOverloaded("gemini sent an unreadable chunk", status=0) from exc
    return value if isinstance(value, dict) else {}


async def _status_error(response: httpx2.Response) -> AppError:
    return _answer_error(response.status_code, response.headers.get("retry-after"), await response.aread())


def _answer_error(code: int, retry_after: str | None, raw: bytes) -> AppError:
    try:
        details = json.loads(raw)
    except ValueError:
        details = {}
    error = details.get("error") if isinstance(details, dict) else None
    status = str(error.get("status") or "") if isinstance(error, dict) else ""
    return wire_error(code, status, retry_after, details)
