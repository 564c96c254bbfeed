"""What one streamed chat turn does, counted: Redis round trips, store operations and thread hops, socket writes,
log records, metric updates, sealing calls, tasks.

    .venv/bin/python -m bench.turn_inventory [--turns 20] [--coaching]

The chat service runs in this process (uvicorn on the plain asyncio loop so its socket writes can be counted;
real Redis, the SQLite store, the fake Gemini of ``bench.turn_cpu``), the learner is ``bench.load``'s client on
one keep-alive connection; after one opening turn, ``--turns`` sequential turns are counted and the totals
divided by the number of turns. Counting is by wrapping the library functions named in each row, so the figures
are exact for this configuration (no sampling) but say nothing about time: ``bench.turn_cpu`` measures that.
"""

from __future__ import annotations

import argparse
import asyncio
import asyncio.selector_events as selector_events
import functools
import json
import logging
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import prometheus_client.metrics as prom
import redis.asyncio.connection as redis_connection
import uvicorn

from bench.load import Connection
from bench.settings import BenchSettings
from bench.turn_cpu import CHAT_PATH, bearer_tokens, fake_gemini
from tests.support.processes import free_port, wait_http_ok

COUNTS: Counter[str] = Counter()


def count_calls(owner: Any, name: str, label: str, classify: Callable[..., str] | None = None) -> None:
    """Wrap ``owner.name`` (sync or async) so each call adds one to ``label`` (or to ``classify(*args)``)."""
    original = getattr(owner, name)
    if asyncio.iscoroutinefunction(original):

        @functools.wraps(original)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            COUNTS[classify(*args, **kwargs) if classify else label] += 1
            return await original(*args, **kwargs)

        setattr(owner, name, async_wrapper)
        return

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        COUNTS[classify(*args, **kwargs) if classify else label] += 1
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def instrument(server_port: int, model_port: int, redis_port: int) -> None:
    from workplace_roleplay.adapters import field_crypto, sqlite_connections, sqlite_store

    def socket_peer(transport: Any, *_: Any, **__: Any) -> str:
        local = (transport.get_extra_info("sockname") or ("", 0))[1]
        peer = (transport.get_extra_info("peername") or ("", 0))[1]
        if local == server_port:
            return "socket writes: server -> learner"
        if peer == redis_port:
            return "socket writes: -> Redis"
        if peer == model_port:
            return "socket writes: -> model"
        return "socket writes: learner -> server (load generator)"

    # ``writelines`` ends in ``write`` on this transport: counting ``write`` counts every socket write once.
    count_calls(selector_events._SelectorSocketTransport, "write", "", socket_peer)  # type: ignore[attr-defined]
    count_calls(redis_connection.AbstractConnection, "send_packed_command", "Redis round trips (sends)")
    count_calls(
        redis_connection.AbstractConnection,
        "pack_command",
        "",
        lambda _self, *args, **_: f"Redis command {str(args[0]).upper()}",
    )
    store = sqlite_store.SqliteDocumentStore
    for op in ("get", "set", "create", "update", "delete", "query", "run_transaction"):
        count_calls(store, op, f"store {op}")
    count_calls(store, "_run", "thread hops: store worker (_run)")
    count_calls(sqlite_connections.TransactionConnections, "on", "thread hops: transaction pool (on)")
    for name in ("begin", "begin_here"):  # begin_here: on the event loop (this branch)
        if hasattr(sqlite_connections.TransactionConnections, name):
            count_calls(sqlite_connections.TransactionConnections, name, f"transaction BEGIN IMMEDIATE ({name})")
    count_calls(field_crypto.AesGcmFieldCipher, "encrypt", "field cipher encrypt (seal)")
    count_calls(field_crypto.AesGcmFieldCipher, "decrypt", "field cipher decrypt (open)")
    count_calls(logging.Logger, "handle", "", lambda logger, record: f"log records: {logger.name}")
    for cls, op in ((prom.Counter, "inc"), (prom.Gauge, "inc"), (prom.Gauge, "dec"), (prom.Gauge, "set")):
        count_calls(cls, op, f"metric updates: {cls.__name__}.{op}")
    count_calls(prom.Histogram, "observe", "metric updates: Histogram.observe")
    count_calls(prom.MetricWrapperBase, "labels", "metric .labels() lookups")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from functions.chat.main import create
    from workplace_roleplay.settings import ChatSettings

    with tempfile.TemporaryDirectory() as tmp, fake_gemini(300.0, 20.0, {}) as gemini_url:
        port = free_port()
        settings = ChatSettings(
            ENV="local",
            LOG_LEVEL="WARNING",
            GEMINI_API_KEY="bench-key",
            GEMINI_BASE_URL=gemini_url,
            RATE_LIMIT_ENABLED=False,
            DATA_DIR=Path(tmp),
            MEMORY_EVERY_TURNS=0,
            REDIS_URL=BenchSettings().REDIS_URL,
        )
        config = uvicorn.Config(create(settings), host="127.0.0.1", port=port, loop="none", http="httptools",
                                log_level="warning", lifespan="on")  # fmt: skip
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        await asyncio.to_thread(wait_http_ok, f"http://127.0.0.1:{port}{CHAT_PATH}/health", timeout_s=60)
        instrument(port, int(gemini_url.rsplit(":", 1)[1]), int(BenchSettings().REDIS_URL.split(":")[2].split("/")[0]))
        token = bearer_tokens(1)[0]
        conn = Connection("127.0.0.1", port)
        opened = await conn.stream(CHAT_PATH, {"partner_type": "colleague", "coaching": args.coaching}, token)
        assert opened.done, opened
        await asyncio.sleep(0.5)  # let the opening's after-work settle
        COUNTS.clear()
        events: Counter[str] = Counter()
        for n in range(args.turns):
            body = {
                "conversation_id": opened.conversation_id,
                "message": f"週末は散歩をしました（{n}）",
                "client_message_id": uuid.uuid4().hex,
                "coaching": args.coaching,
            }
            result = await conn.stream(CHAT_PATH, body, token)
            assert result.done, result
            events.update(result.events)
        await asyncio.sleep(0.5)
        counted = dict(COUNTS)
        await conn.close()
        server.should_exit = True
        await serving
    per_turn = {k: round(v / args.turns, 2) for k, v in sorted(counted.items())}
    return {"turns": args.turns, "coaching": args.coaching, "sse_events_per_turn": dict(events), "per_turn": per_turn}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--coaching", action="store_true")
    parser.add_argument("--label", default="", help="also write bench/results/turn_inventory-<label>.json")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    result["sse_events_per_turn"] = {k: v / args.turns for k, v in result["sse_events_per_turn"].items()}
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.label:
        (Path(__file__).parent / "results" / f"turn_inventory-{args.label}.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
