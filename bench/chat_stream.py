"""Streamed chats through the chat service at concurrency 1, 10 and 100, against the fake Gemini server.

The fake answers with a fixed time to first token (``--ttft-ms``); the service runs as its own
uvicorn process in one of two modes:

- ``embedded``: SQLite store, in-process cache (what ``make run`` uses);
- ``stack``: Firestore emulator store, real Redis (what the cloud looks like, locally);
- ``stack-cluster``: the same on a local three-primary Redis Cluster (``REDIS_MODE=cluster``).

Every chat opens a conversation (the partner's opening line, streamed) and sends ``--turns`` learner
lines, each streamed. For every streamed call it measures the time to the first ``token`` event
(TTFB as the learner feels it); the overhead of the app is that minus the model's TTFT. Reports
p50/p95/p99 of the overhead, streamed calls per second, errors, and the service's peak RSS.

    .venv/bin/python -m bench.chat_stream [--modes embedded stack] [--levels 1 10 100] [--out ...]

``BENCH_REDIS_URL`` (``bench/settings.py``) points ``stack`` mode at another Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.settings import BenchSettings
from tests.support.firestore_emulator import FirestoreEmulatorSettings, start_emulator
from tests.support.processes import free_port, wait_http_ok
from tools.ops.redis_cluster import LocalCluster
from workplace_roleplay.bootstrap import build_security
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.settings import ChatSettings

ROOT = Path(__file__).resolve().parents[1]
# stack: one Redis (BENCH_REDIS_URL); stack-cluster: a local three-primary Redis Cluster the bench starts.
STACK_MODES = ("stack", "stack-cluster")
REPLY = "いいですね。私も週末はよく散歩をしています。最近どこかへ出かけましたか？"


@contextmanager
def fake_gemini(ttft_ms: float) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.fake_gemini", "--port", "0", "--ttft-ms", str(ttft_ms), "--text", REPLY],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    try:
        yield line.removeprefix("fake_gemini listening on ")
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def chat_service(
    env: dict[str, str], *, factory: str = "functions.chat.main:create", health: str = "/api/v2/chat/health"
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    log_path = Path(env["DATA_DIR"]) / "chat.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "--factory", factory,
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_http_ok(f"{base}{health}", timeout_s=60, process=process)
        except AssertionError as exc:
            raise SystemExit(f"{exc}\n{log_path.read_text(errors='replace')[-3000:]}") from None
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bearer_tokens(count: int) -> list[str]:
    """Access tokens the service accepts (ENV=local derives the same dev keys in both processes)."""
    security = build_security(ChatSettings(ENV="local"), store=None, clock=SystemClock())  # type: ignore[arg-type]
    now = time.time()
    return [
        security.tokens.issue(user_id=f"bench-{uuid.uuid4().hex[:12]}", family_id=uuid.uuid4().hex, now=now)[0]
        for _ in range(count)
    ]


async def streamed_call(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> tuple[float, str, str]:
    """(seconds to the first token event, conversation id, final event name)."""
    started = time.perf_counter()
    first = 0.0
    conversation_id, last = "", ""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with client.stream("POST", "/api/v2/chat", json=body, headers=headers) as response:
        if response.status_code != 200:
            await response.aread()
            return 0.0, "", f"http {response.status_code}"
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                last = line.removeprefix("event: ")
                if last == "token" and not first:
                    first = time.perf_counter() - started
            elif line.startswith("data: ") and not conversation_id:
                conversation_id = json.loads(line.removeprefix("data: ")).get("conversation_id", "")
    return first, conversation_id, last


async def one_chat(client: httpx.AsyncClient, token: str, turns: int, samples: list[float], errors: list[str]) -> None:
    first, conversation_id, last = await streamed_call(client, token, {"partner_type": "colleague", "coaching": False})
    if last != "done":
        errors.append(last or "no events")
        return
    samples.append(first)
    for index in range(turns):
        body = {
            "conversation_id": conversation_id,
            "message": f"週末は散歩をしました（{index}）",
            "client_message_id": uuid.uuid4().hex,
        }
        first, _, last = await streamed_call(client, token, body)
        if last != "done":
            errors.append(last or "no events")
            continue
        samples.append(first)


async def run_level(base: str, concurrency: int, chats_per_client: int, turns: int, ttft_s: float) -> dict[str, Any]:
    tokens = bearer_tokens(concurrency)
    samples: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=concurrency + 10, max_keepalive_connections=concurrency + 10)
    async with httpx.AsyncClient(base_url=base, timeout=60.0, limits=limits) as client:
        started = time.perf_counter()

        async def worker(token: str) -> None:
            for _ in range(chats_per_client):
                await one_chat(client, token, turns, samples, errors)

        await asyncio.gather(*(worker(t) for t in tokens))
        elapsed = time.perf_counter() - started
    overhead = sorted(max(0.0, s - ttft_s) * 1000 for s in samples)

    def pct(p: float) -> float:
        if not overhead:
            return float("nan")
        return overhead[min(len(overhead) - 1, round(p / 100 * (len(overhead) - 1)))]

    return {
        "concurrency": concurrency,
        "streams": len(samples),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "overhead_ms_p50": round(pct(50), 1),
        "overhead_ms_p95": round(pct(95), 1),
        "overhead_ms_p99": round(pct(99), 1),
        "overhead_ms_mean": round(statistics.fmean(overhead), 1) if overhead else None,
        "streams_per_s": round(len(samples) / elapsed, 1),
        "wall_s": round(elapsed, 2),
    }


def mode_env(
    mode: str, gemini_url: str, data_dir: Path, emulator_address: str, project: str, *, redis_url: str
) -> dict[str, str]:
    env = {
        "ENV": "local",
        "LOG_LEVEL": "ERROR",
        "GEMINI_API_KEY": "bench-key",
        "GEMINI_BASE_URL": gemini_url,
        "RATE_LIMIT_ENABLED": "false",
        "MODEL_DAILY_BUDGET_USER": "0",  # a load test is not a learner's day (ADR 0034)
        "DATA_DIR": str(data_dir),
        "MEMORY_EVERY_TURNS": "0",
        "MODEL_FIRST_TOKEN_TIMEOUT_S": "30",
        "MODEL_TOTAL_TIMEOUT_S": "60",
        "MODEL_BREAKER_FAILURES": "100",
    }
    if mode in STACK_MODES:
        env.update(
            STORE_BACKEND="firestore",
            FIRESTORE_EMULATOR_HOST=emulator_address,
            GOOGLE_CLOUD_PROJECT=project,
            REDIS_URL=redis_url,
            REDIS_MODE="cluster" if mode == "stack-cluster" else "standalone",
        )
    return env


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    settings = BenchSettings()
    results: dict[str, Any] = {"ttft_ms": args.ttft_ms, "turns_per_chat": args.turns, "modes": {}}
    with tempfile.TemporaryDirectory() as tmp, fake_gemini(args.ttft_ms) as gemini_url:
        emulator_address, project, emulator_process = "", "", None
        if set(STACK_MODES) & set(args.modes):
            emulator_process, emulator = start_emulator(Path(tmp), FirestoreEmulatorSettings())
            emulator_address, project = emulator.address, emulator.project
        cluster = None
        if "stack-cluster" in args.modes:
            cluster = LocalCluster(Path(tmp) / "redis-cluster")
            cluster.start()
        try:
            for mode in args.modes:
                data_dir = Path(tmp) / mode
                data_dir.mkdir()
                redis_url = cluster.url if mode == "stack-cluster" and cluster is not None else settings.REDIS_URL
                env = mode_env(mode, gemini_url, data_dir, emulator_address, project, redis_url=redis_url)
                with chat_service(env) as (base, process):
                    levels = []
                    for level in args.levels:
                        chats = max(1, args.streams // (level * (args.turns + 1)))
                        cpu_before = cpu_seconds(process.pid)
                        row = await run_level(base, level, chats, args.turns, args.ttft_ms / 1000)
                        cpu = cpu_seconds(process.pid) - cpu_before
                        row["service_cpu_ms_per_stream"] = round(1000 * cpu / max(1, row["streams"]), 1)
                        levels.append(row)
                        print(mode, json.dumps(row, ensure_ascii=False), flush=True)
                    results["modes"][mode] = {"levels": levels, "peak_rss_mb": round(peak_rss_mb(process.pid), 1)}
        finally:
            if cluster is not None:
                cluster.stop()
            if emulator_process is not None:
                emulator_process.terminate()
                emulator_process.wait(timeout=20)
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        f"TTFT of the fake model: {results['ttft_ms']} ms; overhead = time to first token event - TTFT",
        "",
        "| mode | concurrency | streams | errors | p50 ms | p95 ms | p99 ms | streams/s | CPU ms/stream "
        "| peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for mode, data in results["modes"].items():
        for row in data["levels"]:
            lines.append(
                f"| {mode} | {row['concurrency']} | {row['streams']} | {row['errors']} | "
                f"{row['overhead_ms_p50']} | {row['overhead_ms_p95']} | {row['overhead_ms_p99']} | "
                f"{row['streams_per_s']} | {row['service_cpu_ms_per_stream']} | {data['peak_rss_mb']} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--modes", nargs="+", default=["embedded", "stack"], choices=["embedded", *STACK_MODES])
    parser.add_argument("--levels", nargs="+", type=int, default=[1, 10, 100])
    parser.add_argument("--ttft-ms", type=float, default=300.0)
    parser.add_argument("--turns", type=int, default=2, help="learner turns per chat after the opening")
    parser.add_argument("--streams", type=int, default=300, help="about this many streamed calls per level")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "chat_stream.json")
    args = parser.parse_args()
    results = asyncio.run(bench(args))
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
