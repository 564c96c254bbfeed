"""A fake Gemini REST server for tests and benchmarks (``python -m tools.fake_gemini --port N``).

Speaks what google-genai sends (../shared/notes/libraries.md §1): ``:generateContent``,
``:streamGenerateContent?alt=sse``, ``:countTokens`` and the embedding methods (``:batchEmbedContents``,
``:embedContent``, Vertex ``:predict``) under ``/v1`` and ``/v1beta`` (and the Vertex
``projects/*/locations/*/publishers/google/models/*`` form). Embeddings are deterministic
(``fake_embedding``: hashed character 1- and 2-grams), so texts sharing characters are close.
Replies are configurable (text, time to first token, delay between chunks); failures are scripted
per model name or per API key through the control API:

- ``POST /_control/config``  {"text", "ttft_ms", "chunk_delay_ms", "chunk_chars"}
- ``POST /_control/script``  {"target": "<model>" | "key:<api key>", "actions": [action, ...]}
  an action: {"kind": "ok" | "status" | "break" | "hang", "status": 429, "retry_after": 1 (header),
  "retry_delay": 1 (RetryInfo in the body),
  "after_chunks": 2, "text": "...", "times": 1 (-1: every call)}
- ``GET /_control/requests`` every request received (model, method, version, api_key, Vertex project and
  location (None on the Gemini API paths), bearer token, body); a Vertex path without a token is a 401
- ``GET /_control/stats``    {"disconnects", "completed", "in_flight"} (disconnect = the client went
  away before the reply ended)
- ``POST /_control/reset``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import math
import re
import socket
import time
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

_PATH = re.compile(
    r"^/(?P<version>v1(?:beta\d?)?)/(?:projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/google/)?"
    r"models/(?P<model>[^:/]+):(?P<method>\w+)$"
)
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclass
class FakeState:
    text: str = "はい、承知しました。詳しく教えていただけますか。"
    ttft_ms: float = 0.0
    chunk_delay_ms: float = 0.0
    chunk_chars: int = 4
    scripts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    disconnects: int = 0
    completed: int = 0
    in_flight: int = 0

    def next_action(self, model: str, api_key: str) -> dict[str, Any]:
        for target in (f"key:{api_key}", model):
            queue = self.scripts.get(target)
            if queue:
                action = queue[0]
                if action.get("times", 1) != -1:
                    action["times"] = action.get("times", 1) - 1
                    if action["times"] <= 0:
                        queue.pop(0)
                return action
        return {"kind": "ok"}


def _error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "UNKNOWN")}}


def _example(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """A small valid instance of an OpenAPI-style (responseSchema) or JSON-Schema schema."""
    root = root if root is not None else schema
    if "$ref" in schema:  # "#/$defs/Name": nested pydantic models
        target: Any = root
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            target = target.get(part, {})
        return _example(target, root)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if str(s.get("type", "")).upper() != "NULL"]
        return _example(options[0], root) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = str(schema.get("type", "OBJECT")).upper()
    if kind == "OBJECT":
        return {name: _example(sub, root) for name, sub in schema.get("properties", {}).items()}
    if kind == "ARRAY":
        count = max(1, int(schema.get("minItems", 1)))
        return [_example(schema.get("items", {"type": "STRING"}), root) for _ in range(count)]
    if kind == "INTEGER":
        return int(schema.get("minimum", 1))
    if kind == "NUMBER":
        return float(schema.get("minimum", 1.0))
    if kind == "BOOLEAN":
        return True
    return "テスト"[: int(schema.get("maxLength", 3))]


def _chunk(text: str, *, last: bool, prompt_tokens: int) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    body: dict[str, Any] = {"candidates": [candidate]}
    if last:
        candidate["finishReason"] = "STOP"
        body["usageMetadata"] = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": max(1, len(text)),
            "totalTokenCount": prompt_tokens + max(1, len(text)),
        }
    return body


def _prompt_tokens(body: dict[str, Any]) -> int:
    chars = sum(len(p.get("text", "")) for c in body.get("contents", []) for p in c.get("parts", []))
    return max(1, chars // 2)


EMBEDDING_DIMENSIONS = 64  # when the request names no outputDimensionality
_EMBED_METHODS = ("batchEmbedContents", "embedContent", "predict")


def fake_embedding(text: str, dimensions: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """A unit vector of the text's character 1- and 2-grams, each hashed to a signed bucket."""
    norm = "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())
    vector = [0.0] * dimensions
    for gram in [*norm, *(norm[i : i + 2] for i in range(len(norm) - 1))]:
        digest = hashlib.sha256(gram.encode()).digest()
        vector[int.from_bytes(digest[:4], "big") % dimensions] += 1.0 if digest[4] & 1 else -1.0
    length = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [round(v / length, 6) for v in vector]


