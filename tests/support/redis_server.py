"""Pytest plugin: a Redis for the suite, private killable redis-servers, per-test key namespaces.

``redis_url`` (session): ``REDIS_URL`` if something answers there (default ``redis://127.0.0.1:6379/0``),
else a ``redis-server`` started on a free port for the session, else the test FAILS naming Redis.
``private_redis``: a redis-server of the test's own that it may kill and restart on the same port.
``redis_namespace``: a random key prefix; the test's keys are removed with SCAN afterwards. The
shared Redis serves several people's runs at once, so nothing here ever flushes a database.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import redis
from pydantic_settings import BaseSettings, SettingsConfigDict

from tests.support.tls import TlsFiles


class RedisTestSettings(BaseSettings):
    """The test suite's own Redis knob (the app's settings classes are not involved)."""

    model_config = SettingsConfigDict(extra="ignore")

    REDIS_URL: str = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    return url.replace(parts.netloc, f"{parts.username or ''}:***@{host}:{parts.port or 6379}")


def redis_answers(url: str, timeout_s: float = 0.5) -> bool:
    """True when a Redis at ``url`` answers PING."""
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def require_redis_server() -> str:
    """The redis-server binary, or a test failure that says it is missing."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "Redis is required: this test starts its own redis-server, but no redis-server binary is on "
            "PATH (install it: apt-get install redis-server)",
            pytrace=False,
        )
    return binary


class RedisServer:
    """A redis-server process of our own (no persistence) that a test may kill and restart on its port.

    With ``password`` it requires AUTH; with ``tls`` it speaks only TLS on its port (like Memorystore
    with in-transit encryption), and :attr:`url` is the matching ``rediss://`` URL.
    """

    def __init__(
        self,
        binary: str,
        workdir: Path,
        port: int | None = None,
        *,
        password: str | None = None,
        tls: TlsFiles | None = None,
    ) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        self.password = password
        self.tls = tls
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"redis-{self.port}.log"

    @property
    def url(self) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        if self.tls is None:
            return f"redis://{auth}127.0.0.1:{self.port}/0"
        return f"rediss://{auth}127.0.0.1:{self.port}/0?ssl_ca_certs={quote(str(self.tls.ca_cert))}"

    def client(self) -> redis.Redis:
        """A plain synchronous client for looking at the server directly."""
        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def _args(self) -> list[str]:
        args = [self.binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(self.workdir), "--daemonize", "no"]
        if self.password:
            args += ["--requirepass", self.password]
        if self.tls is None:
            return [*args, "--port", str(self.port)]
        return [
            *args,
            "--port", "0",
            "--tls-port", str(self.port),
            "--tls-cert-file", str(self.tls.cert),
            "--tls-key-file", str(self.tls.key),
            "--tls-ca-cert-file", str(self.tls.ca_cert),
            "--tls-auth-clients", "no",
        ]  # fmt: skip

    def start(self, timeout_s: float = 10.0) -> None:
        """Start (or restart, same port) and wait until it answers PING."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"redis-server on port {self.port} is already running")
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(self._args(), stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if redis_answers(self.url, timeout_s=0.2):
                return
            time.sleep(0.05)
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        pytest.fail(f"Redis: redis-server on port {self.port} did not start:\n{tail}", pytrace=False)

    def kill(self) -> None:
        """SIGKILL: the abrupt outage (no goodbye to clients)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Terminate gracefully, kill if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()


def delete_namespace(url: str, namespace: str) -> None:
    """Remove one test's keys (SCAN + UNLINK; never FLUSHDB on the shared server)."""
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        keys = list(client.scan_iter(match=namespace + "*", count=500))
        for start in range(0, len(keys), 500):
            client.unlink(*keys[start : start + 500])
    except redis.RedisError:
        pass  # the server is gone; so are the keys
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a Redis every test may use (with its own key prefixes)."""
    url = RedisTestSettings().REDIS_URL
    if redis_answers(url):
        yield url
        return
    if shutil.which("redis-server") is None:
        pytest.fail(
            f"Redis is required: nothing answers at REDIS_URL={redacted(url)} and no redis-server binary "
            "is on PATH to start one (start Redis or install redis-server)",
            pytrace=False,
        )
    server = RedisServer(require_redis_server(), tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_namespace(redis_url: str) -> Iterator[str]:
    """A random key prefix for one test; its keys are deleted afterwards."""
    namespace = f"test:{uuid.uuid4().hex[:12]}:"
    yield namespace
    delete_namespace(redis_url, namespace)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server only this test uses; it may kill and restart it. Stopped at the end (also on failure)."""
    server = RedisServer(require_redis_server(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
