"""Pytest plugin: the project's fake Gemini server (``tools/fake_gemini.py``) as a real HTTP process.

``fake_gemini_url`` (session) starts ``python -m tools.fake_gemini --port 0`` once; ``fake_gemini``
resets its state for each test and returns a small client of its control API.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


class FakeGeminiControl:
    """Drives the fake over its control endpoints."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._http = httpx.Client(base_url=url, timeout=5.0)

    def reset(self) -> None:
        self._http.post("/_control/reset").raise_for_status()

    def configure(self, **values: Any) -> None:
        self._http.post("/_control/config", json=values).raise_for_status()

    def script(self, target: str, *actions: dict[str, Any]) -> None:
        self._http.post("/_control/script", json={"target": target, "actions": list(actions)}).raise_for_status()

    def requests(self, *, method: str | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._http.get("/_control/requests").json()
        return [r for r in rows if method is None or r["method"] == method]

    def stats(self) -> dict[str, int]:
        stats: dict[str, int] = self._http.get("/_control/stats").json()
        return stats

    def wait_for(self, name: str, value: int, *, timeout_s: float = 3.0) -> dict[str, int]:
        """Poll the stats until ``name`` reaches ``value`` (the server notices disconnects a bit later)."""
        deadline = time.monotonic() + timeout_s
        stats = self.stats()
        while stats[name] < value and time.monotonic() < deadline:
            time.sleep(0.02)
            stats = self.stats()
        return stats

    def close(self) -> None:
        self._http.close()


@pytest.fixture(scope="session")
def fake_gemini_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("fake_gemini") / "server.log"
    with log_path.open("wb") as log:
        # Only the one "listening" line goes to stdout; the server's own logs go to the file.
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.fake_gemini", "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=log
        )
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.startswith("fake_gemini listening on "):
        process.kill()
        process.wait(timeout=5)
        tail = log_path.read_text(errors="replace")[-2000:]
        pytest.fail(f"fake Gemini server (tools/fake_gemini.py) did not start: {line!r}\n{tail}", pytrace=False)
    url = line.removeprefix("fake_gemini listening on ")
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def fake_gemini(fake_gemini_url: str) -> Iterator[FakeGeminiControl]:
    control = FakeGeminiControl(fake_gemini_url)
    control.reset()
    try:
        yield control
    finally:
        control.close()
