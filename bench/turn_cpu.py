"""CPU per streamed chat turn, turns per second and first-token percentiles, with a py-spy profile.

One command (see bench/results/turn_cpu.md for how to read it)::

    .venv/bin/python -m bench.turn_cpu --label after            # c = 1, 10, 100; both targets; coaching off and on
    .venv/bin/python -m bench.turn_cpu --label after --c1000    # ... and c = 1000 (a few minutes more)

Targets (each its own server process, measured from ``/proc/<pid>/stat``, all threads):

- ``run``: ``python -m workplace_roleplay.web.gateway`` (what ``make run`` execs): the four services in one
  process, SQLite store, in-process cache;
- ``service``: the chat service alone as the image runs it (``uvicorn --factory functions.chat.main:create``)
  with real Redis (cache, replay buffer) and the SQLite store.

Both talk to ``tools.fake_gemini`` (time to first token 300 ms, then 20 chunks 20 ms apart: ≈ 0.68 s per
reply). Every virtual learner is its own user with its own conversation (opened before the measured phase)
and sends turns in a loop (c=1: ``--turns`` turns; otherwise for ``--seconds``, twice that at c=1000); a ``503``
is counted as rejected and retried after its ``Retry-After``. Before the levels the server's idle CPU is
sampled for 5 s (``idle_cpu_ms_per_s``: it inflates CPU per turn at c=1).
Rate limits are off (this measures the turn, not the limiter). Per level it reports completed turns,
turns/s, first-token p50/p95/p99 (from sending the request to the first ``token`` event, absolute),
server CPU-ms per completed turn, rejected and broken streams, and the server's RSS.

With ``--profile`` (default on) one more c=100 run of the ``service`` target (coaching off) is sampled by
py-spy: a flame graph (``profile-<label>.svg``) and the top functions by own time (``profile-<label>.txt``).
Results: ``bench/results/turn_cpu-<label>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import math
import os
import signal
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

from bench.load import Connection, StreamResult
from bench.profile import summarize_raw
from bench.settings import BenchSettings
from tests.support.processes import free_port, wait_http_ok
from workplace_roleplay.bootstrap import build_security
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.settings import ChatSettings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
# 80 characters in 4-character chunks: 20 chunks.
REPLY = (
    "いいですね。私も週末はよく散歩をしています。最近どこかへ出かけましたか？"
    "天気が良い日は気持ちがいいですよね。今度おすすめの場所を教えてください。"
)[:80]
CHAT_PATH = "/api/v2/chat"
SCENARIO_PATH = "/api/v2/scenarios"
# A regular scenario (no consent needed) whose counterpart speaks first: the opening is streamed when the
# session is opened, before the measured phase; every measured turn is a learner line and its streamed reply.
BENCH_SCENARIO = "vague_request_from_boss"
# --mode: which service (module, API prefix) the ``service`` target runs; ``run`` serves every mode.
MODES = {
    "chat": ("functions.chat.main:create", CHAT_PATH),
    "scenario": ("functions.scenario.main:create", SCENARIO_PATH),
}


def hide_accelerators(directory: Path) -> dict[str, str]:
    """Environment in which ``import uvloop`` / ``import httptools`` fail, so uvicorn's "auto" picks pure Python."""
    directory.mkdir(exist_ok=True)
    for name in ("uvloop", "httptools"):
        (directory / f"{name}.py").write_text('raise ImportError("hidden by bench.turn_cpu")\n')
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(directory), BenchSettings().PYTHONPATH) if p)}