def _parts_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(str(p.get("text", "")) for p in (content or {}).get("parts", []))


def _dimensions(request: dict[str, Any]) -> int:
    """``outputDimensionality`` where the Gemini API (top level) or Vertex (a config object) puts it."""
    for holder in (request, request.get("embedContentConfig") or {}, request.get("parameters") or {}):
        if holder.get("outputDimensionality"):
            return int(holder["outputDimensionality"])
    return EMBEDDING_DIMENSIONS


def _embeddings(method: str, body: dict[str, Any]) -> dict[str, Any]:
    """The reply of an embedding method, in that method's shape."""
    if method == "predict":  # Vertex, older embedding models: {"instances": [{"content": "..."}]}
        rows = [fake_embedding(_parts_text(i.get("content")), _dimensions(body)) for i in body.get("instances", [])]
        return {"predictions": [{"embeddings": {"values": v, "statistics": {"token_count": 1}}} for v in rows]}
    if method == "embedContent":  # Vertex, one content
        return {"embedding": {"values": fake_embedding(_parts_text(body.get("content")), _dimensions(body))}}
    requests = body.get("requests", [])
    return {"embeddings": [{"values": fake_embedding(_parts_text(r.get("content")), _dimensions(r))} for r in requests]}


def _audio(text: str) -> str:
    """Deterministic 16-bit PCM standing in for speech (24 kHz mono, 20 ms per character)."""
    seed = hashlib.sha256(text.encode()).digest()
    pcm = (seed * (960 * max(1, len(text)) // len(seed) + 1))[: 960 * max(1, len(text))]
    return base64.b64encode(pcm).decode()


class FakeGemini:
    """The ASGI app and its scripted state."""

    def __init__(self, state: FakeState | None = None) -> None:
        self.state = state or FakeState()
        self.app = Starlette(
            routes=[
                Route("/_control/config", self.control_config, methods=["POST"]),
                Route("/_control/script", self.control_script, methods=["POST"]),
                Route("/_control/requests", self.control_requests, methods=["GET"]),
                Route("/_control/stats", self.control_stats, methods=["GET"]),
                Route("/_control/reset", self.control_reset, methods=["POST"]),
                Route("/{path:path}", self.api, methods=["POST"]),
            ]
        )

    async def control_config(self, request: Request) -> Response:
        for name, value in (await request.json()).items():
            if name in ("text", "ttft_ms", "chunk_delay_ms", "chunk_chars"):
                setattr(self.state, name, value)
        return JSONResponse({"ok": True})

    async def control_script(self, request: Request) -> Response:
        data = await request.json()
        self.state.scripts.setdefault(data["target"], []).extend(dict(a) for a in data["actions"])
        return JSONResponse({"ok": True})

    async def control_requests(self, _: Request) -> Response:
        return JSONResponse(self.state.requests)

    async def control_stats(self, _: Request) -> Response:
        s = self.state
        return JSONResponse({"disconnects": s.disconnects, "completed": s.completed, "in_flight": s.in_flight})

    async def control_reset(self, _: Request) -> Response:
        self.state = FakeState()
        return JSONResponse({"ok": True})

    async def api(self, request: Request) -> Response:
        match = _PATH.match(request.url.path)
        if match is None:
            return JSONResponse(_error_body(404, f"unknown path {request.url.path}"), status_code=404)
        model, method = match["model"], match["method"]
        body = json.loads(await request.body() or b"{}")
        api_key = request.headers.get("x-goog-api-key", "")
        authorization = request.headers.get("authorization", "")
        self.state.requests.append(
            {
                "model": model,
                "method": method,
                "version": match["version"],
                "api_key": api_key,
                "project": match["project"],
                "location": match["location"],
                "bearer": authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else "",
                "body": body,
                "at": time.time(),
            }
        )
        if match["project"] is not None and not authorization.startswith("Bearer ") and not api_key:
            # Vertex AI answers an unauthenticated call like this (OAuth token or Vertex API key required).
            return JSONResponse(_error_body(401, "request is missing required authentication"), status_code=401)
        if method == "countTokens":
            return JSONResponse({"totalTokens": _prompt_tokens(body)})
        action = self.state.next_action(model, api_key)
        kind = action.get("kind", "ok")
        if kind == "status":
            status = int(action.get("status", 503))
            headers = {"Retry-After": str(action["retry_after"])} if "retry_after" in action else {}
            body = _error_body(status, action.get("message", f"scripted {status}"))
            if "retry_delay" in action:  # the real API's RetryInfo, in the body instead of a header
                info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{action['retry_delay']}s"}
                body["error"]["details"] = [info]
            return JSONResponse(body, status_code=status, headers=headers)
        if kind == "hang":
            return await self._hang(request)
        if method in _EMBED_METHODS:
            self.state.completed += 1
            return JSONResponse(_embeddings(method, body))
        text = str(action.get("text", self.state.text))
        if method == "streamGenerateContent":
            chunks = self._stream(text, body, break_after=action.get("after_chunks") if kind == "break" else None)
            return StreamingResponse(chunks, media_type="text/event-stream")
        return JSONResponse(self._unary(text, body, explicit="text" in action))

    def _unary(self, text: str, body: dict[str, Any], *, explicit: bool) -> dict[str, Any]:
        config = body.get("generationConfig", {})
        self.state.completed += 1
        if "AUDIO" in config.get("responseModalities", []):
            spoken = " ".join(p.get("text", "") for c in body.get("contents", []) for p in c.get("parts", []))
            part = {"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": _audio(spoken)}}
            return {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP"}]}
        schema = config.get("responseSchema") or config.get("responseJsonSchema")
        if schema is not None and not explicit:
            text = json.dumps(_example(schema), ensure_ascii=False)
        return _chunk(text, last=True, prompt_tokens=_prompt_tokens(body))

    async def _stream(self, text: str, body: dict[str, Any], *, break_after: int | None) -> AsyncIterator[bytes]:
        s = self.state
        size = max(1, int(s.chunk_chars))
        pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
        finished = False
        s.in_flight += 1
        try:
            if s.ttft_ms:
                await asyncio.sleep(s.ttft_ms / 1000)
            for index, piece in enumerate(pieces):
                if break_after is not None and index >= break_after:
                    yield f"data: {json.dumps(_error_body(500, 'scripted mid-stream failure'))}\n\n".encode()
                    finished = True
                    return
                if index and s.chunk_delay_ms:
                    await asyncio.sleep(s.chunk_delay_ms / 1000)
                last = index == len(pieces) - 1
                chunk = _chunk(piece, last=last, prompt_tokens=_prompt_tokens(body))
                yield f"data: {json.dumps(chunk, ensure_ascii=False)}\r\n\r\n".encode()
            finished = True
            s.completed += 1
        finally:
            s.in_flight -= 1
            if not finished:
                s.disconnects += 1

    async def _hang(self, request: Request) -> Response:
        self.state.in_flight += 1
        try:
            # The body is read, so the next ASGI message is the client's disconnect.
            while (await request.receive())["type"] != "http.disconnect":
                pass
            self.state.disconnects += 1
            return Response(status_code=499)
        finally:
            self.state.in_flight -= 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: pick a free port (printed on stdout)")
    parser.add_argument("--ttft-ms", type=float, default=0.0)
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0)
    parser.add_argument("--text", default=None)
    args = parser.parse_args()
    state = FakeState(ttft_ms=args.ttft_ms, chunk_delay_ms=args.chunk_delay_ms)
    if args.text:
        state.text = args.text
    fake = FakeGemini(state)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it: small SSE chunks go out at once (no Nagle/delayed-ACK stalls).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((args.host, args.port))
    # Listening before we announce the port: no refused first connection (backlog: c=1000 benchmarks).
    sock.listen(2048)
    port = sock.getsockname()[1]
    print(f"fake_gemini listening on http://{args.host}:{port}", flush=True)
    server = uvicorn.Server(uvicorn.Config(fake.app, log_level="warning", lifespan="off"))
    asyncio.run(server.serve(sockets=[sock]))


if __name__ == "__main__":
    main()
