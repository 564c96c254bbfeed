"""Child processes of the local stack: spawning, waiting until they answer, stopping them by id."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tools.ops.traffic import OpsError


def free_port(taken: set[int] | None = None) -> int:
    """A port that was free a moment ago (the kernel's choice) and is not in ``taken``, which it joins."""
    taken = taken if taken is not None else set()
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            taken.add(port)
            return port


def spawn(command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start a child in its own session: Ctrl-C reaches only the supervisor, which stops children in order."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM, *, group: bool = False) -> None:
    """Signal one child (or its whole process group, for wrappers such as gcloud that fork java)."""
    if process.poll() is not None:
        return
    try:
        if group:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
    except ProcessLookupError:
        return


def reap(process: subprocess.Popen[bytes], timeout: float, *, group: bool = False) -> None:
    """Wait for a signalled child; kill it (or its group) when it overstays."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process, signal.SIGKILL, group=group)
        process.wait(timeout=5)
    if group:
        # The wrapper may exit first and leave the JVM behind; the group id outlives it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def fetch(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """GET ``url`` (local only); (status, body), or (0, b"") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - local http URLs only
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (OSError, urllib.error.URLError):
        return 0, b""


def wait_until(
    what: str,
    check: Callable[[], bool],
    *,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
    log_path: Path | None = None,
) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` (and its log tail) on timeout or early exit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if process is not None and process.poll() is not None:
            raise OpsError(f"{what} exited with code {process.returncode} during startup{_tail(log_path)}")
        time.sleep(0.1)
    raise OpsError(f"{what} did not become ready within {timeout:.0f} s{_tail(log_path)}")


def _tail(log_path: Path | None, lines: int = 15) -> str:
    if log_path is None or not log_path.is_file():
        return ""
    text = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return f"; last lines of {log_path}:\n" + "\n".join(text)


def health_version(url: str) -> str | None:
    """The ``version`` a service's ``/health`` reports, or None when it does not answer 200."""
    status, body = fetch(url)
    if status != 200:
        return None
    try:
        value = json.loads(body).get("version")
    except (ValueError, AttributeError):
        return None
    return str(value) if value is not None else None


def python_command(*args: str) -> list[str]:
    return [sys.executable, *args]


def start_firestore_emulator(log_path: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    """Start the Firestore emulator (gcloud component) on ``port``; returns it and its host:port."""
    host = f"127.0.0.1:{port}"
    command = ["gcloud", "emulators", "firestore", "start", f"--host-port={host}", "--quiet"]
    try:
        process = spawn(command, log_path)
    except FileNotFoundError:
        raise OpsError("the Firestore emulator needs gcloud (with cloud-firestore-emulator); not found") from None
    wait_until(
        "the Firestore emulator",
        lambda: fetch(f"http://{host}/")[0] == 200,
        timeout=90,
        process=process,
        log_path=log_path,
    )
    return process, host
