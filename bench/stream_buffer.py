"""Per-event cost of sealing the SSE replay buffer: plain vs ALE-sealed entries, in-process cache and real Redis.

``record`` is what every streamed event pays before it is sent (serialise, seal, append); ``replay`` is what a
``Last-Event-ID`` resume pays per buffered event (read the list, open, parse). Events are a 4-character token
(the common case) and a coaching card (``analysis``, ~300 bytes). Medians and p95 in microseconds.

    .venv/bin/python -m bench.stream_buffer [--n 3000] [--out bench/results/stream_buffer.json]

``BENCH_REDIS_URL`` (``bench/settings.py``) picks the Redis; keys live under a random prefix and are deleted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import uuid
from pathlib import Path
from typing import Any

from bench.security import ROOT, time_async, time_sync
from bench.settings import BenchSettings
from workplace_roleplay.adapters.field_crypto import AesGcmFieldCipher
from workplace_roleplay.adapters.memory_cache import MemoryCache
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.domain.identity.encrypted_fields import CipherSealer
from workplace_roleplay.domain.sealing import PlainSealer, TextSealer
from workplace_roleplay.ports import Cache, SystemClock
from workplace_roleplay.web.sse import StreamBuffer

TOKEN: dict[str, Any] = {"text": "承知しま"}
ANALYSIS: dict[str, Any] = {
    "message_id": "t" + "0" * 31 + "-l",
    "feeling": "少し緊張しているようです",
    "keigo": "先輩に対して適切な丁寧語です",
    "advice": "結論を先に伝えると、相手が状況をすぐに把握できます。",
    "better_phrasing": "資料の数字に誤りがありました。申し訳ありません。修正版を本日中にお送りします。",
    "model": "coach-model",
    "simple_mode": False,
}
REPLAY_EVENTS = 60  # a long reply streamed in small tokens, plus start / analysis / done


async def measure(cache: Cache, sealer: TextSealer, n: int) -> dict[str, Any]:
    turn = uuid.uuid4().hex
    buffer = StreamBuffer(cache, turn, ttl_s=300, sealer=sealer)
    await buffer.open("u1")

    async def record_token() -> None:
        # Keep the list short so Redis' LTRIM cap never kicks in and skews the numbers.
        if buffer.seq >= 900:
            await buffer.open("u1")
            buffer.seq = 0
        await buffer.record("token", TOKEN)

    async def record_analysis() -> None:
        if buffer.seq >= 900:
            await buffer.open("u1")
            buffer.seq = 0
        await buffer.record("analysis", ANALYSIS)

    out: dict[str, Any] = {
        "record_token": await time_async(record_token, n),
        "record_analysis": await time_async(record_analysis, n),
    }
    replay = StreamBuffer(cache, turn + "r", ttl_s=300, sealer=sealer)
    await replay.open("u1")
    for _ in range(REPLAY_EVENTS):
        await replay.record("token", TOKEN)
    whole = await time_async(lambda: replay.replay("u1", 0), max(50, n // 20))
    out["replay_per_event"] = {k: round(v / REPLAY_EVENTS, 2) if k != "n" else v for k, v in whole.items()}
    await cache.delete(buffer.key, replay.key)
    return out


def crypto_only(sealer: CipherSealer, n: int) -> dict[str, Any]:
    plain = json.dumps({"event": "token", "data": TOKEN}, ensure_ascii=False, separators=(",", ":"))
    sealed = sealer.seal(plain, context="stream:t#u1#1")
    return {
        "seal_token": time_sync(lambda: sealer.seal(plain, context="stream:t#u1#1"), n),
        "open_token": time_sync(lambda: sealer.open(sealed, context="stream:t#u1#1"), n),
        "entry_bytes_plain": len(plain.encode()),
        "entry_bytes_sealed": len(json.dumps(sealed).encode()),
    }


async def run(n: int) -> dict[str, Any]:
    cipher = CipherSealer(AesGcmFieldCipher(primary_kid="k1", keys={"k1": os.urandom(32)}))
    clock = SystemClock()
    results: dict[str, Any] = {"crypto_only": crypto_only(cipher, n * 5)}
    redis = RedisCache.from_url(
        BenchSettings().REDIS_URL, timeout_s=1.0, clock=clock, namespace=f"bench:{uuid.uuid4().hex}:"
    )
    try:
        for backend, cache in (("memory", MemoryCache(clock=clock)), ("redis", redis)):
            for mode, sealer in (("plain", PlainSealer()), ("sealed", cipher)):
                results[f"{backend}_{mode}"] = await measure(cache, sealer, n)
    finally:
        await redis.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="events recorded per case")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "stream_buffer.json")
    args = parser.parse_args()
    results = asyncio.run(run(args.n))
    report = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "note": "shared machine (other test runs in parallel): compare rows, not absolute numbers",
        "results": results,
    }
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