@contextmanager
def fake_gemini(ttft_ms: float, chunk_delay_ms: float, env: dict[str, str]) -> Iterator[str]:
    # The fake always runs on the pure-Python stack, so its own cost is the same in every comparison.
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.fake_gemini", "--port", "0", "--ttft-ms", str(ttft_ms),
         "--chunk-delay-ms", str(chunk_delay_ms), "--text", REPLY],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, **env},
    )  # fmt: skip
    assert process.stdout is not None
    url = process.stdout.readline().decode().strip().removeprefix("fake_gemini listening on ")
    try:
        httpx.post(f"{url}/_control/config", json={"chunk_chars": 4}, timeout=5).raise_for_status()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def server_command(target: str, port: int, mode: str = "chat") -> list[str]:
    if target == "run":
        return [sys.executable, "-m", "workplace_roleplay.web.gateway"]
    return [
        sys.executable, "-m", "uvicorn", "--factory", MODES[mode][0], "--host", "127.0.0.1",
        "--port", str(port), "--no-server-header", "--log-level", "warning",
    ]  # fmt: skip


def server_env(
    target: str, gemini_url: str, data_dir: Path, port: int, redis_url: str, extra: dict[str, str]
) -> dict[str, str]:
    env = {
        **os.environ,
        **extra,
        "ENV": "local",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "GEMINI_API_KEY": "bench-key",
        "GEMINI_BASE_URL": gemini_url,
        "RATE_LIMIT_ENABLED": "false",
        "MODEL_DAILY_BUDGET_USER": "0",  # a load test is not a learner's day (ADR 0034)
        "DATA_DIR": str(data_dir),
        "MEMORY_EVERY_TURNS": "0",
        "MODEL_FIRST_TOKEN_TIMEOUT_S": "60",
        "MODEL_TOTAL_TIMEOUT_S": "120",
        "MODEL_BREAKER_FAILURES": "100",
    }
    if target == "service":
        env["REDIS_URL"] = redis_url
    return env


@contextmanager
def server(
    target: str, gemini_url: str, data_dir: Path, redis_url: str, extra: dict[str, str], mode: str = "chat"
) -> Iterator[tuple[int, int]]:
    """(port, pid) of a healthy server."""
    port = free_port()
    log = (data_dir / f"{target}.log").open("wb")
    process = subprocess.Popen(
        server_command(target, port, mode),
        cwd=ROOT,
        env=server_env(target, gemini_url, data_dir, port, redis_url, extra),
        stdout=log,
        stderr=log,
    )
    try:
        try:
            wait_http_ok(f"http://127.0.0.1:{port}{MODES[mode][1]}/health", timeout_s=60, process=process)
        except AssertionError as exc:
            raise SystemExit(f"{exc}\n{(data_dir / f'{target}.log').read_text(errors='replace')[-3000:]}") from None
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int, field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak so far) of a process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cache_outcomes(port: int) -> dict[str, float]:
    """The server's ``cache_operations_total`` by outcome: errors or skips mean Redis was (partly) bypassed."""
    totals: dict[str, float] = {}
    for line in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text.splitlines():
        if line.startswith("cache_operations_total{"):
            outcome = line.split('outcome="', 1)[1].split('"', 1)[0]
            totals[outcome] = totals.get(outcome, 0.0) + float(line.rsplit(" ", 1)[1])
    return totals


def bearer_tokens(count: int) -> list[str]:
    """Access tokens the service accepts (ENV=local derives the same dev keys in both processes)."""
    security = build_security(ChatSettings(ENV="local"), store=None, clock=SystemClock())  # type: ignore[arg-type]
    now = time.time()
    return [
        security.tokens.issue(user_id=f"bench-{uuid.uuid4().hex[:12]}", family_id=uuid.uuid4().hex, now=now)[0]
        for _ in range(count)
    ]


