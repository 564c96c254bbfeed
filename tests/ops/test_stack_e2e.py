"""End to end on the local stack: real uvicorn processes behind real nginx, driven by the ops CLI.

The stack runs the embedded SQLite store here to stay fast (``test_stack_firestore`` covers the
default Firestore-emulator mode). Which process answered is read from ``/health``'s ``version``,
which each process sets from ``SERVICE_VERSION`` (its revision name).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ops.stack_runner import REPO, LocalStack, nginx_binary, start_stack, stop_stack
from tests.support.redis_server import RedisServer
from tools.ops.legacy_standin import STREAM_PATH
from tools.ops.stack_state import read_state

pytestmark = pytest.mark.integration

STABLE, CANDIDATE = "chat-stable", "chat-candidate"
SAMPLES = 500


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[LocalStack]:
    nginx_binary()
    running = start_stack(tmp_path_factory.mktemp("stack"), store="sqlite", candidates="chat", redis_url=redis_url)
    try:
        yield running
    finally:
        stop_stack(running)


def ops(stack: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STACK_DIR": str(stack.run_dir)}
    return subprocess.run(
        [sys.executable, "-m", "tools.ops", *args], env=env, capture_output=True, text=True, timeout=120, cwd=REPO
    )


def versions(stack: LocalStack, path: str, count: int) -> list[str]:
    with httpx.Client(base_url=stack.url, timeout=5) as client:
        out = []
        for _ in range(count):
            response = client.get(path)
            assert response.status_code == 200
            out.append(str(response.json().get("version", response.json().get("app"))))
        return out


def test_every_health_path_answers_through_nginx(stack: LocalStack) -> None:
    with httpx.Client(base_url=stack.url, timeout=5) as client:
        for service, path in stack.health_paths.items():
            response = client.get(path)
            assert response.status_code == 200, path
            body = response.json()
            assert body["status"] == "ok"
            assert body["version"] == f"{service.replace('_', '-')}-stable"
        unclaimed = client.get("/api/feature_flags")
        assert unclaimed.status_code == 200
        assert unclaimed.json()["app"] == "legacy-standin"
        home = client.get("/")
        scenario_port = read_state(stack.run_dir).revisions()["scenario"]["scenario-stable"]
        assert home.headers["x-stack-upstream"] == f"127.0.0.1:{scenario_port}"
        # Pages leave the app compressed and nginx passes them on as they are (ADR 0025), as make run does.
        assert home.headers["content-encoding"] == "gzip"
        icon = client.get("/favicon.ico")
        assert icon.status_code == 200
        assert icon.headers["x-stack-upstream"] == f"127.0.0.1:{scenario_port}"


@dataclass
class Sample:
    sent: float
    version: str | None
    error: str | None


async def load(url: str, stop_at: list[float], workers: int = 8) -> list[Sample]:
    """Keep ``workers`` requests in flight until ``stop_at[0]`` (which the caller may move)."""
    samples: list[Sample] = []
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:

        async def worker() -> None:
            while time.perf_counter() < stop_at[0]:
                sent = time.perf_counter()
                try:
                    response = await client.get(url)
                except httpx.HTTPError as exc:
                    samples.append(Sample(sent, None, repr(exc)))
                    continue
                if response.status_code != 200:
                    samples.append(Sample(sent, None, f"HTTP {response.status_code}"))
                else:
                    samples.append(Sample(sent, str(response.json()["version"]), None))

        await asyncio.gather(*(worker() for _ in range(workers)))
    return samples


def test_canary_split_then_rollback_under_load_loses_nothing(stack: LocalStack) -> None:
    path = stack.health_paths["chat"]
    result = ops(stack, "canary", "chat", "10", "--revision", CANDIDATE, "--env", "local")
    assert result.returncode == 0, result.stderr
    assert "took effect in" in result.stdout

    seen = versions(stack, path, SAMPLES)
    share = seen.count(CANDIDATE) / SAMPLES
    assert set(seen) == {STABLE, CANDIDATE}
    # 10 % of 500: the binomial s.d. is 1.3 points, so ±5 points is a 3.7-sigma band.
    assert 0.05 <= share <= 0.15, f"candidate share {share:.3f}"

    async def scenario() -> tuple[list[Sample], float, float]:
        stop_at = [time.perf_counter() + 60]
        running = asyncio.create_task(load(stack.url + path, stop_at))
        await asyncio.sleep(1.0)
        began = time.perf_counter()
        done = await asyncio.to_thread(ops, stack, "rollback", "chat", "--env", "local")
        ended = time.perf_counter()
        assert done.returncode == 0, done.stderr
        stop_at[0] = time.perf_counter() + 1.5
        reload_ms.append(float(done.stdout.split("took effect in ")[1].split(" ms")[0]))
        return await running, began, ended

    reload_ms: list[float] = []
    samples, began, ended = asyncio.run(scenario())
    errors = [s.error for s in samples if s.error]
    assert not errors, f"{len(errors)} of {len(samples)} requests failed during the rollback: {errors[:3]}"
    before = [s for s in samples if s.sent < began]
    assert any(s.version == CANDIDATE for s in before), "the canary was not serving before the rollback"
    last_candidate = max((s.sent for s in samples if s.version == CANDIDATE), default=began)
    effect = max(0.0, last_candidate - began)
    late = [s for s in samples if s.sent > ended and s.version == CANDIDATE]
    assert not late, f"{len(late)} requests reached the candidate after the rollback command returned"
    report = {
        "requests_during_test": len(samples),
        "failed_requests": len(errors),
        "rollback_command_s": round(ended - began, 3),
        "rollback_effective_after_s": round(effect, 3),
        "nginx_render_reload_wait_ms": reload_ms[0],
        "candidate_share_before": round(share, 3),
    }
    print("local rollback under load: " + json.dumps(report))
    assert effect < 30, "the checklist's bound for a rollback is 30 s"


def test_unsafe_local_requests_are_refused_and_change_nothing(stack: LocalStack) -> None:
    traffic = stack.run_dir / "traffic.json"
    before = traffic.read_bytes()
    ghost = ops(stack, "canary", "chat", "10", "--revision", "chat-ghost", "--env", "local")
    assert ghost.returncode == 2
    assert "has no running process" in ghost.stderr
    no_process = ops(stack, "canary", "watch", "10", "--revision", "watch-candidate", "--env", "local")
    assert no_process.returncode == 2
    assert ops(stack, "promote", "chat", "--env", "local").returncode == 2
    assert traffic.read_bytes() == before
    assert set(versions(stack, stack.health_paths["chat"], 20)) == {STABLE}


def test_promote_then_roll_back_to_the_previous_revision(stack: LocalStack) -> None:
    path = stack.health_paths["chat"]
    assert ops(stack, "canary", "chat", "50", "--revision", CANDIDATE, "--env", "local").returncode == 0
    assert ops(stack, "promote", "chat", "--env", "local").returncode == 0
    assert set(versions(stack, path, 40)) == {CANDIDATE}
    status = ops(stack, "status", "--env", "local", "--json")
    assert json.loads(status.stdout)["traffic"]["chat"]["stable_revision"] == CANDIDATE
    assert ops(stack, "rollback", "chat", "--to", STABLE, "--env", "local").returncode == 0
    assert set(versions(stack, path, 40)) == {STABLE}


def test_legacy_fallback_sends_the_whole_site_to_legacy_and_back(stack: LocalStack) -> None:
    assert ops(stack, "legacy", "on", "--env", "local").returncode == 0
    for path in stack.health_paths.values():
        assert versions(stack, path, 3) == ["legacy-standin"] * 3
    assert ops(stack, "legacy", "off", "--env", "local").returncode == 0
    assert set(versions(stack, stack.health_paths["chat"], 10)) == {STABLE}


def test_legacy_share_moves_one_service_only(stack: LocalStack) -> None:
    assert ops(stack, "legacy-share", "watch", "100", "--env", "local").returncode == 0
    assert versions(stack, stack.health_paths["watch"], 5) == ["legacy-standin"] * 5
    assert set(versions(stack, stack.health_paths["chat"], 5)) == {STABLE}
    assert ops(stack, "legacy-share", "watch", "0", "--env", "local").returncode == 0
    assert versions(stack, stack.health_paths["watch"], 5) == ["watch-stable"] * 5


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_simple_mode_switch_restarts_the_services_with_it(stack: LocalStack) -> None:
    old = {p.revision: p.pid for p in read_state(stack.run_dir).processes}
    result = ops(stack, "switch", "MODEL_FORCE_SIMPLE", "true", "--env", "local")
    assert result.returncode == 0, result.stderr
    new = {p.revision: p.pid for p in read_state(stack.run_dir).processes}
    assert set(new) == set(old)
    assert all(new[r] != old[r] for r in old), "every process restarts with the switch"
    assert all(environ_of(pid)["MODEL_FORCE_SIMPLE"] == "true" for pid in new.values())
    assert set(versions(stack, stack.health_paths["chat"], 10)) == {STABLE}
    assert ops(stack, "switch", "MODEL_FORCE_SIMPLE", "--clear", "--env", "local").returncode == 0
    latest = read_state(stack.run_dir).processes
    assert all("MODEL_FORCE_SIMPLE" not in environ_of(p.pid) for p in latest)


def test_restart_of_one_service_keeps_the_others(stack: LocalStack) -> None:
    old = {p.revision: p.pid for p in read_state(stack.run_dir).processes}
    assert ops(stack, "restart", "watch").returncode == 0
    new = {p.revision: p.pid for p in read_state(stack.run_dir).processes}
    assert new["watch-stable"] != old["watch-stable"]
    assert {r: p for r, p in new.items() if r != "watch-stable"} == {
        r: p for r, p in old.items() if r != "watch-stable"
    }
    assert versions(stack, stack.health_paths["watch"], 1) == ["watch-stable"]


def test_ctrl_c_stops_every_process(tmp_path: Path, redis_url: str) -> None:
    nginx_binary()
    running = start_stack(tmp_path / "stack", store="sqlite", candidates="", redis_url=redis_url)
    state = read_state(running.run_dir)
    pids = [p.pid for p in state.processes] + list(state.helpers.values())
    assert set(state.helpers) == {"nginx", "legacy"}
    running.process.send_signal(signal.SIGINT)
    assert running.process.wait(timeout=30) == 0
    for pid in pids:
        assert not alive(pid), f"process {pid} outlived the stack"
    with pytest.raises(httpx.ConnectError):
        httpx.get(running.url + "/", timeout=2)
    assert not (running.run_dir / "stack.json").exists()


def test_check_reports_every_service_ready_with_its_store_and_cache(stack: LocalStack) -> None:
    result = ops(stack, "check", "--env", "local")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert set(rows) == set(stack.health_paths)
    for line in rows.values():
        assert " ok " in line
        assert "sqlite:ok" in line
        assert "redis:ok" in line


def test_status_lists_the_split_and_the_stack_processes(stack: LocalStack) -> None:
    result = ops(stack, "status", "--env", "local")
    assert result.returncode == 0, result.stderr
    assert f"local stack on :{stack.port} (store sqlite)" in result.stdout
    for revision in ("chat-stable", "chat-candidate", "scenario-stable", "watch-stable", "migrate-session-stable"):
        assert f"  {revision} " in result.stdout


def test_streamed_events_pass_through_nginx_unbuffered(stack: LocalStack) -> None:
    """The stand-in legacy app sends three events 0.5 s apart; each must arrive when it is sent."""
    arrivals: list[float] = []
    started = time.perf_counter()
    with httpx.stream("GET", stack.url + STREAM_PATH, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.perf_counter() - started)
    assert len(arrivals) == 3
    assert arrivals[0] < 0.4, f"first event after {arrivals[0]:.2f} s: the proxy buffers"
    assert arrivals[2] - arrivals[0] > 0.8


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie awaiting its parent counts as gone)."""
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text().lower()
    except FileNotFoundError:
        return False


