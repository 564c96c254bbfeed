"""A local Redis Cluster from the ``redis-server`` binary: three primaries, one replica each, on loopback.

``make stack`` runs the services on it with ``STACK_REDIS_MODE=cluster`` and the test suite's cluster
fixtures use it (tests/support/redis_cluster.py), so the app is exercised on the same topology as
Memorystore for Redis Cluster. No persistence; every process is killed on :meth:`LocalCluster.stop`.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from pathlib import Path

import redis

from tools.ops.processes import free_port
from tools.ops.traffic import OpsError

PRIMARIES = 3
# Short, so a replica takes over a stopped primary within ~2 s (Memorystore's default is 15 s).
NODE_TIMEOUT_MS = 1000


class ClusterNodeProcess:
    """One cluster-enabled redis-server (no persistence, its own nodes.conf)."""

    def __init__(self, binary: str, workdir: Path, taken: set[int]) -> None:
        self.port = free_port(taken)
        # The bus port defaults to port + 10000, which may be out of range or taken: pick it too.
        self.bus_port = free_port(taken)
        self.workdir = workdir / str(self.port)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.binary = binary
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / "redis.log"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self) -> redis.Redis:
        """A plain client of this node only (no redirects): what it holds, its role."""
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def start(self) -> None:
        args = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--cluster-port", str(self.bus_port)]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir), "--daemonize", "no"]
        args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
        args += ["--cluster-node-timeout", str(NODE_TIMEOUT_MS)]
        # A replica may take over at once however long it was cut off (tests stop primaries on purpose).
        args += ["--cluster-replica-validity-factor", "0"]
        # Other shards keep serving while one shard has no primary (Memorystore behaves the same way).
        args += ["--cluster-require-full-coverage", "no", "--cluster-allow-reads-when-down", "no"]
        (self.workdir / "nodes.conf").unlink(missing_ok=True)  # a fresh cluster every time
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

    def wait_answering(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            with contextlib.suppress(redis.RedisError), self.client() as c:
                if c.ping():
                    return
            time.sleep(0.05)
        raise OpsError(f"Redis Cluster: node {self.address} did not start:\n{self.tail()}")

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-1500:] if self.log_path.exists() else ""

    def is_primary(self) -> bool:
        with self.client() as c:
            return bool(c.info("replication").get("role") == "master")

    def stop(self) -> None:
        """SIGKILL (an abrupt crash; no data to flush) and reap."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class LocalCluster:
    """Three primaries and ``replicas`` replicas each on loopback, joined into one cluster."""

    def __init__(self, workdir: Path, *, replicas: int = 1, taken: set[int] | None = None) -> None:
        binary = shutil.which("redis-server")
        cli = shutil.which("redis-cli")
        if binary is None or cli is None:
            raise OpsError("Redis Cluster: redis-server and redis-cli are required (apt-get install redis-server)")
        self.cli = cli
        self.replicas = replicas
        taken = taken if taken is not None else set()
        self.nodes = [ClusterNodeProcess(binary, workdir, taken) for _ in range(PRIMARIES * (1 + replicas))]

    @property
    def url(self) -> str:
        """What REDIS_URL holds with REDIS_MODE=cluster: any one node (the client discovers the rest)."""
        return f"redis://{self.nodes[0].address}/0"

    def start(self, timeout_s: float = 30.0) -> None:
        """Start every node, join them, wait until every slot is served (stops them all if that fails)."""
        try:
            for node in self.nodes:
                node.start()
            for node in self.nodes:
                node.wait_answering()
            create = [self.cli, "--cluster", "create", *(n.address for n in self.nodes)]
            create += ["--cluster-replicas", str(self.replicas), "--cluster-yes"]
            done = subprocess.run(create, capture_output=True, text=True, timeout=60, check=False)
            if done.returncode != 0:
                raise OpsError(f"Redis Cluster: redis-cli --cluster create failed:\n{done.stdout}\n{done.stderr}")
            self.wait_healthy(timeout_s)
        except BaseException:
            self.stop()
            raise

    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        """Until every live node says cluster_state:ok and sees all slots, and every shard has a primary."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(self._node_ok(n) for n in self.live_nodes()) and len(self.primaries()) == PRIMARIES:
                return
            time.sleep(0.1)
        logs = "\n".join(n.tail()[-400:] for n in self.nodes)
        raise OpsError(f"Redis Cluster did not become healthy in {timeout_s:.0f}s:\n{logs}")

    @staticmethod
    def _node_ok(node: ClusterNodeProcess) -> bool:
        try:
            with node.client() as c:
                info = c.execute_command("CLUSTER", "INFO")
        except redis.RedisError:
            return False
        text = info.decode() if isinstance(info, bytes) else str(info)
        return "cluster_state:ok" in text and "cluster_slots_ok:16384" in text

    def live_nodes(self) -> list[ClusterNodeProcess]:
        return [n for n in self.nodes if n.process is not None and n.process.poll() is None]

    def primaries(self) -> list[ClusterNodeProcess]:
        """The live nodes that are primaries now (after a failover, a former replica)."""
        found: list[ClusterNodeProcess] = []
        for node in self.live_nodes():
            with contextlib.suppress(redis.RedisError):
                if node.is_primary():
                    found.append(node)
        return found

    def pids(self) -> list[int]:
        return [n.process.pid for n in self.nodes if n.process is not None]

    def stop(self) -> None:
        for node in self.nodes:
            with contextlib.suppress(Exception):
                node.stop()
