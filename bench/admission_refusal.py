"""CPU the chat service spends on a turn it refuses because it is at capacity (503 ``server_busy``).

    .venv/bin/python -m bench.admission_refusal [--label after] [--requests 3000] [--concurrency 50]

The chat service runs as the image runs it (uvicorn, real Redis, SQLite store) with ``ADMISSION_MAX_IN_FLIGHT=1``;
one turn holds the slot (the fake model never sends its first token), then ``--requests`` turns of signed-in
learners (valid token, valid body, keep-alive connections, ``--concurrency`` at once) are all refused. Reports
the server's CPU-ms per refusal (``/proc/<pid>/stat``, all threads, idle CPU subtracted), refusals per second
and the refusal's latency p50/p95. Results: ``bench/results/admission_refusal-<label>.json`` and ``.md``.
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

from bench.load import Connection
from bench.settings import BenchSettings
from bench.turn_cpu import CHAT_PATH, RESULTS, bearer_tokens, cpu_seconds, fake_gemini, loadavg, percentile, server


async def refuse(port: int, pid: int, tokens: list[str], requests: int, concurrency: int) -> dict[str, Any]:
    holder = Connection("127.0.0.1", port)
    held = asyncio.create_task(holder.stream(CHAT_PATH, {"partner_type": "colleague"}, tokens[0]))
    await asyncio.sleep(1.0)  # the holder's turn is waiting for the model's first token
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    queue = iter(range(requests))

    async def worker(index: int) -> None:
        conn = Connection("127.0.0.1", port)
        token = tokens[1 + index % (len(tokens) - 1)]
        try:
            for _ in queue:
                started = time.perf_counter()
                result = await conn.stream(CHAT_PATH, {"partner_type": "colleague"}, token)
                latencies.append(time.perf_counter() - started)
                statuses[result.status] = statuses.get(result.status, 0) + 1
        finally:
            await conn.close()

    idle_before = cpu_seconds(pid)
    await asyncio.sleep(2.0)
    idle_per_s = (cpu_seconds(pid) - idle_before) / 2.0
    cpu_before, started = cpu_seconds(pid), time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu_before - idle_per_s * elapsed
    held.cancel()
    await holder.close()
    refused = statuses.get(503, 0)
    return {
        "requests": requests,
        "concurrency": concurrency,
        "statuses": statuses,
        "cpu_ms_per_refusal": round(1000 * cpu / max(1, refused), 3),
        "refusals_per_s": round(refused / elapsed, 1),
        "latency_ms_p50": percentile(latencies, 50),
        "latency_ms_p95": percentile(latencies, 95),
        "idle_cpu_ms_per_s": round(1000 * idle_per_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--label", default="latest")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, Any] = {"label": args.label, "loadavg_before": loadavg(), "runs": []}
    with tempfile.TemporaryDirectory() as tmp, fake_gemini(600_000, 20, {}) as gemini_url:
        extra = {"ADMISSION_MAX_IN_FLIGHT": "1", "MODEL_FIRST_TOKEN_TIMEOUT_S": "600"}
        with server("service", gemini_url, Path(tmp), BenchSettings().REDIS_URL, extra) as (port, pid):
            tokens = bearer_tokens(args.concurrency + 1)
            httpx.get(f"http://127.0.0.1:{port}{CHAT_PATH}/ready", timeout=10)
            for _ in range(args.repeat):
                run = asyncio.run(refuse(port, pid, tokens, args.requests, args.concurrency))
                print(run, flush=True)
                results["runs"].append(run)
    results["loadavg_after"] = loadavg()
    best = min(results["runs"], key=lambda r: r["cpu_ms_per_refusal"])
    results["best"] = best
    lines = [
        f"`{args.label}`: load average {' '.join(results['loadavg_before'])} → {' '.join(results['loadavg_after'])}; "
        f"{args.requests} refused turns at c={args.concurrency}, {args.repeat} runs (one slot held)",
        "",
        "| run | CPU ms per refusal | refusals/s | latency p50 / p95 ms | statuses |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {i + 1} | {r['cpu_ms_per_refusal']} | {r['refusals_per_s']} | {r['latency_ms_p50']} / "
        f"{r['latency_ms_p95']} | {r['statuses']} |"
        for i, r in enumerate(results["runs"])
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"admission_refusal-{args.label}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"admission_refusal-{args.label}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
