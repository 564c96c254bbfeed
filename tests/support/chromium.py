"""Debian's Chromium for browser tests (Playwright's own browser download does not work here)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> str:
    """The Chromium binary, installed with apt-get when missing; FAILS naming Chromium otherwise."""
    if CHROMIUM.exists():
        return str(CHROMIUM)
    if shutil.which("apt-get") and os.geteuid() == 0:
        result = subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            capture_output=True,
            timeout=900,
            check=False,
        )
        if CHROMIUM.exists():
            return str(CHROMIUM)
        detail = result.stderr.decode(errors="replace")[-1500:]
        pytest.fail(
            f"Chromium is required for browser tests: apt-get install chromium failed:\n{detail}", pytrace=False
        )
    pytest.fail(
        "Chromium is required for browser tests: /usr/bin/chromium is missing (apt-get install -y chromium)",
        pytrace=False,
    )
