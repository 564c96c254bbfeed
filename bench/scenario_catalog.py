"""What building the scenario catalog costs at startup, and what a list request costs in process.

``yaml`` parses and validates every scenario file (a cold instance with an empty cache); ``cache_hit``
reads ``scenario_cache:catalog:{digest}`` from Redis and validates the JSON (every later instance);
``search`` is the in-process filtering a list request does (the catalog is never re-parsed per request).

    .venv/bin/python -m bench.scenario_catalog [--n 30] [--out bench/results/scenario_catalog.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import uuid
from pathlib import Path

from bench.security import ROOT, time_async, time_sync
from bench.settings import BenchSettings
from workplace_roleplay.adapters.redis_cache import RedisCache
from workplace_roleplay.domain.scenario.catalog import ScenarioQuery, load_catalog, load_catalog_cached
from workplace_roleplay.domain.scenario.model import Category
from workplace_roleplay.domain.scenario.roster import load_roster
from workplace_roleplay.ports import SystemClock


async def run(n: int) -> dict[str, object]:
    roster = load_roster()
    catalog = load_catalog(roster=roster)
    cache = RedisCache.from_url(
        BenchSettings().REDIS_URL, timeout_s=1.0, clock=SystemClock(), namespace=f"bench:{uuid.uuid4().hex[:8]}:"
    )
    try:
        await load_catalog_cached(cache, roster=roster)  # fills the entry

        async def cached() -> None:
            _, hit = await load_catalog_cached(cache, roster=roster)
            assert hit

        results = {
            "scenarios": len(catalog),
            "yaml": time_sync(lambda: load_catalog(roster=roster), n),
            "cache_hit": await time_async(cached, n),
            "search": time_sync(lambda: catalog.search(ScenarioQuery(category=Category.REGULAR, text="報告")), n * 100),
        }
        await cache.delete_prefix("scenario_cache:")
    finally:
        await cache.close()
    return {"python": platform.python_version(), "machine": platform.machine(), "results": results}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scenario_catalog.json")
    args = parser.parse_args()
    report = asyncio.run(run(args.n))
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
