"""Server-sent events: framing, heartbeats, and the per-turn replay buffer behind ``Last-Event-ID``.

Every event of a turn is appended to ``stream:{turn_id}`` (Cache port, TTL) as it is sent, with its
id ``{turn_id}.{n}``; a client that lost the connection reconnects with ``Last-Event-ID`` and gets
the events after ``n`` (and the rest live, if the turn is still running elsewhere). The buffer's
first item names the owner, so one learner cannot read another's stream.

Every event after that is sealed with the ALE sealer (tokens and the coaching card retell the learner),
bound to the owner, the turn and its number, so an entry copied into another learner's buffer, another
turn or another place does not open. An entry that does not open (key rotated away, tampered) ends the
replay with an ``error`` event: never garbage, never a 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workplace_roleplay.domain.sealing import TextSealer
from workplace_roleplay.errors import EncryptionError, NotFound
from workplace_roleplay.ports import Cache
from workplace_roleplay.ports.cache_keys import stream_key
from workplace_roleplay.ports.streams import StreamedLine
from workplace_roleplay.web.grammar import parse_event_id_value

log = logging.getLogger("workplace_roleplay.sse")

TERMINAL = frozenset({"done", "error"})
HEARTBEAT = b": ping\n\n"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
RELOAD_JA = "接続が切れました。会話を再読み込みしてください。"


@dataclass(frozen=True, slots=True)
class SseEvent:
    event: str
    data: dict[str, Any]
    id: str = ""
    encoded: str = field(default="", compare=False, repr=False)  # ``data`` as JSON, when already encoded

    def encode(self) -> bytes:
        # JSON never contains a raw newline, so one ``data:`` line carries the whole payload.
        data = self.encoded or json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
        head = f"id: {self.id}\n" if self.id else ""
        return f"{head}event: {self.event}\ndata: {data}\n\n".encode()


def parse_event_id(value: str | None) -> tuple[str, int] | None:
    """``{turn_id}.{n}`` -> (turn_id, n); None for anything else (ASCII only: web/grammar.py)."""
    return parse_event_id_value(value)


async def drop_stream_buffers(cache: Cache, turn_ids: Sequence[str]) -> None:
    """Delete the replay buffers of these turns (their conversation was deleted)."""
    if turn_ids:
        await cache.delete(*(stream_key(t) for t in turn_ids))


class CacheStreamBuffers:
    """The ``StreamBuffers`` port over the cache: dropped with a conversation, read back after a crash."""

    def __init__(self, cache: Cache, *, sealer: TextSealer, ttl_s: int) -> None:
        self.cache, self.sealer, self.ttl_s = cache, sealer, ttl_s

    async def drop(self, turn_ids: Sequence[str]) -> None:
        await drop_stream_buffers(self.cache, turn_ids)

    def _buffer(self, turn_id: str) -> StreamBuffer:
        return StreamBuffer(self.cache, turn_id, ttl_s=self.ttl_s, sealer=self.sealer)

    async def streamed(self, turn_id: str, owner: str) -> StreamedLine | None:
        try:
            events = await self._buffer(turn_id).replay(owner, 0)
        except NotFound:
            return None
        index, text = 0, list[str]()
        for event in events:
            if event.event == "line_done":
                index, text = index + 1, []
            elif event.event == "token":
                text.append(str(event.data.get("text", "")))
        ended = any(event.event in TERMINAL for event in events)
        return StreamedLine(index=index, text="".join(text), ended=ended)

    async def close(self, turn_id: str, owner: str, done: Mapping[str, Any]) -> None:
        buffer = self._buffer(turn_id)
        if await buffer.continue_numbering(owner):
            await buffer.record("done", dict(done))


class StreamBuffer:
    """The replay buffer of one turn's events, each sealed for its owner.

    ``record`` writes one event at once. A turn's stream instead ``stage``s events (numbered and sealed
    at once) and ``flush``es them in batches: one Redis round trip (one MULTI of RPUSH, LTRIM, EXPIRE)
    per batch instead of one per event. An event is sent to the learner only after the flush that
    buffered it, so a resume or a crashed instance never misses what the learner already saw.
    """

    def __init__(self, cache: Cache, turn_id: str, *, ttl_s: int, sealer: TextSealer) -> None:
        self.cache = cache
        self.turn_id = turn_id
        self.key = stream_key(turn_id)
        self.ttl_s = ttl_s
        self.sealer = sealer
        self.seq = 0
        self.owner = ""
        self._staged: list[SseEvent] = []
        self._sealed: list[bytes] = []
        self._flushing = asyncio.Lock()

    def _context(self, owner: str, seq: int) -> str:
        return f"{self.key}#{owner}#{seq}"

    async def open(self, owner: str) -> None:
        """Start an empty buffer for ``owner``: one round trip drops an older one and writes the header."""
        self.owner = owner
        await self.cache.extend(self.key, [json.dumps({"owner": owner}).encode()], ttl=self.ttl_s, fresh=True)

    async def continue_numbering(self, owner: str) -> bool:
        """Append after the events already buffered for ``owner`` (False: no such buffer)."""
        items = await self.cache.read_list(self.key)
        if not items or _owner_of(items[0]) != owner:
            return False
        self.owner, self.seq = owner, len(items) - 1
        return True

    def stage(self, event: str, data: dict[str, Any]) -> SseEvent:
        """Number the event and seal it for the buffer; it is written by the next ``flush``."""
        self.seq += 1
        encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        item = SseEvent(event, data, f"{self.turn_id}.{self.seq}", encoded)
        # The same text as json.dumps({"event": ..., "data": ...}) with these separators, without encoding twice.
        plain = '{"event":' + json.dumps(event, ensure_ascii=False) + ',"data":' + encoded + "}"
        sealed = self.sealer.seal(plain, context=self._context(self.owner, self.seq))
        self._staged.append(item)
        self._sealed.append(json.dumps(sealed).encode())
        return item

    @property
    def staged(self) -> int:
        """How many events wait for the next ``flush``."""
        return len(self._staged)

    async def flush(self) -> list[SseEvent]:
        """Write every staged event in one round trip; returns them (in order) to be sent.

        Flushes never overlap (a lock), so batches reach the buffer in the order they were staged; a
        caller that hands the returned events on before its next ``await`` keeps that order too.
        """
        async with self._flushing:
            events, sealed = self._staged, self._sealed
            if not events:
                return []
            self._staged, self._sealed = [], []
            await self.cache.extend(self.key, sealed, ttl=self.ttl_s)
            return events

    async def record(self, event: str, data: dict[str, Any]) -> SseEvent:
        """Number the event, buffer it sealed (with anything staged before it), and return it ready to send."""
        item = self.stage(event, data)
        await self.flush()
        return item

    async def replay(self, owner: str, after: int) -> list[SseEvent]:
        """Buffered events numbered above ``after``; NotFound for a missing or foreign buffer.

        An entry that does not open ends the list with a terminal ``error`` event.
        """
        items = await self.cache.read_list(self.key)
        if not items or _owner_of(items[0]) != owner:
            raise NotFound("no such stream")
        events: list[SseEvent] = []
        for seq, raw in enumerate(items[1:], start=1):
            if seq <= after:
                continue
            try:
                opened = json.loads(self.sealer.open(json.loads(raw), context=self._context(owner, seq)))
                events.append(SseEvent(str(opened["event"]), dict(opened["data"]), f"{self.turn_id}.{seq}"))
            except (EncryptionError, ValueError, KeyError, TypeError) as exc:
                code = exc.code if isinstance(exc, EncryptionError) else "malformed"
                log.warning("stream buffer entry unreadable", extra={"turn_id": self.turn_id, "error_code": code})
                events.append(SseEvent("error", {"code": "stream_unreadable", "message": RELOAD_JA}))
                break
        return events


def _owner_of(header: bytes) -> str | None:
    try:
        value = json.loads(header)
    except ValueError:
        return None
    owner = value.get("owner") if isinstance(value, dict) else None
    return owner if isinstance(owner, str) else None


async def follow(
    buffer: StreamBuffer, owner: str, after: int, *, poll_s: float, give_up_s: float
) -> AsyncIterator[SseEvent]:
    """Replay, then keep reading the buffer until a terminal event (a turn running on another instance)."""
    waited = 0.0
    seen = after
    while True:
        batch = await buffer.replay(owner, seen)
        for event in batch:
            yield event
            if event.event in TERMINAL:
                return
        seen += len(batch)
        if waited >= give_up_s:
            yield SseEvent("error", {"code": "stream_expired", "message": RELOAD_JA})
            return
        await asyncio.sleep(poll_s)
        waited += poll_s


async def with_heartbeats(
    events: AsyncIterator[SseEvent] | AsyncIterator[Sequence[SseEvent]], *, every_s: float
) -> AsyncIterator[bytes]:
    """Encode events (or batches of events: one chunk, one socket write each), sending a comment when
    nothing else was sent for ``every_s`` seconds."""
    # Cloud Run and proxies end idle responses, so ping while the model (or the coach) is thinking.
    iterator: AsyncIterator[SseEvent | Sequence[SseEvent]] = aiter(events)
    pending: asyncio.Task[SseEvent | Sequence[SseEvent]] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            done, _ = await asyncio.wait({pending}, timeout=every_s)
            if not done:
                yield HEARTBEAT
                continue
            task, pending = pending, None
            try:
                item = task.result()
            except StopAsyncIteration:
                return
            yield item.encode() if isinstance(item, SseEvent) else b"".join(event.encode() for event in item)
    finally:
        if pending is not None:
            pending.cancel()