class Learner:
    """One virtual learner: a token, a connection, a conversation (a chat, or a scenario session)."""

    def __init__(self, port: int, token: str, coaching: bool, mode: str = "chat") -> None:
        self.conn = Connection("127.0.0.1", port)
        self.token = token
        self.coaching = coaching
        self.mode = mode
        self.conversation_id = ""
        self.sent = 0

    @property
    def path(self) -> str:
        if self.mode == "scenario":
            return f"{SCENARIO_PATH}/sessions/{self.conversation_id}/turns"
        return CHAT_PATH

    async def call(self, body: dict[str, object]) -> StreamResult:
        result = await self.conn.stream(self.path, body, self.token)
        if result.status == 503:
            await asyncio.sleep(min(5.0, result.retry_after_s or 1.0))
        return result

    async def open(self, attempts: int = 30) -> StreamResult:
        if self.mode == "scenario":
            return await self.open_scenario(attempts)
        result = StreamResult()
        for _ in range(attempts):
            result = await self.call({"partner_type": "colleague", "coaching": self.coaching})
            if result.done:
                self.conversation_id = result.conversation_id
                return result
        return result

    async def open_scenario(self, attempts: int) -> StreamResult:
        """Start a session of ``BENCH_SCENARIO`` (JSON), then stream the counterpart's opening."""
        result = StreamResult()
        for _ in range(attempts):
            status, body = await self.conn.post_json(
                f"{SCENARIO_PATH}/{BENCH_SCENARIO}/sessions", {"coaching": self.coaching}, self.token
            )
            session = body.get("session")
            if status != 201 or not isinstance(session, dict):
                result.status = status
                await asyncio.sleep(1.0)
                continue
            self.conversation_id = str(session["id"])
            if not body.get("opening_pending"):
                result.status, result.last_event = 200, "done"
                return result
            for _ in range(attempts):
                result = await self.call({})
                if result.done:
                    return result
            return result
        return result

    async def turn(self) -> StreamResult:
        self.sent += 1
        line = f"承知しました。件数の集計ですね、期限はいつまででしょうか（{self.sent}）"
        body: dict[str, object] = {
            "message": line if self.mode == "scenario" else f"週末は散歩をしました（{self.sent}）",
            "client_message_id": uuid.uuid4().hex,
        }
        if self.mode == "chat":  # scenario sessions take coaching when they start
            body.update(conversation_id=self.conversation_id, coaching=self.coaching)
        return await self.call(body)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)], 1)


async def run_level(
    port: int, pid: int, concurrency: int, turns: int, coaching: bool, *, duration_s: float = 0.0, mode: str = "chat"
) -> dict[str, Any]:
    """Open ``concurrency`` conversations, then measure about ``turns`` turns (or ``duration_s`` seconds)."""
    learners = [Learner(port, t, coaching, mode) for t in bearer_tokens(concurrency)]
    opened = await asyncio.gather(*(learner.open() for learner in learners))
    ready = [learner for learner, r in zip(learners, opened, strict=True) if r.done]
    per_learner = max(2, math.ceil(turns / concurrency))
    results: list[StreamResult] = []
    cpu_before, started = cpu_seconds(pid), time.perf_counter()
    deadline = started + duration_s if duration_s else 0.0

    async def loop(learner: Learner) -> None:
        count = 0
        while (time.perf_counter() < deadline) if deadline else (count < per_learner):
            result = await learner.turn()
            results.append(result)
            count += result.done or result.status != 503  # a rejected turn is tried again
            if result.broken:
                await asyncio.sleep(0.5)

    await asyncio.gather(*(loop(learner) for learner in ready))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu_before
    for learner in learners:
        await learner.conn.close()
    done = [r for r in results if r.done]
    firsts = [r.first_token_s for r in done if r.first_token_s]
    statuses: dict[str, int] = {}
    for r in results:
        if not r.done:
            key = "broken" if r.broken else f"http {r.status}" if r.status != 200 else f"event {r.last_event}"
            statuses[key] = statuses.get(key, 0) + 1
    return {
        "mode": mode,
        "concurrency": concurrency,
        "coaching": coaching,
        "opened": len(ready),
        "turns": len(done),
        "rejected_503": sum(1 for r in results if r.status == 503),
        "broken": sum(1 for r in results if r.broken),
        "broken_mid_stream": sum(1 for r in results if r.broken_mid_stream),
        "other_failures": statuses,
        "turns_per_s": round(len(done) / elapsed, 1),
        "first_token_ms_p50": percentile(firsts, 50),
        "first_token_ms_p95": percentile(firsts, 95),
        "first_token_ms_p99": percentile(firsts, 99),
        "cpu_ms_per_turn": round(1000 * cpu / max(1, len(done)), 2),
        "cpu_s": round(cpu, 2),
        "wall_s": round(elapsed, 2),
        "rss_mb": memory_mb(pid, "VmRSS"),
        "peak_rss_mb": memory_mb(pid, "VmHWM"),
    }


