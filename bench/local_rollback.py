"""How fast a rollback takes effect on the local nginx stack under load, and whether any request is lost.

Starts ``make stack``'s runner (embedded SQLite store, a candidate ``chat`` process), then repeats:
``ops canary chat 10`` → load on ``/api/v2/chat/health`` with N concurrent clients → ``ops rollback
chat`` while the load runs. Per run it records the time from starting the command until the last
request answered by the candidate was sent (the rollback's effect), the command's own duration, the
nginx part (render + ``nginx -t`` + reload + wait for the new workers, as the command reports it),
and failed requests.

    .venv/bin/python -m bench.local_rollback [--runs 10] [--levels 8 32] [--out bench/results/local_rollback.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import free_port
from tools.ops.processes import health_version

ROOT = Path(__file__).resolve().parents[1]
PATH = "/api/v2/chat/health"
CANDIDATE = "chat-candidate"


def ops(run_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STACK_DIR": str(run_dir)}
    command = [sys.executable, "-m", "tools.ops", *args, "--env", "local"]
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {result.stderr}")
    return result


async def one_run(base: str, run_dir: Path, workers: int) -> dict[str, Any]:
    ops(run_dir, "canary", "chat", "10", "--revision", CANDIDATE)
    samples: list[tuple[float, str | None]] = []
    stop_at = [time.perf_counter() + 60]
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:

        async def worker() -> None:
            while time.perf_counter() < stop_at[0]:
                sent = time.perf_counter()
                try:
                    response = await client.get(base + PATH)
                    version = str(response.json()["version"]) if response.status_code == 200 else None
                except httpx.HTTPError:
                    version = None
                samples.append((sent, version))

        load = asyncio.gather(*(worker() for _ in range(workers)))
        await asyncio.sleep(1.0)
        began = time.perf_counter()
        done = await asyncio.to_thread(ops, run_dir, "rollback", "chat")
        ended = time.perf_counter()
        stop_at[0] = time.perf_counter() + 1.0
        await load
    last_candidate = max((sent for sent, version in samples if version == CANDIDATE), default=began)
    reload_ms = float(done.stdout.split("took effect in ")[1].split(" ms")[0])
    return {
        "requests": len(samples),
        "failed": sum(1 for _, version in samples if version is None),
        "effect_s": round(max(0.0, last_candidate - began), 3),
        "command_s": round(ended - began, 3),
        "nginx_ms": reload_ms,
        "candidate_after_command": sum(1 for sent, v in samples if sent > ended and v == CANDIDATE),
    }


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def stats(key: str) -> dict[str, float]:
        values = [float(r[key]) for r in runs]
        return {"p50": round(statistics.median(values), 3), "max": round(max(values), 3)}

    return {
        "runs": len(runs),
        "requests": sum(r["requests"] for r in runs),
        "failed": sum(r["failed"] for r in runs),
        "candidate_after_command": sum(r["candidate_after_command"] for r in runs),
        "effect_s": stats("effect_s"),
        "command_s": stats("command_s"),
        "nginx_ms": stats("nginx_ms"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--levels", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "local_rollback.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rollback-bench-") as tmp:
        run_dir = Path(tmp)
        port = free_port()
        env = {**os.environ, "STACK_DIR": tmp, "PORT": str(port), "STACK_STORE": "sqlite", "STACK_CANDIDATES": "chat"}
        stack = subprocess.Popen(
            [sys.executable, "-m", "tools.ops", "stack"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while not ((run_dir / "stack.json").exists() and health_version(base + PATH)):
                if stack.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the local stack did not start")
                time.sleep(0.2)
            results: dict[str, Any] = {"path": PATH, "cpu_count": os.cpu_count(), "levels": []}
            for workers in args.levels:
                runs = [asyncio.run(one_run(base, run_dir, workers)) for _ in range(args.runs)]
                results["levels"].append({"concurrency": workers, **summary(runs), "each": runs})
                print(json.dumps({"concurrency": workers, **summary(runs)}), flush=True)
        finally:
            stack.send_signal(signal.SIGINT)
            stack.wait(timeout=30)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
