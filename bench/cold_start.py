"""Cold start per service: process start to ``/health`` and to ``/ready``, CPU spent, idle RSS, import profile.

    .venv/bin/python -m bench.cold_start [--repeat 5] [--label after] [--no-emulator]

Each service is started as the image starts it (``uvicorn --factory functions.<svc>.main:create``) with a
cloud-shaped configuration (Firestore store, Redis, Gemini configured), bytecode already compiled (one
unmeasured warm-up start first); ``run`` is ``python -m workplace_roleplay.web.gateway`` (``make run``, embedded).

Per start it records:

- ``health``: seconds from ``Popen`` to the first 200 from the service's ``/health`` (the process serves);
- ``ready``: seconds to the first 200 from ``/ready`` (store and cache answered: what Cloud Run's startup probe
  waits for before sending traffic), polled only after ``/health`` answered;
- the server's CPU seconds (user + system, ``/proc/<pid>/stat``) at both points: far less sensitive than wall
  time to the other work on a shared machine;
- RSS at ``/health`` and idle RSS 1 s after the first good ``/ready`` (the Firestore client built and used).

With the emulator (default) the services' store is a real Firestore emulator, started here (tests/support) so
``/ready`` is a real ping; ``--no-emulator`` points Firestore at a closed port (``/ready`` is then not timed).
Reports the median and max of ``--repeat`` starts, and per service the slowest imports (cumulative,
``python -X importtime``) of building the app and running its startup (lifespan), then of its first ``/ready``.
Results: ``bench/results/cold_start-<label>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.settings import BenchSettings
from bench.turn_cpu import cpu_seconds, memory_mb
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SERVICES = {
    "chat": "/api/v2/chat",
    "scenario": "/api/v2/scenarios",
    "watch": "/api/v2/watch",
    "migrate_session": "/api/v2/auth",
}


def environment(target: str, data_dir: Path, port: int, firestore: str = "127.0.0.1:9") -> dict[str, str]:
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
            FIRESTORE_EMULATOR_HOST=firestore,
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


def _poll(client: httpx.Client, url: str, process: subprocess.Popen[bytes], started: float) -> float:
    while time.perf_counter() - started < 60:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if client.get(url).status_code == 200:
                return time.perf_counter() - started
        time.sleep(0.01)
    raise SystemExit(f"{url} did not answer 200 within 60 s")


def one_start(target: str, data_dir: Path, firestore: str | None) -> dict[str, float]:
    """Seconds and CPU seconds to /health (and /ready when ``firestore`` is a real emulator), RSS."""
    port = free_port()
    path = SERVICES.get(target, "/api/v2/chat")
    started = time.perf_counter()
    process = subprocess.Popen(
        command(target, port),
        cwd=ROOT,
        env=environment(target, data_dir, port, firestore or "127.0.0.1:9"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(timeout=5.0) as client:
            row = {"health_s": _poll(client, f"http://127.0.0.1:{port}{path}/health", process, started)}
            row["health_cpu_s"] = cpu_seconds(process.pid)
            row["health_rss_mb"] = memory_mb(process.pid, "VmRSS")
            if firestore is not None or target == "run":
                row["ready_s"] = _poll(client, f"http://127.0.0.1:{port}{path}/ready", process, started)
                row["ready_cpu_s"] = cpu_seconds(process.pid)
                time.sleep(1.0)
                row["idle_rss_mb"] = memory_mb(process.pid, "VmRSS")
            return row
    finally:
        process.terminate()
        process.wait(timeout=20)


_STARTUP = """
import asyncio, importlib, sys
main = importlib.import_module("functions." + sys.argv[1] + ".main")
app = main.create()
async def start() -> None:
    async with app.router.lifespan_context(app):
        print("import time: ready-begins | 0 | ready-begins", file=sys.stderr, flush=True)
        await asyncio.gather(app.state.resources.store.ping(), app.state.resources.cache.health())
