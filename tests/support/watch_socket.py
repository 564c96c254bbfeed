"""A real WebSocket client of the watch service for integration tests (the ``websockets`` library)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket as sockets
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from tests.support.watch_server import PREFIX, WatchServer


def ws_url(server: WatchServer, cid: str, **query: str) -> str:
    url = server.url.replace("http://", "ws://") + f"{PREFIX}/ws/{cid}"
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@asynccontextmanager
async def socket(
    server: WatchServer, cid: str, headers: dict[str, str], **query: str
) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(ws_url(server, cid, **query), additional_headers=headers) as ws:
        yield ws


async def send(ws: ClientConnection, **message: Any) -> None:
    await ws.send(json.dumps(message))


async def read_until(ws: ClientConnection, stop: Any, *, timeout_s: float = 15.0) -> list[dict[str, Any]]:
    """Frames until ``stop(frame)`` is true (that frame included)."""
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout_s):
        while True:
            frame = json.loads(await ws.recv())
            frames.append(frame)
            if stop(frame):
                return frames


def state_is(name: str) -> Any:
    return lambda f: f["event"] == "state" and f["data"]["state"] == name


def lines_done(frames: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(f["data"]["speaker"], f["data"]["text"]) for f in frames if f["event"] == "line_done"]


def nth_line_done(n: int) -> Any:
    """A ``read_until`` stop: true at the ``n``-th ``line_done`` frame."""
    seen = {"count": 0}

    def stop(frame: dict[str, Any]) -> bool:
        seen["count"] += frame["event"] == "line_done"
        return seen["count"] >= n

    return stop


async def stored_lines(client: httpx.AsyncClient, headers: dict[str, str], cid: str) -> list[tuple[str, str]]:
    detail = (await client.get(f"{PREFIX}/conversations/{cid}", headers=headers)).json()
    return [(m["speaker"], m["text"]) for m in detail["messages"]]


class StalledClient:
    """A WebSocket client that opens the socket (a real handshake over a raw TCP socket with a small receive
    buffer) and then stops reading, like a phone that went to sleep; ``frames()`` later reads what the server
    sent, up to and including its close frame. Blocking: build it and read it from a thread."""

    def __init__(self, server: WatchServer, cid: str, headers: dict[str, str], *, receive_buffer: int = 4096) -> None:
        host, port = server.url.removeprefix("http://").split(":")
        self.sock = sockets.socket(sockets.AF_INET, sockets.SOCK_STREAM)
        self.sock.setsockopt(sockets.SOL_SOCKET, sockets.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(10)
        self.sock.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {PREFIX}/ws/{cid} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.sock.recv(1)
        status = response.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise RuntimeError(f"handshake refused: {status!r}")

    def send(self, message: dict[str, Any]) -> None:
        """One masked text frame (clients must mask)."""
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert len(payload) < 126
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError("the server closed the connection without a close frame")
            data += chunk
        return data

    def frames(self) -> tuple[list[dict[str, Any]], int]:
        """Every text frame the server sent, and the code of its close frame."""
        texts: list[dict[str, Any]] = []
        while True:
            first, second = self._exact(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._exact(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._exact(8))[0]
            payload = self._exact(length)
            opcode = first & 0x0F
            if opcode == 0x1:
                texts.append(json.loads(payload))
            elif opcode == 0x8:
                return texts, struct.unpack("!H", payload[:2])[0]

    def close(self) -> None:
        self.sock.close()
