"""Pytest plugin: the official Firestore emulator for the session, emptied before each test that asks.

``firestore_emulator`` (session) starts the emulator's JVM on a free port with a project id unique to this
session, and kills that JVM at the end (finalizer, and ``atexit`` as a second line). When java or the
emulator jar is missing, or the emulator does not answer within ``FIRESTORE_EMULATOR_START_TIMEOUT_S``,
every test that needs it FAILS with a message naming the Firestore emulator; nothing is skipped.
``firestore_emulator_clean`` (function) deletes every document of the session's project first.

Java is started directly: the SDK's wrapper script does not ``exec`` java, so killing the wrapper would
leave the JVM running (see notes/libraries.md §7).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import httpx
import pytest
from pydantic_settings import BaseSettings, SettingsConfigDict

from tests.support.processes import free_port, wait_http_ok

_JAR = Path("platform/cloud-firestore-emulator/cloud-firestore-emulator.jar")
_MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"
_FALLBACK_SDK_ROOT = Path("/usr/lib/google-cloud-sdk")


class FirestoreEmulatorSettings(BaseSettings):
    """The test suite's own knobs for the emulator (the app's settings classes are not involved)."""

    model_config = SettingsConfigDict(extra="ignore")

    FIRESTORE_EMULATOR_START_TIMEOUT_S: float = 30.0
    # Empty: ask gcloud, then fall back to /usr/lib/google-cloud-sdk.
    FIRESTORE_EMULATOR_SDK_ROOT: str = ""


@dataclass(frozen=True)
class FirestoreEmulator:
    """A running emulator: where it listens and the project id this session uses."""

    host: str
    port: int
    project: str

    @property
    def address(self) -> str:
        """``host:port``, the form of FIRESTORE_EMULATOR_HOST."""
        return f"{self.host}:{self.port}"

    def reset(self) -> None:
        """Delete every document of this session's project (the emulator's own reset endpoint)."""
        url = f"http://{self.address}/emulator/v1/projects/{self.project}/databases/(default)/documents"
        response = httpx.delete(url, timeout=10.0)
        if response.status_code != 200:
            pytest.fail(f"Firestore emulator: reset answered {response.status_code}: {response.text}")


def sdk_root(configured: str) -> Path:
    """The Cloud SDK root: the knob, else what gcloud reports, else the Debian package's location."""
    if configured:
        return Path(configured)
    gcloud = shutil.which("gcloud")
    if gcloud is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            found = subprocess.run(
                [gcloud, "info", "--format=value(installation.sdk_root)"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout.strip()
            if found:
                return Path(found)
    return _FALLBACK_SDK_ROOT


_PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> Callable[[], None] | None:
    """A pre-exec hook that has the kernel SIGKILL the JVM if pytest itself is killed (Linux only).

    The signal follows the forking thread; fixtures run on pytest's main thread, which lives as long as pytest.

    libc is resolved here, in the parent, so the forked child only makes one foreign call.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return hook


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _fail(reason: str, log_path: Path | None = None) -> NoReturn:
    tail = log_path.read_text(errors="replace")[-2000:] if log_path and log_path.exists() else ""
    pytest.fail(f"Firestore emulator: {reason}" + (f"\n--- emulator log ---\n{tail}" if tail else ""), pytrace=False)


def start_emulator(
    workdir: Path, settings: FirestoreEmulatorSettings
) -> tuple[subprocess.Popen[bytes], FirestoreEmulator]:
    """Start the JVM on a free port and wait for ``GET /``; fails the requesting tests on any problem."""
    java = shutil.which("java")
    if java is None:
        _fail("java is not on PATH (the official emulator is a Java program; install a JRE 17)")
    root = sdk_root(settings.FIRESTORE_EMULATOR_SDK_ROOT)
    jar = root / _JAR
    if not jar.is_file():
        _fail(
            f"{jar} is missing (install the Debian package google-cloud-cli-firestore-emulator, "
            "or set FIRESTORE_EMULATOR_SDK_ROOT)"
        )
    port = free_port()
    emulator = FirestoreEmulator("127.0.0.1", port, f"wr-test-{uuid.uuid4().hex[:10]}")
    log_path = workdir / f"firestore-emulator-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(java), "-Duser.language=en", "-cp", str(jar), _MAIN_CLASS,
                "start", f"--host={emulator.host}", f"--port={port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Finalizer and atexit cover normal ends; this covers a pytest killed by SIGKILL or a CI timeout.
            preexec_fn=_parent_death_signal(),
        )  # fmt: skip
    atexit.register(_stop, process)
    try:
        wait_http_ok(
            f"http://{emulator.address}/", timeout_s=settings.FIRESTORE_EMULATOR_START_TIMEOUT_S, process=process
        )
    except AssertionError as exc:
        _stop(process)
        _fail(f"did not start on port {port}: {exc}", log_path)
    return process, emulator


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirestoreEmulator]:
    """The session's Firestore emulator (started on first use)."""
    process, emulator = start_emulator(tmp_path_factory.mktemp("firestore"), FirestoreEmulatorSettings())
    try:
        yield emulator
    finally:
        _stop(process)
        atexit.unregister(_stop)


@pytest.fixture
def firestore_emulator_clean(firestore_emulator: FirestoreEmulator) -> FirestoreEmulator:
    """The emulator with no documents in this session's project."""
    firestore_emulator.reset()
    return firestore_emulator
