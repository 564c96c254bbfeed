"""``make stack``: every service its own uvicorn process behind nginx, like the load balancer.

Firestore emulator (or embedded SQLite) + local Redis + one process per service (plus a candidate
process for the services in ``STACK_CANDIDATES``) + a legacy stand-in, behind nginx configured from
``services.yaml`` and ``<STACK_DIR>/traffic.json``. The ops commands act on it with ``--env local``.
The supervisor restarts a service process that exits (``ops restart``) and stops everything on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from tools.ops import nginx
from tools.ops.processes import (
    fetch,
    free_port,
    health_version,
    python_command,
    reap,
    spawn,
    start_firestore_emulator,
    stop,
    wait_until,
)
from tools.ops.redis_cluster import LocalCluster
from tools.ops.settings import OpsSettings
from tools.ops.stack_state import (
    STATE_FILE,
    SWITCHES_FILE,
    TRAFFIC_FILE,
    Process,
    StackState,
    nginx_paths,
    read_state,
    signal_process,
    write_state,
)
from tools.ops.switches import read_switches
from tools.ops.traffic import OpsError, TrafficFile, default_state
from workplace_roleplay.catalog import Catalog, load_catalog

STARTUP_TIMEOUT_S = 60.0


@dataclass
class _Child:
    spec: Process
    popen: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.monotonic)


class Stack:
    """The supervisor: owns every child process and the stack's state file."""

    def __init__(self, settings: OpsSettings, catalog: Catalog, *, store: str, port: int, candidates: list[str]):
        self.settings = settings
        self.catalog = catalog
        self.store = store
        self.port = port
        self.candidates = candidates
        self.dir = settings.STACK_DIR.resolve()
        self.logs = self.dir / "logs"
        self.nginx_paths = nginx_paths(self.dir)
        self.children: list[_Child] = []
        self.emulator: subprocess.Popen[bytes] | None = None
        self.emulator_host = ""
        self.legacy: subprocess.Popen[bytes] | None = None
        self.fake_gemini: subprocess.Popen[bytes] | None = None
        self.fake_gemini_url = ""
        self.redis_cluster: LocalCluster | None = None
        self.redis_url = ""
        self.nginx: subprocess.Popen[bytes] | None = None
        self.legacy_port = 0
        self.nginx_bin = ""
        self.stopping = False
        self.started = False

    # --- startup -------------------------------------------------------------------------------

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.nginx_bin = nginx.ensure_installed()
        # Choose every port first and let nginx bind its own at once, so the children's port picks
        # (and the emulator JVM's own sockets) cannot take the port the stack was asked to serve on.
        taken = {self.port}
        self.legacy_port = free_port(taken)
        state = default_state({e.name: e.cloud_run_name for e in self.catalog.services})
        specs: list[Process] = []
        for entry in self.catalog.services:
            revisions = [state.service(entry.name).stable_revision]
            if entry.name in self.candidates:
                revisions.append(f"{entry.cloud_run_name}-candidate")
            specs += [Process(entry.name, revision, free_port(taken)) for revision in revisions]
        TrafficFile(
            self.dir / TRAFFIC_FILE,
            [e.name for e in self.catalog.services],
            {e.name: e.cloud_run_name for e in self.catalog.services},
        ).write(state)
        revisions_by_service: dict[str, dict[str, int]] = {}
        for spec in specs:
            revisions_by_service.setdefault(spec.service, {})[spec.revision] = spec.port
        text = nginx.render(self.catalog, state, revisions_by_service, self.legacy_port, self.port, self.nginx_paths)
        nginx.write_config(self.nginx_paths, text)
        nginx.check_config(self.nginx_bin, self.nginx_paths)
        self.nginx = spawn(
            [*self.nginx_paths.base_command(self.nginx_bin), "-g", "daemon off;"], self.logs / "nginx.log"
        )
        generation = f"http://127.0.0.1:{self.port}{nginx.GENERATION_PATH}"
        wait_until(
            f"nginx on port {self.port}",
            lambda: fetch(generation)[0] == 200,
            timeout=15,
            process=self.nginx,
            log_path=self.nginx_paths.error_log,
        )
        if self.store == "firestore":
            self.emulator, self.emulator_host = start_firestore_emulator(self.logs / "firestore.log", free_port(taken))
        self._start_redis(taken)
        if self.settings.STACK_MODEL == "fake":
            self._start_fake_gemini(free_port(taken))
        self.legacy = spawn(
            python_command("-m", "tools.ops.legacy_standin", str(self.legacy_port)), self.logs / "legacy.log"
        )
        for spec in specs:
            self._spawn_service(spec)
        for child in self.children:
            self._wait_healthy(child)
        probe = f"http://127.0.0.1:{self.port}{self.catalog.services[0].health_path}"
        wait_until("nginx → services", lambda: health_version(probe) is not None, timeout=15)
        write_state(self.dir, self._state())
        self.started = True

    def _start_redis(self, taken: set[int]) -> None:
        """With STACK_REDIS_MODE=cluster and no STACK_REDIS_URL, a local Redis Cluster of the stack's own."""
        if self.settings.STACK_REDIS_MODE != "cluster":
            self.redis_url = self.settings.stack_redis_url
            return
        if self.settings.STACK_REDIS_URL:
            self.redis_url = self.settings.STACK_REDIS_URL
            return
        self.redis_cluster = LocalCluster(self.dir / "redis-cluster", taken=taken)
        self.redis_cluster.start()
        self.redis_url = self.redis_cluster.url

    def _start_fake_gemini(self, port: int) -> None:
        log = self.logs / "fake_gemini.log"
        self.fake_gemini = spawn(python_command("-m", "tools.fake_gemini", "--port", str(port)), log)
        self.fake_gemini_url = f"http://127.0.0.1:{port}"
        wait_until(
            "the fake Gemini server",
            lambda: fetch(self.fake_gemini_url + "/_control/stats")[0] == 200,
            timeout=30,
            process=self.fake_gemini,
            log_path=log,
        )

    def _env(self, spec: Process) -> dict[str, str]:
        """The variables a service process gets on top of the environment it inherits."""
        env = {
            "ENV": "local",
            "SERVICE_VERSION": spec.revision,
            "STORE_BACKEND": self.store,
            "DATA_DIR": str(self.dir / "data"),
            "GOOGLE_CLOUD_PROJECT": "demo-stack",
            "FIRESTORE_EMULATOR_HOST": self.emulator_host,
            "REDIS_URL": self.redis_url,
            "REDIS_MODE": self.settings.STACK_REDIS_MODE,
            # Only nginx (on loopback) reaches the services; it appends the client's address (ADR 0018).
            "TRUSTED_PROXIES": "127.0.0.1/32,::1/128",
            "FORWARDED_CLIENT_POSITION": "1",
            # Read only with TRACE_EXPORTER=file: every process appends its spans to one file of the stack
            # (`make ops ARGS="traces slowest"` reads it; ADR 0028).
            "TRACE_FILE": str(self.dir / "traces.jsonl"),
        }
        if self.fake_gemini_url:
            env.update({"GEMINI_API_KEY": "stack-fake-key", "GEMINI_BASE_URL": self.fake_gemini_url})
        env.update(read_switches(self.dir / SWITCHES_FILE))
        return env

    def _spawn_service(self, spec: Process) -> _Child:
        entry = self.catalog.get(spec.service)
        log = self.logs / f"{spec.revision}.log"
        command = python_command(
            "-m", "uvicorn", "--factory", f"{entry.module}:create",
            "--host", "127.0.0.1", "--port", str(spec.port), "--no-access-log", "--log-level", "warning",
            "--no-proxy-headers",
        )  # fmt: skip
        # `env NAME=value ... cmd` adds to the inherited environment (and execs, keeping the pid), so
        # nothing here reads os.environ; configuration stays in the settings classes.
        assignments = [f"{name}={value}" for name, value in self._env(spec).items()]
        popen = spawn(["env", *assignments, *command], log)
        spec.pid = popen.pid
        child = _Child(spec, popen, log)
        self.children = [c for c in self.children if c.spec.revision != spec.revision] + [child]
        return child

    def _wait_healthy(self, child: _Child) -> None:
        url = f"http://127.0.0.1:{child.spec.port}{self.catalog.get(child.spec.service).health_path}"
        wait_until(
            f"service {child.spec.service} ({child.spec.revision})",
            lambda: health_version(url) == child.spec.revision,
            timeout=STARTUP_TIMEOUT_S,
            process=child.popen,
            log_path=child.log,
        )

    def _state(self) -> StackState:
        return StackState(
            supervisor_pid=os.getpid(),
            port=self.port,
            legacy_port=self.legacy_port,
            nginx_bin=self.nginx_bin,
            store=self.store,
            processes=[c.spec for c in self.children],
            helpers={
                role: process.pid
                for role, process in (
                    ("nginx", self.nginx),
                    ("legacy", self.legacy),
                    ("emulator", self.emulator),
                    ("fake_gemini", self.fake_gemini),
                )
                if process is not None
            }
            | self._cluster_helpers(),
        )

    def _cluster_helpers(self) -> dict[str, int]:
        if self.redis_cluster is None:
            return {}
        return {f"redis-{node.port}": node.process.pid for node in self.redis_cluster.nodes if node.process}

    # --- running ---------------------------------------------------------------------------------

    def supervise(self) -> int:
        """Respawn service processes that exit; return when asked to stop or when nginx dies."""
        while not self.stopping:
            if self.nginx is not None and self.nginx.poll() is not None:
                print(f"stack: nginx exited with code {self.nginx.returncode}; stopping", flush=True)
                return 1
            for child in list(self.children):
                if child.popen.poll() is None:
                    continue
                if time.monotonic() - child.started < 2:
                    time.sleep(1)  # a crash loop: do not spin
                print(f"stack: {child.spec.revision} exited ({child.popen.returncode}); restarting", flush=True)
                self._spawn_service(Process(child.spec.service, child.spec.revision, child.spec.port))
                write_state(self.dir, self._state())
            time.sleep(0.1)
        return 0

    def shutdown(self) -> None:
        """Graceful: nginx finishes in-flight requests (QUIT), then services, legacy, emulator."""
        self.stopping = True
        if self.nginx is not None:
            stop(self.nginx, signal.SIGQUIT)
            reap(self.nginx, 10)
        for child in self.children:
            stop(child.popen)
        for child in self.children:
            reap(child.popen, 10)
        for helper in (self.legacy, self.fake_gemini):
            if helper is not None:
                stop(helper)
                reap(helper, 5)
        if self.emulator is not None:
            stop(self.emulator, group=True)
            reap(self.emulator, 10, group=True)
        if self.redis_cluster is not None:
            self.redis_cluster.stop()
        (self.dir / STATE_FILE).unlink(missing_ok=True)


