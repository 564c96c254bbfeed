"""Concurrent live watch runs on one watch service process (embedded: SQLite, in-process cache and pub/sub)
against the fake Gemini server: each run is started over HTTP, opened over a WebSocket and played to the end of
its line budget.

Reports lines delivered per second (line_done frames received by clients), the time from the previous line's end
(or from ``play``) to the first token of each line, p50/p95 (the line pause is 0, so this is model TTFT plus the
app's work per line), and the process's peak RSS above its idle RSS divided by the number of runs.

    .venv/bin/python -m bench.watch_runs [--runs 200] [--lines 6] [--ttft-ms 50] [--out bench/results/watch_runs.json]

The figures depend on the machine's load; say so when quoting them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.chat_stream import bearer_tokens, chat_service, fake_gemini, peak_rss_mb

PREFIX = "/api/v2/watch"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def one_run(base: str, token: str, first_tokens: list[float], errors: list[str]) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        started = await client.post(f"{PREFIX}/conversations", json={}, headers=headers)
        if started.status_code != 201:
            errors.append(f"start {started.status_code}")
            return 0
        cid = started.json()["id"]
    url = base.replace("http://", "ws://") + f"{PREFIX}/ws/{cid}"
    lines = 0
    async with websockets.connect(url, additional_headers=headers, max_queue=None) as ws:
        await ws.send(json.dumps({"type": "play"}))
        mark, waiting = time.perf_counter(), True
        async with asyncio.timeout(300):
            while True:
                frame = json.loads(await ws.recv())
                event = frame["event"]
                if event == "token" and waiting:
                    first_tokens.append(time.perf_counter() - mark)
                    waiting = False
                elif event == "line_done":
                    lines += 1
                    mark, waiting = time.perf_counter(), True
                elif event == "error":
                    errors.append(frame["data"].get("code", "error"))
                    return lines
                elif event == "state" and frame["data"]["state"] == "budget":
                    return lines


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, fake_gemini(args.ttft_ms) as gemini_url:
        env = {
            "ENV": "local",
            "LOG_LEVEL": "ERROR",
            "GEMINI_API_KEY": "bench-key",
            "GEMINI_BASE_URL": gemini_url,
            "RATE_LIMIT_ENABLED": "false",
            "MODEL_DAILY_BUDGET_USER": "0",  # a load test is not a learner's day (ADR 0034)
            "DATA_DIR": tmp,
            "MEMORY_EVERY_TURNS": "0",
            "MODEL_FIRST_TOKEN_TIMEOUT_S": "60",
            "MODEL_TOTAL_TIMEOUT_S": "120",
            "MODEL_BREAKER_FAILURES": "100",
            "WATCH_LINE_PAUSE_S": "0",
            "WATCH_QUIZ_EVERY": "0",
            "WATCH_LINE_BUDGET": str(args.lines),
            "WATCH_SEND_QUEUE": "100000",
        }
        with chat_service(env, factory="functions.watch.main:create", health=f"{PREFIX}/health") as (base, process):
            tokens = bearer_tokens(args.runs)
            idle_rss = rss_mb(process.pid)
            first_tokens: list[float] = []
            errors: list[str] = []
            began = time.perf_counter()
            lines = await asyncio.gather(*(one_run(base, t, first_tokens, errors) for t in tokens))
            wall = time.perf_counter() - began
            peak = peak_rss_mb(process.pid)
    ordered = sorted(first_tokens)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000, 1) if ordered else 0.0

    return {
        "note": "measured on a loaded, shared 2-core machine (several engineers' test suites running); indicative only",
        "runs": args.runs,
        "lines_per_run": args.lines,
        "fake_model_ttft_ms": args.ttft_ms,
        "lines_delivered": sum(lines),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "wall_s": round(wall, 2),
        "lines_per_s": round(sum(lines) / wall, 1),
        "first_token_per_line_ms_p50": pct(50),
        "first_token_per_line_ms_p95": pct(95),
        "idle_rss_mb": round(idle_rss, 1),
        "peak_rss_mb": round(peak, 1),
        "memory_per_run_mb": round((peak - idle_rss) / args.runs, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--lines", type=int, default=6)
    parser.add_argument("--ttft-ms", type=float, default=50.0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/watch_runs.json"))
    args = parser.parse_args()
    result = asyncio.run(bench(args))
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
