"""A lean load generator for streamed turns: raw HTTP/1.1 over asyncio streams, one keep-alive connection per learner.

httpx spends several milliseconds of CPU per streamed response; on a 2-core machine shared with the server
that would be measured as the server's slowness. This client parses only what the benchmark needs: the status,
``Retry-After``, the chunked body, and the SSE event names (the first ``token`` event's arrival time, the last
event, the conversation id).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class StreamResult:
    """One streamed call as the learner saw it."""

    status: int = 0  # 0: no HTTP answer at all
    first_token_s: float = 0.0
    last_event: str = ""
    conversation_id: str = ""
    retry_after_s: float = 0.0
    broken: bool = False  # the connection ended before a terminal event (or before any answer)
    broken_mid_stream: bool = False  # ... after a 200 and some events: a stream the learner saw break
    events: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.status == 200 and self.last_event == "done"


class Connection:
    """One keep-alive HTTP/1.1 connection (reopened after ``Connection: close`` or an error)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def _ensure(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is not None and self._reader.at_eof():
            await self.close()  # the server closed the idle keep-alive connection (as a browser would notice)
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
            sock = self._writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._reader, self._writer

    async def stream(self, path: str, body: dict[str, object], token: str) -> StreamResult:
        """POST ``body`` as JSON and read the SSE answer to its end."""
        payload = json.dumps(body, ensure_ascii=False).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n"
            f"Accept: text/event-stream\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode()
        result = StreamResult()
        started = time.perf_counter()
        try:
            reader, writer = await self._ensure()
            writer.write(head + payload)
            await writer.drain()
            status_line = await reader.readuntil(b"\r\n")
            result.status = int(status_line.split()[1])
            headers = await _headers(reader)
            result.retry_after_s = float(headers.get("retry-after", "0") or 0)
            parser = _SseParser(result, started)
            if headers.get("transfer-encoding", "").lower() == "chunked":
                await _read_chunked(reader, parser)
            else:
                parser.feed(await reader.readexactly(int(headers.get("content-length", "0"))))
            if headers.get("connection", "").lower() == "close":
                await self.close()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
            result.broken = True
            result.broken_mid_stream = result.status == 200
            await self.close()
            return result
        if result.status == 200 and result.last_event not in ("done", "error"):
            result.broken = result.broken_mid_stream = True
        return result

    async def post_json(self, path: str, body: dict[str, object], token: str) -> tuple[int, dict[str, object]]:
        """POST ``body`` as JSON and read a JSON answer (status, decoded body; ``{}`` when it is not JSON)."""
        payload = json.dumps(body, ensure_ascii=False).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n"
            f"Accept: application/json\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode()
        reader, writer = await self._ensure()
        writer.write(head + payload)
        await writer.drain()
        status = int((await reader.readuntil(b"\r\n")).split()[1])
        headers = await _headers(reader)
        raw = await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        try:
            decoded = json.loads(raw) if raw else {}
        except ValueError:
            decoded = {}
        return status, decoded if isinstance(decoded, dict) else {}


async def _headers(reader: asyncio.StreamReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    while True:
        line = await reader.readuntil(b"\r\n")
        if line == b"\r\n":
            return headers
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()


async def _read_chunked(reader: asyncio.StreamReader, parser: _SseParser) -> None:
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # the empty trailer
            return
        parser.feed((await reader.readexactly(size + 2))[:-2])


class _SseParser:
    def __init__(self, result: StreamResult, started: float) -> None:
        self.result = result
        self.started = started
        self.buffer = b""

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while b"\n\n" in self.buffer:
            block, self.buffer = self.buffer.split(b"\n\n", 1)
            self._event(block)

    def _event(self, block: bytes) -> None:
        name, data = "", b""
        for line in block.split(b"\n"):
            if line.startswith(b"event: "):
                name = line[7:].decode()
            elif line.startswith(b"data: "):
                data = line[6:]
        if not name:
            return  # heartbeat comment
        result = self.result
        if name == "token" and not result.first_token_s:
            result.first_token_s = time.perf_counter() - self.started
        if not result.conversation_id and b"conversation_id" in data:
            result.conversation_id = str(json.loads(data).get("conversation_id", ""))
        result.last_event = name
        result.events.append(name)
