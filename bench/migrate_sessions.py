"""Bulk legacy-session migration in embedded mode: N sessions written by real Flask-Session (filesystem),
migrated by ``ops migrate-sessions --env local`` into the embedded SQLite store (inline queue).

    .venv/bin/python -m bench.migrate_sessions [--n 500] [--out bench/results/migrate_sessions.json]

Reports sessions/s and messages/s of the migration itself (seeding is not timed), and of the dry run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
from pathlib import Path

from tests.support.legacy import filesystem_legacy, realistic_counts, realistic_session


async def measure(n: int, root: Path) -> dict[str, object]:
    from tools.ops.migrate_sessions import migrate_embedded
    from workplace_roleplay.settings import MigrateSessionSettings

    legacy = filesystem_legacy(root / "flask_session")
    for i in range(n):
        legacy.seed(realistic_session(user_id=f"00000000-0000-4000-8000-{i:012d}" if i % 2 else None, seed=i))
    settings = MigrateSessionSettings(
        ENV="test",
        LOG_JSON=False,
        STORE_BACKEND="sqlite",
        DATA_DIR=root / "data",
        REDIS_URL=None,
        LEGACY_SESSION_SOURCE=f"filesystem:{root / 'flask_session'}",
        TASKS_BACKEND="inline",
    )
    dry = await migrate_embedded(settings, dry=True, out=lambda _: None)
    real = await migrate_embedded(settings, dry=False, out=lambda _: None)
    messages = n * realistic_counts()[1]
    return {
        "sessions": n,
        "messages": messages,
        "dry_run_s": round(dry.seconds, 3),
        "dry_run_sessions_per_s": round(dry.rate, 1),
        "migrate_s": round(real.seconds, 3),
        "migrate_sessions_per_s": round(real.rate, 1),
        "migrate_messages_per_s": round(messages / real.seconds, 1),
        "results": dict(real.results),
        "store": "sqlite (embedded)",
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, shared",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("bench/results/migrate_sessions.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(measure(args.n, Path(tmp)))
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
