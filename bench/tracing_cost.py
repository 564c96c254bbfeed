"""What tracing costs (ADR 0028): cold start and per-turn CPU of the chat service, tracing off vs on, and vs
the code before tracing existed (``--base DIR``: an export of an older commit, e.g.
``git archive b9b431b | tar -x -C /tmp/base``).

Variants, each its own uvicorn process in embedded mode (SQLite, in-process cache) against the fake Gemini
server (TTFT 0), run in rounds (base, off, on, base, off, on, ...) so machine load hits each alike:

- ``base``: the older code (only with ``--base``);
- ``off``: this code, ``TRACE_EXPORTER=none``;
- ``on``: this code, ``TRACE_EXPORTER=file`` (every span written as it ends).

Per-turn CPU = the service process's user+system CPU over ``--turns`` streamed turns (after a warm-up), per
turn. Cold start = wall time of a fresh interpreter that imports the chat wiring, builds the app and runs its
startup, and the modules imported (``-X importtime``: the SDK must not appear when tracing is off).

    .venv/bin/python -m bench.tracing_cost [--rounds 5] [--turns 40] [--base /tmp/base]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
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

from bench.chat_stream import bearer_tokens, cpu_seconds, fake_gemini, streamed_call
from tests.support.processes import free_port, wait_http_ok

ROOT = Path(__file__).resolve().parents[1]
STARTUP = (
    "import asyncio, time; t = time.perf_counter()\n"
    "from functions.chat.main import create\n"
    "app = create()\n"
    "async def main():\n"
    "    async with app.router.lifespan_context(app):\n"
    "        pass\n"
    "asyncio.run(main()); print(time.perf_counter() - t)\n"
)


def variant_env(name: str, data_dir: Path, gemini_url: str, base: Path | None) -> tuple[dict[str, str], Path]:
    env = {
        **os.environ,
        "ENV": "local",
        "LOG_LEVEL": "ERROR",
        "GEMINI_API_KEY": "bench-key",
        "GEMINI_BASE_URL": gemini_url,
        "RATE_LIMIT_ENABLED": "false",
        "MODEL_DAILY_BUDGET_USER": "0",  # a load test is not a learner's day (ADR 0034)
        "DATA_DIR": str(data_dir),
        "MEMORY_EVERY_TURNS": "0",
        "TRACE_EXPORTER": "file" if name == "on" else "none",
        "TRACE_FILE": str(data_dir / "traces.jsonl"),
    }
    if name == "base" and base is not None:
        env["PYTHONPATH"] = f"{base / 'shared' / 'src'}:{base}"
        return env, base
    return env, ROOT


@contextmanager
def service(env: dict[str, str], cwd: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "functions.chat.main:create", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/api/v2/chat/health", timeout_s=60, process=process)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)


async def turns_cpu_ms(base_url: str, pid: int, turns: int) -> float:
    token = bearer_tokens(1)[0]
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as client:
        _, cid, last = await streamed_call(client, token, {"partner_type": "colleague", "coaching": False})
        assert last == "done", last
        for n in range(5):  # warm-up
            await streamed_call(
                client, token, {"conversation_id": cid, "message": f"準備{n}", "client_message_id": uuid.uuid4().hex}
            )
        before = cpu_seconds(pid)
        for n in range(turns):
            body = {
                "conversation_id": cid,
                "message": f"週末は散歩をしました（{n}）",
                "client_message_id": uuid.uuid4().hex,
            }
            _, _, last = await streamed_call(client, token, body)
            assert last == "done", last
        return (cpu_seconds(pid) - before) * 1000 / turns


def cold_start(env: dict[str, str], cwd: Path) -> tuple[float, float, list[str]]:
    """(wall seconds to a started app, CPU seconds of the whole interpreter, OpenTelemetry SDK modules imported).

    CPU time is what a loaded machine distorts least; ``-X importtime`` runs separately (it slows imports).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-c", STARTUP], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    traced = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", STARTUP],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    modules = [line.split("|")[-1].strip() for line in traced.stderr.splitlines() if line.startswith("import time:")]
    sdk = ("opentelemetry.sdk", "opentelemetry.exporter", "opentelemetry.instrumentation")
    return float(proc.stdout.strip().splitlines()[-1]), cpu, sorted({m for m in modules if m.startswith(sdk)})


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
        "stdev": round(statistics.stdev(values), 2) if len(values) > 1 else 0.0,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    names = (["base"] if args.base else []) + ["off", "on"]
    cpu: dict[str, list[float]] = {n: [] for n in names}
    start: dict[str, list[float]] = {n: [] for n in names}
    start_cpu: dict[str, list[float]] = {n: [] for n in names}
    sdk_imported: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as tmp, fake_gemini(0) as gemini_url:
        for r in range(args.rounds):
            for name in names:
                data_dir = Path(tmp) / f"{name}-{r}"
                data_dir.mkdir()
                env, cwd = variant_env(name, data_dir, gemini_url, args.base)
                seconds, cpu_s, otel = cold_start(env, cwd)
                start[name].append(seconds * 1000)
                start_cpu[name].append(cpu_s * 1000)
                sdk_imported[name] = otel
                with service(env, cwd) as (url, pid):
                    cpu[name].append(asyncio.run(turns_cpu_ms(url, pid, args.turns)))
                print(
                    f"round {r} {name}: cold start {seconds * 1000:.0f} ms wall, {cpu_s * 1000:.0f} ms CPU; "
                    f"{cpu[name][-1]:.2f} CPU ms/turn",
                    flush=True,
                )
    return {
        "rounds": args.rounds,
        "turns": args.turns,
        "loadavg_at_end": os.getloadavg(),
        "cpu_ms_per_turn": {n: summary(v) for n, v in cpu.items()},
        "cold_start_wall_ms": {n: summary(v) for n, v in start.items()},
        "cold_start_cpu_ms": {n: summary(v) for n, v in start_cpu.items()},
        "otel_sdk_modules_imported": {n: len(v) for n, v in sdk_imported.items()},
        "samples": {"cpu_ms_per_turn": cpu, "cold_start_wall_ms": start, "cold_start_cpu_ms": start_cpu},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--base", type=Path, help="an export of the code before tracing, for the 'base' variant")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "tracing_cost.json")
    args = parser.parse_args()
    result = run(args)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
