"""Cold start per service: process start to the first 200 from its ``/health``, idle RSS, and the import profile.

    .venv/bin/python -m bench.cold_start [--repeat 5] [--label after]

Each service is started as the image starts it (``uvicorn --factory functions.<svc>.main:create``) with a
cloud-shaped configuration (Firestore store, Redis, Gemini configured; nothing is called at startup), bytecode
already compiled (one unmeasured warm-up start first); ``run`` is ``python -m workplace_roleplay.web.gateway``
(``make run``, embedded). Reports the median and max of ``--repeat`` starts, the RSS right after start, and
the 25 slowest imports (cumulative, ``python -X importtime``) of the chat service's app factory.
Results: ``bench/results/cold_start-<label>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.settings import BenchSettings
from bench.turn_cpu import memory_mb
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SERVICES = {
    "chat": "/api/v2/chat",
    "scenario": "/api/v2/scenarios",
    "watch": "/api/v2/watch",
    "migrate_session": "/api/v2/auth",
}


def environment(target: str, data_dir: Path, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "ENV": "local",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(data_dir),
        "GEMINI_API_KEY": "bench-key",
        "GEMINI_BASE_URL": "http://127.0.0.1:9",
    }
    if target != "run":
        env.update(
            STORE_BACKEND="firestore",
            FIRESTORE_EMULATOR_HOST="127.0.0.1:9",
            GOOGLE_CLOUD_PROJECT="bench-cold-start",
            REDIS_URL=BenchSettings().REDIS_URL,
        )
    return env


def command(target: str, port: int) -> list[str]:
    if target == "run":
        return [sys.executable, "-m", "workplace_roleplay.web.gateway"]
    return [
        sys.executable, "-m", "uvicorn", "--factory", f"functions.{target}.main:create", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip


def one_start(target: str, data_dir: Path) -> tuple[float, float]:
    """(seconds to the first 200 from /health, RSS MB then)."""
    port = free_port()
    path = SERVICES.get(target, "/api/v2/chat")
    started = time.perf_counter()
    process = subprocess.Popen(
        command(target, port),
        cwd=ROOT,
        env=environment(target, data_dir, port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(timeout=1.0) as client:
            while time.perf_counter() - started < 30:
                if process.poll() is not None:
                    raise SystemExit(f"{target} exited with {process.returncode}")
                try:
                    if client.get(f"http://127.0.0.1:{port}{path}/health").status_code == 200:
                        return time.perf_counter() - started, memory_mb(process.pid, "VmRSS")
                except httpx.HTTPError:
                    pass
                time.sleep(0.01)
        raise SystemExit(f"{target} was not healthy within 30 s")
    finally:
        process.terminate()
        process.wait(timeout=20)


_STARTUP = """
import asyncio
import functions.chat.main as main
app = main.create()
async def start() -> None:
    async with app.router.lifespan_context(app):
        pass
asyncio.run(start())
"""


def import_profile(data_dir: Path, top: int = 25) -> list[tuple[float, str]]:
    """The slowest imports (cumulative ms) of building the chat app and running its startup (cloud-shaped config)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _STARTUP],
        cwd=ROOT,
        env=environment("chat", data_dir, free_port()),
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
            rows.append((int(cumulative) / 1000, name))
    rows.sort(reverse=True)
    return rows[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--label", default="latest")
    parser.add_argument("--imports-only", action="store_true", help="only the import profile (into <label>-imports)")
    args = parser.parse_args()
    results: dict[str, Any] = {"label": args.label, "loadavg": Path("/proc/loadavg").read_text().split()[:3]}
    with tempfile.TemporaryDirectory() as tmp:
        for target in [*SERVICES, "run"] if not args.imports_only else []:
            data_dir = Path(tmp) / target
            data_dir.mkdir(exist_ok=True)
            one_start(target, data_dir)  # warm-up: bytecode compiled, page cache warm
            runs = [one_start(target, data_dir) for _ in range(args.repeat)]
            seconds = [s for s, _ in runs]
            results[target] = {
                "median_s": round(statistics.median(seconds), 3),
                "max_s": round(max(seconds), 3),
                "rss_mb": max(r for _, r in runs),
            }
            print(target, results[target], flush=True)
        results["chat_imports_ms"] = import_profile(Path(tmp) / "chat")
    lines = [
        f"`{args.label}` (load average {' '.join(results['loadavg'])}), {args.repeat} starts each after one warm-up",
        "",
        "| target | start to healthy, median s | max s | RSS after start MB |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {t} | {results[t]['median_s']} | {results[t]['max_s']} | {results[t]['rss_mb']} |"
        for t in [*SERVICES, "run"]
        if t in results
    ]
    lines += ["", "Slowest imports of the chat app's construction and startup (lifespan), cumulative ms:", ""]
    lines += [f"- {ms:.1f} ms `{name}`" for ms, name in results["chat_imports_ms"]]
    RESULTS.mkdir(exist_ok=True)
    name = f"{args.label}-imports" if args.imports_only else args.label
    (RESULTS / f"cold_start-{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"cold_start-{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