async def profile_level(
    port: int, pid: int, label: str, seconds: float, mode: str = "chat", concurrency: int = 100
) -> dict[str, Any]:
    """One level (c=100 unless told) under py-spy: flame graph SVG plus collapsed stacks summarized by own time."""
    spy = str(Path(sys.executable).with_name("py-spy"))
    svg, raw = RESULTS / f"profile-{label}.svg", RESULTS / f"profile-{label}.raw.txt"
    common = ["--pid", str(pid), "--rate", "100", "--nonblocking", "--duration", str(int(seconds))]
    procs = [
        subprocess.Popen([spy, "record", *common, "--format", fmt, "-o", str(path)], stdout=subprocess.DEVNULL)  # noqa: ASYNC220
        for fmt, path in (("flamegraph", svg), ("raw", raw))
    ]
    row = await run_level(port, pid, concurrency, 0, False, duration_s=seconds, mode=mode)
    for proc in procs:
        proc.wait(timeout=120)
    text = raw.read_text()
    (RESULTS / f"profile-{label}.txt").write_text(summarize_raw(text))
    with gzip.open(RESULTS / f"profile-{label}.raw.txt.gz", "wt") as packed:  # for other summaries later
        packed.write(text)
    raw.unlink()
    return row


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    redis_url = BenchSettings().REDIS_URL
    levels = [*args.levels, *([1000] if args.c1000 else [])]
    out: dict[str, Any] = {
        "label": args.label,
        "mode": args.mode,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_before": loadavg(),
        "fake_model": {"ttft_ms": args.ttft_ms, "chunks": 20, "chunk_delay_ms": args.chunk_delay_ms},
        "rows": [],
    }
    out["server_accelerators"] = not args.no_accel
    with tempfile.TemporaryDirectory() as tmp:
        pure = hide_accelerators(Path(tmp) / "noaccel")
        with fake_gemini(args.ttft_ms, args.chunk_delay_ms, pure) as gemini_url:
            await run_targets(args, out, Path(tmp), gemini_url, redis_url, pure if args.no_accel else {}, levels)
    out["loadavg_after"] = loadavg()
    return out


async def run_targets(
    args: argparse.Namespace,
    out: dict[str, Any],
    tmp: Path,
    gemini_url: str,
    redis_url: str,
    extra: dict[str, str],
    levels: list[int],
) -> None:
    for target in args.targets:
        data_dir = tmp / target
        data_dir.mkdir()
        with server(target, gemini_url, data_dir, redis_url, extra, args.mode) as (port, pid):
            idle = memory_mb(pid, "VmRSS")
            cpu_idle = cpu_seconds(pid)
            await asyncio.sleep(5)
            idle_cpu = round(1000 * (cpu_seconds(pid) - cpu_idle) / 5, 2)
            for coaching in args.coaching if not args.profile_only else []:
                for level in levels if coaching == "off" else args.levels:
                    seconds = 0.0 if level == 1 else args.seconds * (2 if level >= 1000 else 1)
                    row = await run_level(
                        port, pid, level, args.turns, coaching == "on", duration_s=seconds, mode=args.mode
                    )
                    row.update(target=target, idle_rss_mb=idle, idle_cpu_ms_per_s=idle_cpu)
                    out["rows"].append(row)
                    print(json.dumps(row, ensure_ascii=False), flush=True)
            out.setdefault("cache_outcomes", {})[target] = cache_outcomes(port)
            if args.profile and target == "service":
                row = await profile_level(
                    port, pid, args.label, args.profile_seconds, args.mode, concurrency=args.profile_level
                )
                row.update(target=target, profiled=True)
                out["profile"] = row
                print("profiled", json.dumps(row, ensure_ascii=False), flush=True)


