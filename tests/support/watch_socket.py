"""A real WebSocket client of the watch service for integration tests (the ``websockets`` library)."""

from __future__ import annotations

import asyncio
import json
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


async def stored_lines(client: httpx.AsyncClient, headers: dict[str, str], cid: str) -> list[tuple[str, str]]:
    detail = (await client.get(f"{PREFIX}/conversations/{cid}", headers=headers)).json()
    return [(m["speaker"], m["text"]) for m in detail["messages"]]
