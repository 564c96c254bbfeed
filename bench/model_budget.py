"""What the daily model budget (ADR 0034) adds to every model-calling request: one ``spend`` (an atomic
RPUSH + LTRIM + EXPIRE on real Redis), as wall time and as this process's CPU time per call, beside the GCRA
rate-limit hit the same request already makes (for scale).

    .venv/bin/python -m bench.model_budget [--n 3000] [--out bench/results/model_budget.json]

``BENCH_REDIS_URL`` (``bench/settings.py``) picks the Redis; keys live under a random prefix and expire.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.security import ROOT, time_async
from bench.settings import BenchSettings
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.adapters.redis_ratelimit import RedisRateLimiter
from workplace_roleplay.domain.model_budget import DailyModelBudget
from workplace_roleplay.ports import SystemClock


async def cpu_per_call(fn: Callable[[], Awaitable[object]], n: int) -> float:
    """Process CPU microseconds per call (client side: what the service pays, not Redis)."""
    started = time.process_time_ns()
    for _ in range(n):
        await fn()
    return round((time.process_time_ns() - started) / n / 1000, 1)


async def run(n: int) -> dict[str, Any]:
    clock = SystemClock()
    namespace = f"bench:{uuid.uuid4().hex}:"
    redis = RedisCache.from_url(BenchSettings().REDIS_URL, timeout_s=1.0, clock=clock, namespace=namespace)
    try:
        # A budget no call reaches, so every spend is the allowed path a request takes.
        budget = DailyModelBudget(redis, clock, per_user=10 * n + 100)
        limiter = RedisRateLimiter(redis.connection, namespace=namespace)
        users = iter(range(10**9))

        async def spend() -> None:
            await budget.spend("bench-user")

        async def hit() -> None:
            await limiter.hit(f"user:bench-{next(users) % 50}:model", limit=10**6, period_s=60)

        results: dict[str, Any] = {}
        for name, fn in (("budget_spend", spend), ("ratelimit_hit", hit)):
            results[name] = {"wall_us": await time_async(fn, n), "cpu_us_per_call": await cpu_per_call(fn, n)}
        return results
    finally:
        await redis.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="calls per case")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "model_budget.json")
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
