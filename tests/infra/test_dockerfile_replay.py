"""The Dockerfile recipe, replayed without docker, builds an environment that serves the service's health."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.infra.dockerfile_replay import Replay, parse
from tests.infra.test_checkov import _uv

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize("service", ["migrate_session"])
def test_the_image_recipe_installs_only_locked_runtime_deps_and_serves_health(
    repo: Path, tmp_path: Path, service: str
) -> None:
    stages = parse((repo / "Dockerfile").read_text(encoding="utf-8"))
    assert [s.name for s in stages] == ["build", "runtime"]
    replay = Replay(repo, tmp_path, _uv(repo), service)
    for stage in stages:
        replay.run_stage(stage)
    app = tmp_path / "fs/runtime/app"
    venv = tmp_path / "fs/build/app/.venv"
    assert (app / "services.yaml").is_file()
    assert (app / f"functions/{service}/main.py").is_file()
    assert not (app / "functions/chat").exists()  # only this service's code is in its image
    installed = {p.name.split("-")[0].lower() for p in (venv / "lib").glob("python3*/site-packages/*.dist-info")}
    for dev_only in ("pytest", "mypy", "ruff", "playwright"):
        assert dev_only not in installed, f"dev dependency {dev_only} ended up in the image"
    port = _free_port()
    # The image's CMD, with the replayed venv's interpreter and ENV=local so no cloud settings are needed.
    server = subprocess.Popen(
        [
            str(venv / "bin/python"),
            "-m",
            "uvicorn",
            "--factory",
            f"functions.{service}.main:create",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=app,
        env={"PATH": "/usr/bin:/bin", "PORT": str(port), "DATA_DIR": str(tmp_path / "data")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        body: dict[str, str] = {}
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    body = json.loads(response.read())
                    break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.3)
        exited = server.poll() is not None
        log = server.stdout.read() if exited and server.stdout else "no answer within 30 s"
        assert body.get("status") == "ok", log
    finally:
        server.terminate()
        server.wait(timeout=10)