def stream_turn(
    client: httpx.Client, token: str, first_token: threading.Event
) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """POST a chat turn and read its SSE events; sets ``first_token`` when the first text arrives."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    events: list[tuple[str, dict[str, Any]]] = []
    with client.stream("POST", "/api/v2/chat", json={}, headers=headers) as stream:
        assert stream.status_code == 200
        upstream = stream.headers["x-stack-upstream"]
        event = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((event, json.loads(line.removeprefix("data: "))))
                if event == "token":
                    first_token.set()
    return upstream, events


def test_a_chat_stream_survives_the_rollback_of_its_canary(tmp_path: Path, private_redis: RedisServer) -> None:
    """Sign in at one service and stream a reply from another through nginx (model faked); roll the
    canary that serves the stream back mid-stream: the stream completes, new requests go to stable."""
    nginx_binary()
    # A Redis of this test's own: a real turn writes rate-limit and stream keys.
    running = start_stack(
        tmp_path / "stack", store="sqlite", candidates="chat", redis_url=private_redis.url, model="fake"
    )
    try:
        state = read_state(running.run_dir)
        fake = state.helpers["fake_gemini"]
        gemini = environ_of(state.processes[0].pid)["GEMINI_BASE_URL"]
        assert all(environ_of(p.pid)["GEMINI_BASE_URL"] == gemini for p in state.processes)
        reply = "スタック経由の返事です。ロールバックの最中も最後まで届きます。"
        config = {"text": reply, "chunk_chars": 4, "chunk_delay_ms": 400}
        assert httpx.post(gemini + "/_control/config", json=config, timeout=5).status_code == 200
        assert ops(running, "canary", "chat", "100", "--revision", CANDIDATE, "--env", "local").returncode == 0
        candidate_port = state.revisions()["chat"][CANDIDATE]
        with httpx.Client(base_url=running.url, timeout=30) as client:
            signed = client.post("/api/v2/auth/anonymous")
            assert signed.status_code == 201
            first_token = threading.Event()
            with ThreadPoolExecutor(1) as pool:
                turn = pool.submit(stream_turn, client, signed.json()["access_token"], first_token)
                assert first_token.wait(15), "no token arrived"
                assert ops(running, "rollback", "chat", "--env", "local").returncode == 0
                assert not turn.done(), "the stream should still be running during the rollback"
                assert set(versions(running, running.health_paths["chat"], 20)) == {STABLE}
                upstream, events = turn.result(timeout=30)
        assert upstream == f"127.0.0.1:{candidate_port}"
        assert "".join(str(data["text"]) for name, data in events if name == "token") == reply
        done = next(data for name, data in events if name == "done")
        assert (done["status"], done["simple_mode"], done["text"]) == ("complete", False, reply)
    finally:
        stop_stack(running)
    assert not alive(fake)