asyncio.run(start())
"""


def import_profile(target: str, data_dir: Path, firestore: str | None, top: int) -> dict[str, list[Any]]:
    """The slowest imports (cumulative ms) of building ``target``'s app and its startup, then of its first ready."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _STARTUP, target],
        cwd=ROOT,
        env=environment(target, data_dir, free_port(), firestore or "127.0.0.1:9"),
        capture_output=True,
        text=True,
        check=firestore is not None,
    )
    phases: dict[str, list[tuple[float, str]]] = {"startup": [], "first_ready": []}
    phase = "startup"
    for line in result.stderr.splitlines():
        if "ready-begins" in line:
            phase = "first_ready"
        elif line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
            phases[phase].append((int(cumulative) / 1000, name))
    return {
        name: [*sorted(rows, reverse=True)[:top], (round(sum(1 for _ in rows)), "modules imported")]
        for name, rows in phases.items()
    }


@contextlib.contextmanager
def emulator(workdir: Path, wanted: bool) -> Iterator[str | None]:
    if not wanted:
        yield None
        return
    from tests.support.firestore_emulator import FirestoreEmulatorSettings, _stop, start_emulator

    process, running = start_emulator(workdir, FirestoreEmulatorSettings())
    try:
        yield running.address
    finally:
        _stop(process)


def _median_max(rows: list[dict[str, float]], key: str) -> tuple[float, float] | None:
    values = [r[key] for r in rows if key in r]
    return (round(statistics.median(values), 3), round(max(values), 3)) if values else None


def table(results: dict[str, Any], targets: list[str]) -> list[str]:
    lines = [
        "| target | to /health median (max) s | CPU s at /health | to /ready median (max) s | CPU s at /ready "
        "| RSS at /health MB | idle RSS after /ready MB |",
        "|---|---|---|---|---|---|---|",
    ]

    def cell(pair: list[float] | None) -> str:
        return f"{pair[0]} ({pair[1]})" if pair else "—"

    for t in targets:
        r = results.get(t)
        if not r:
            continue
        lines.append(
            f"| {t} | {cell(r['health_s'])} | {cell(r['health_cpu_s'])} | {cell(r.get('ready_s'))} "
            f"| {cell(r.get('ready_cpu_s'))} | {r['health_rss_mb']} | {r.get('idle_rss_mb') or '—'} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--label", default="latest")
    parser.add_argument("--top", type=int, default=12, help="imports listed per service and phase")
    parser.add_argument("--no-emulator", action="store_true", help="Firestore on a closed port; /ready not timed")
    parser.add_argument("--targets", nargs="+", default=[*SERVICES, "run"])
    args = parser.parse_args()
    results: dict[str, Any] = {"label": args.label, "loadavg_before": Path("/proc/loadavg").read_text().split()[:3]}
    with tempfile.TemporaryDirectory() as tmp, emulator(Path(tmp), not args.no_emulator) as firestore:
        for target in args.targets:
            data_dir = Path(tmp) / target
            data_dir.mkdir(exist_ok=True)
            one_start(target, data_dir, firestore)  # warm-up: bytecode compiled, page cache warm
            runs = [one_start(target, data_dir, firestore) for _ in range(args.repeat)]
            results[target] = {
                key: _median_max(runs, key) for key in ("health_s", "health_cpu_s", "ready_s", "ready_cpu_s")
            }
            results[target]["health_rss_mb"] = max(r["health_rss_mb"] for r in runs)
            results[target]["idle_rss_mb"] = max((r["idle_rss_mb"] for r in runs if "idle_rss_mb" in r), default=None)
            if target != "run":
                results[target]["imports"] = import_profile(target, data_dir, firestore, args.top)
            print(target, {k: v for k, v in results[target].items() if k != "imports"}, flush=True)
    results["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    lines = [
        f"`{args.label}`: load average {' '.join(results['loadavg_before'])} before, "
        f"{' '.join(results['loadavg_after'])} after; {args.repeat} starts each after one warm-up; "
        f"Firestore {'on a closed port' if args.no_emulator else 'emulator'}, real Redis",
        "",
        *table(results, args.targets),
    ]
    for target in args.targets:
        imports = results.get(target, {}).get("imports")
        if not imports:
            continue
        for phase, title in (("startup", "app built and started"), ("first_ready", "first /ready")):
            rows = imports[phase]
            count = rows[-1][0]
            lines += ["", f"`{target}`, slowest imports of {title} ({count} modules), cumulative ms:", ""]
            lines += [f"- {ms:.1f} ms `{name}`" for ms, name in rows[:-1]] or ["- (none)"]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"cold_start-{args.label}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / f"cold_start-{args.label}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
