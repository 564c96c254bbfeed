"""Fixtures of the browser suite: ``make run``'s gateway with the fake Gemini server, and Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.support.chat_server import MODELS
from tests.support.chromium import LAUNCH_ARGS, require_chromium
from tests.support.fake_gemini import FakeGeminiControl
from tests.support.local_gateway import run_gateway


def model_env(fake_gemini: FakeGeminiControl) -> dict[str, str]:
    return {
        "GEMINI_API_KEY": "browser-test-key",
        "GEMINI_BASE_URL": fake_gemini.url,
        "MODEL_FLASH": str(MODELS["MODEL_FLASH"]),
        "MODEL_PRO": str(MODELS["MODEL_PRO"]),
        "MODEL_TASK_OVERRIDES": json.dumps(MODELS["MODEL_TASK_OVERRIDES"]),
        "MODEL_RETRY_ATTEMPTS": "1",
    }


@pytest.fixture
def gateway(fake_gemini: FakeGeminiControl, tmp_path: Path) -> Iterator[str]:
    """The one-origin gateway of ``make run`` answering with the fake model."""
    with run_gateway(tmp_path, **model_env(fake_gemini)) as base:
        yield base


@pytest.fixture
def browser() -> Iterator[Browser]:
    executable = require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()
