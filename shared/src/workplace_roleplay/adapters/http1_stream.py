"""A minimal HTTP/1.1 client for one job: POST a JSON body and read the streamed answer (ADR 0030).

The streamed conversation line is the hottest outbound call of a turn: twenty-odd chunks, each of which
httpx2 passes through anyio, httpcore, h11 and its decoders (≈ 3.3 ms of CPU per streamed reply against
≈ 1.3 ms here, ``bench/results/PERFORMANCE.md``). This client speaks just what Gemini's
``streamGenerateContent?alt=sse`` needs over asyncio streams: one request with ``Content-Length``, a status
line and headers, a chunked, sized or until-close body, ``Accept-Encoding: identity`` so nothing needs
decoding, keep-alive connections per origin (idle ones dropped after ``keepalive_s``), TLS with the same
context httpx2 would build. Proxies are not spoken: ``GeminiStreamer`` keeps httpx2 when one is configured.

Errors are the builtins (``OSError``, ``TimeoutError``, ``asyncio.IncompleteReadError``) or
``ProtocolError``; ``gemini_stream.transport_error`` maps them into our error tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_MAX_LINE = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.1 as this client reads it."""


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        return self.host if _DEFAULT_PORTS.get(self.scheme) == self.port else f"{self.host}:{self.port}"


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def usable(self, now: float, keepalive_s: float) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing() and now - self.idle_since < keepalive_s

    def close(self) -> None:
        self.writer.close()


@dataclass(slots=True)
class Response:
    """A response whose body is read with ``chunks`` (or ``read``); close it with ``aclose``."""

    status: int
    headers: dict[str, str]
    _conn: _Connection
    _release: Callable[[_Connection, bool], None]
    _keep_alive: bool
    _done: bool = field(default=False)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives (de-chunked); the connection goes back to the pool once it is read to its end."""
        reader = self._conn.reader
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            while True:
                size_line = await reader.readuntil(b"\r\n")
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ProtocolError("bad chunk size") from None
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the empty line
                        pass
                    break
                data = await reader.readexactly(size + 2)
                if data[-2:] != b"\r\n":
                    raise ProtocolError("chunk without its CRLF")
                yield data[:-2]
        elif "content-length" in self.headers:
            try:
                remaining = int(self.headers["content-length"])
            except ValueError:
                raise ProtocolError("bad content-length") from None
            while remaining > 0:
                data = await reader.read(min(remaining, 65536))
                if not data:
                    raise asyncio.IncompleteReadError(b"", remaining)
                remaining -= len(data)
                yield data
        else:
            self._keep_alive = False  # the body ends when the server closes the connection
            while data := await reader.read(65536):
                yield data
        self._done = True

    async def read(self) -> bytes:
        return b"".join([data async for data in self.chunks()])

    def aclose(self) -> None:
        """Give the connection back when the body was read to its end on a keep-alive connection, else close it."""
        self._release(self._conn, self._done and self._keep_alive)


class StreamingHttp1:
    """Keep-alive HTTP/1.1 connections per origin, for POSTs whose answers are streamed."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        connect_timeout_s: float,
        read_timeout_s: float,
        max_idle: int = 100,
        keepalive_s: float = 5.0,
    ) -> None:
        self._ssl = ssl_context
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._max_idle = max_idle
        self._keepalive_s = keepalive_s
        self._idle: dict[Origin, list[_Connection]] = {}
        self._closed = False

    async def _connect(self, origin: Origin) -> _Connection:
        now = time.monotonic()
        idle = self._idle.get(origin, [])
        while idle:
            conn = idle.pop()
            if conn.usable(now, self._keepalive_s):
                return conn
            conn.close()
        async with asyncio.timeout(self._connect_timeout_s):
            reader, writer = await asyncio.open_connection(
                origin.host,
                origin.port,
                ssl=self._ssl if origin.scheme == "https" else None,
                server_hostname=origin.host if origin.scheme == "https" else None,
                limit=_MAX_LINE,
            )
        return _Connection(reader, writer)

    def _release(self, origin: Origin, conn: _Connection, reusable: bool) -> None:
        idle = self._idle.setdefault(origin, [])
        if reusable and not self._closed and len(idle) < self._max_idle:
            conn.idle_since = time.monotonic()
            idle.append(conn)
        else:
            conn.close()

    @contextlib.asynccontextmanager
    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> AsyncIterator[Response]:
        """POST ``body`` to ``url``; yields the response once its headers have arrived."""
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"unsupported URL {url!r}")
        origin = Origin(parts.scheme, parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme])
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"POST {target} HTTP/1.1", f"Host: {origin.host_header}"]
        for name, value in {**headers, "Accept-Encoding": "identity", "Content-Length": str(len(body))}.items():
            if any(c in name or c in value for c in "\r\n"):
                raise ValueError(f"header {name!r} contains a line break")
            lines.append(f"{name}: {value}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        conn = await self._connect(origin)
        response: Response | None = None
        try:
            conn.writer.write(head + body)
            async with asyncio.timeout(self._read_timeout_s):
                await conn.writer.drain()
                status, fields = await _read_head(conn.reader)
            keep_alive = fields.get("connection", "").lower() != "close"
            response = Response(status, fields, conn, functools.partial(self._release, origin), keep_alive)
            yield response
        finally:
            if response is not None:
                response.aclose()
            else:
                conn.close()
            if conn.writer.is_closing():
                # Let the socket really close now (asyncio finishes a close on its next loop turn): the server
                # sees an abandoned call dropped at once even if the caller blocks right after.
                with contextlib.suppress(Exception):
                    await conn.writer.wait_closed()

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    status_line = await reader.readuntil(b"\r\n")
    version, _, rest = status_line.decode("latin-1").partition(" ")
    if not version.startswith("HTTP/1."):
        raise ProtocolError(f"unexpected status line {status_line[:40]!r}")
    try:
        status = int(rest.split(" ", 1)[0])
    except ValueError:
        raise ProtocolError(f"unexpected status line {status_line[:40]!r}") from None
    fields: dict[str, str] = {}
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise ProtocolError("header line without a colon")
        key = name.strip().lower()
        fields[key] = f"{fields[key]}, {value.strip()}" if key in fields else value.strip()
    if status < 200:  # an interim answer (100 Continue): the real one follows
        return await _read_head(reader)
    return status, fields