def table(results: dict[str, Any]) -> str:
    lines = [
        f"`{results['label']}` ({results.get('mode', 'chat')} turns) at {results['when']} "
        f"(load average before {' '.join(results['loadavg_before'])}, "
        f"after {' '.join(results['loadavg_after'])}); fake model TTFT {results['fake_model']['ttft_ms']} ms, "
        f"20 chunks × {results['fake_model']['chunk_delay_ms']} ms",
        "",
        "| target | coaching | c | turns | turns/s | first token p50 / p95 / p99 ms | CPU ms/turn | 503 | broken "
        "| RSS idle / peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['target']} | {'on' if r['coaching'] else 'off'} | {r['concurrency']} | {r['turns']} | "
            f"{r['turns_per_s']} | {r['first_token_ms_p50']} / {r['first_token_ms_p95']} / {r['first_token_ms_p99']} "
            f"| {r['cpu_ms_per_turn']} | {r['rejected_503']} | {r['broken']} "
            f"| {r['idle_rss_mb']} / {r['peak_rss_mb']} |"
        )
    idle = {r["target"]: r["idle_cpu_ms_per_s"] for r in results["rows"]}
    lines.append(f"\nserver CPU while idle (ms per second): {idle}; uvloop/httptools: {results['server_accelerators']}")
    for target, outcomes in results.get("cache_outcomes", {}).items():
        lines.append(f"\ncache operations of `{target}` by outcome: {outcomes}")
    if "profile" in results:
        p = results["profile"]
        lines.append(
            f"\nprofiled run (service, coaching off, c={p['concurrency']}, under py-spy): {p['turns']} turns, "
            f"{p['turns_per_s']} turns/s, "
            f"{p['cpu_ms_per_turn']} CPU ms/turn; see profile-{results['label']}.txt / .svg"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--label", default="latest", help="names the result files")
    parser.add_argument("--targets", nargs="+", default=["run", "service"], choices=["run", "service"])
    parser.add_argument(
        "--mode",
        default="chat",
        choices=sorted(MODES),
        help="chat turns, or scenario turns (a session of a regular scenario)",
    )
    parser.add_argument("--coaching", nargs="+", default=["off", "on"], choices=["off", "on"])
    parser.add_argument("--levels", nargs="+", type=int, default=[1, 10, 100])
    parser.add_argument("--c1000", action="store_true", help="also c=1000, coaching off (takes minutes)")
    parser.add_argument("--turns", type=int, default=40, help="measured turns at c=1")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per level c>1 (c=1000: twice)")
    parser.add_argument("--ttft-ms", type=float, default=300.0)
    parser.add_argument("--chunk-delay-ms", type=float, default=20.0)
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--no-accel", action="store_true", help="hide uvloop/httptools from the server")
    parser.add_argument("--profile-seconds", type=float, default=20.0)
    parser.add_argument("--profile-level", type=int, default=100, help="concurrency of the profiled run")
    parser.add_argument("--profile-only", action="store_true", help="only the profiled c=100 run of the service")
    args = parser.parse_args()
    # A terminated benchmark still stops the servers it started (the context managers' finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = asyncio.run(bench(args))
    RESULTS.mkdir(exist_ok=True)
    if args.profile_only:
        (RESULTS / f"profile-{args.label}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
        return
    (RESULTS / f"turn_cpu-{args.label}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    text = table(results)
    (RESULTS / f"turn_cpu-{args.label}.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
