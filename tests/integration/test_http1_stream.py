"""The minimal HTTP/1.1 client of the model stream (``adapters/http1_stream.py``) against real sockets.

A small asyncio server plays the answers Gemini's front end may give (chunked, sized, until close, with and
without keep-alive, over TLS) and records what it received, so framing, connection reuse and dropping are
checked on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx2
import pytest

from tests.support.tls import make_tls_files
from workplace_roleplay.adapters.gemini_stream import SseLines, transport_error
from workplace_roleplay.adapters.http1_stream import ProtocolError, StreamingHttp1
from workplace_roleplay.errors import ModelOverloaded

pytestmark = pytest.mark.integration

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]  # True: keep the connection


class Server:
    """Reads one request at a time (head + Content-Length body), answers with ``answer``."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.connections = 0
        self.closed = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                headers: dict[str, str] = {}
                while (h := await reader.readline()) != b"\r\n":
                    name, _, value = h.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((line.decode().strip(), headers, body))
                if not await self.answer(reader, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()
            self.closed.set()


@contextlib.asynccontextmanager
async def serve(answer: Answer, tls: ssl.SSLContext | None = None) -> AsyncIterator[tuple[Server, str]]:
    server = Server(answer)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield server, f"{'https' if tls else 'http'}://localhost:{port}/v1/models/m:streamGenerateContent?alt=sse"
    finally:
        listener.close()


def client(context: ssl.SSLContext | None = None) -> StreamingHttp1:
    return StreamingHttp1(ssl_context=context or httpx2.create_ssl_context(), connect_timeout_s=2.0, read_timeout_s=2.0)


def chunked(*pieces: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    return head + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


async def sse_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    writer.write(chunked(b'data: {"n": 1}\r\n\r\n', b'data: {"n"', b": 2}\r\n\r\n"))
    await writer.drain()
    return True


async def test_a_chunked_stream_is_read_and_its_connection_reused() -> None:
    async with serve(sse_answer) as (server, url):
        http = client()
        for _ in range(2):
            async with http.post(url, b'{"a":1}', {"Content-Type": "application/json", "x-goog-api-key": "k"}) as r:
                assert r.status == 200
                lines = SseLines()
                events = [e for raw in [c async for c in r.chunks()] for e in lines.feed(raw)]
                assert events == [b'{"n": 1}', b'{"n": 2}']
        await http.aclose()
        assert server.connections == 1
        line, headers, body = server.requests[0]
        assert line == "POST /v1/models/m:streamGenerateContent?alt=sse HTTP/1.1"
        assert headers["host"] == url.split("/")[2]
        assert headers["x-goog-api-key"] == "k"
        assert headers["accept-encoding"] == "identity"
        assert headers["content-length"] == "7"
        assert body == b'{"a":1}'


async def test_a_sized_error_answer_is_read_and_a_close_delimited_body_is_not_reused() -> None:
    answers = iter(
        [
            b'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 18\r\n\r\n{"error": {"a":1}}',
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
            b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
        ]
    )

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(next(answers))
        await writer.drain()
        return len(server.requests) != 2  # the second answer ends with the connection

    async with serve(answer) as (server, url):
        http = client()
        async with http.post(url, b"{}", {}) as r:
            assert (r.status, r.headers["retry-after"]) == (429, "3")
            assert await r.read() == b'{"error": {"a":1}}'
        async with http.post(url, b"{}", {}) as r:
            assert await r.read() == b"until the end"
        async with http.post(url, b"{}", {}) as r:  # the closed connection was not pooled: a new one
            assert r.status == 204
        assert server.connections == 2
        await http.aclose()


async def test_a_stream_left_half_read_drops_its_connection() -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await reader.read()  # until the client goes away
        return False

    async with serve(endless) as (server, url):
        http = client()
        async with http.post(url, b"{}", {}) as r:
            async for first in r.chunks():
                assert first == b"first"
                break
        await asyncio.wait_for(server.closed.wait(), 2)
        await http.aclose()


async def test_stale_keep_alive_connections_are_not_reused() -> None:
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        return False  # the server closes the idle connection right after

    async with serve(once) as (server, url):
        http = client()
        for _ in range(2):
            async with http.post(url, b"{}", {}) as r:
                assert await r.read() == b"ok"
            await asyncio.sleep(0.05)
        assert server.connections == 2
        await http.aclose()


async def test_broken_framing_and_header_injection_are_refused() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        await writer.drain()
        return False

    async with serve(garbage) as (_server, url):
        http = client()
        with pytest.raises(ProtocolError) as raised:
            async with http.post(url, b"{}", {}) as r:
                await r.read()
        assert isinstance(transport_error(raised.value), ModelOverloaded)
        with pytest.raises(ValueError, match="line break"):
            async with http.post(url, b"{}", {"x-goog-api-key": "k\r\nEvil: 1"}):
                pass
        await http.aclose()


async def test_tls_is_verified_against_the_trusted_authority(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path)
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(files.cert, files.key)
    async with serve(sse_answer, tls=server_side) as (_server, url):
        trusting = ssl.create_default_context(cafile=str(files.ca_cert))
        http = client(trusting)
        async with http.post(url, b"{}", {}) as r:
            assert b"".join([c async for c in r.chunks()]).count(b"data:") == 2
        await http.aclose()
        untrusting = client()  # the system's authorities do not know the test CA
        with pytest.raises(ssl.SSLError):
            async with untrusting.post(url, b"{}", {}):
                pass
        await untrusting.aclose()
