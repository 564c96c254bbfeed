"""Pytest plugin: a real Redis Cluster of our own (three primaries, one replica each) on free loopback ports.

Built from the ``redis-server`` binary in cluster mode and joined with ``redis-cli --cluster create``,
like a small Memorystore for Redis Cluster. ``redis_cluster`` is shared by the session (tests use
random key prefixes, as on the single Redis); ``private_redis_cluster`` belongs to one test, which may
kill a primary (failover) or count keys per node. Every process is stopped afterwards, also on failure.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support.redis_server import free_port, require_redis_server

PRIMARIES = 3
# Short, so a replica takes over a stopped primary within ~2 s (Memorystore's default is 15 s).
NODE_TIMEOUT_MS = 1000


class ClusterNodeProcess:
    """One cluster-enabled redis-server (no persistence, its own nodes.conf)."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.port = free_port()
        # The bus port defaults to port + 10000, which may be out of range or taken: pick it too.
        self.bus_port = free_port()
        self.workdir = workdir / str(self.port)
        self.workdir.mkdir(parents=True)
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
        args = [
            self.binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--cluster-port",
            str(self.bus_port),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        args += ["--dir", str(self.workdir), "--daemonize", "no", "--cluster-enabled", "yes"]
        args += ["--cluster-config-file", "nodes.conf", "--cluster-node-timeout", str(NODE_TIMEOUT_MS)]
        # A replica may take over at once however long it was cut off (the test stops primaries on purpose).
        args += ["--cluster-replica-validity-factor", "0"]
        # Other shards keep serving while one shard has no primary (Memorystore behaves the same way).
        args += ["--cluster-require-full-coverage", "no", "--cluster-allow-reads-when-down", "no"]
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()

    def wait_answering(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            with contextlib.suppress(redis.RedisError), self.client() as c:
                if c.ping():
                    return
            time.sleep(0.05)
        pytest.fail(f"Redis Cluster: node {self.address} did not start:\n{self.tail()}", pytrace=False)

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
    """Three primaries and three replicas on loopback, joined into one cluster."""

    def __init__(self, workdir: Path, *, replicas: int = 1) -> None:
        binary = require_redis_server()
        self.cli = shutil.which("redis-cli")
        if self.cli is None:
            pytest.fail("Redis Cluster: redis-cli is required to create the cluster (apt-get install redis-tools)")
        self.replicas = replicas
        self.nodes = [ClusterNodeProcess(binary, workdir) for _ in range(PRIMARIES * (1 + replicas))]

    @property
    def url(self) -> str:
        """What REDIS_URL holds with REDIS_MODE=cluster: any one node (the client discovers the rest)."""
        return f"redis://{self.nodes[0].address}/0"

    def start(self, timeout_s: float = 30.0) -> None:
        for node in self.nodes:
            node.start()
        for node in self.nodes:
            node.wait_answering()
        assert self.cli is not None
        create = [self.cli, "--cluster", "create", *(n.address for n in self.nodes)]
        create += ["--cluster-replicas", str(self.replicas), "--cluster-yes"]
        done = subprocess.run(create, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            pytest.fail(f"Redis Cluster: redis-cli --cluster create failed:\n{done.stdout}\n{done.stderr}")
        self.wait_healthy(timeout_s)

    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        """Until every live node says cluster_state:ok and sees all slots (and every shard has a primary)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(self._node_ok(n) for n in self.live_nodes()) and len(self.primaries()) == PRIMARIES:
                return
            time.sleep(0.1)
        logs = "\n".join(n.tail()[-400:] for n in self.nodes)
        pytest.fail(f"Redis Cluster did not become healthy in {timeout_s:.0f}s:\n{logs}", pytrace=False)

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

    def keys_per_primary(self, match: str) -> dict[str, int]:
        """How many keys matching ``match`` each primary holds (SCAN on that node alone)."""
        counts: dict[str, int] = {}
        for node in self.primaries():
            with node.client() as c:
                counts[node.address] = sum(1 for _ in c.scan_iter(match=match, count=500))
        return counts

    def stop(self) -> None:
        for node in self.nodes:
            with contextlib.suppress(Exception):
                node.stop()


def delete_cluster_namespace(cluster: LocalCluster, namespace: str) -> None:
    """Remove one test's keys from every primary (SCAN + UNLINK per node, never FLUSHALL)."""
    for node in cluster.primaries():
        with contextlib.suppress(redis.RedisError), node.client() as c:
            for key in list(c.scan_iter(match=namespace + "*", count=500)):
                # One key per UNLINK: a node holds many slots, a multi-key UNLINK would be CROSSSLOT.
                c.unlink(key)


@contextlib.contextmanager
def running_cluster(workdir: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(workdir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A cluster the whole session shares (tests keep to their own key prefixes)."""
    with running_cluster(tmp_path_factory.mktemp("redis-cluster")) as cluster:
        yield cluster


@pytest.fixture
def private_redis_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    """A cluster only this test uses: it may stop a primary or count every key per node."""
    with running_cluster(tmp_path) as cluster:
        yield cluster