def run_stack(settings: OpsSettings, *, store: str | None, port: int | None, candidates: str | None) -> int:
    """Start the stack, print where it listens, supervise until Ctrl-C/SIGTERM, stop everything."""
    catalog = load_catalog()
    chosen = [c.strip() for c in (candidates if candidates is not None else settings.STACK_CANDIDATES).split(",")]
    chosen = [c for c in chosen if c]
    for name in chosen:
        catalog.get(name)
    try:
        read_state(settings.STACK_DIR)
    except OpsError:
        pass
    else:
        raise OpsError(f"a stack already runs in {settings.STACK_DIR}; stop it first (Ctrl-C)")
    stack = Stack(settings, catalog, store=store or settings.STACK_STORE, port=port or settings.PORT, candidates=chosen)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stack.stopping = True
        if not stack.started:
            raise KeyboardInterrupt  # interrupt a startup wait; the finally below stops what started

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        base = f"http://127.0.0.1:{stack.port}"
        model = f"fake Gemini at {stack.fake_gemini_url}" if stack.fake_gemini_url else "auto"
        redis_desc = f"{settings.STACK_REDIS_MODE} {stack.redis_url}"
        print(
            f"stack ready: {base}/  (store={stack.store}, redis={redis_desc}, model={model}, run dir {stack.dir}; "
            "Ctrl-C で停止 / stop)",
            flush=True,
        )
        for entry in catalog.services:
            print(f"  {base}{entry.health_path}", flush=True)
        return stack.supervise()
    except KeyboardInterrupt:
        return 130
    finally:
        stack.shutdown()
        print("stack stopped", flush=True)


def request_restart(stack_dir: Path, service: str | None) -> float:
    """Restart one service's processes (or all), one at a time; returns the seconds it took."""
    started = time.perf_counter()
    state = read_state(stack_dir)
    targets = [p for p in state.processes if service is None or p.service == service]
    if not targets:
        raise OpsError(f"no stack process for service {service!r}")
    catalog = load_catalog()
    for old in targets:
        signal_process(old.pid)
        url = f"http://127.0.0.1:{old.port}{catalog.get(old.service).health_path}"

        def restarted(old: Process = old, url: str = url) -> bool:
            current = {p.revision: p.pid for p in read_state(stack_dir).processes}
            return current.get(old.revision) not in (None, old.pid) and health_version(url) == old.revision

        wait_until(f"restart of {old.revision}", restarted, timeout=STARTUP_TIMEOUT_S)
    return time.perf_counter() - started
