"""Watch mode offline (no Gemini configured, embedded SQLite): the simple-response mode speaks watch lines that
address the other character, and the quizzes are deterministic questions about the actual dialogue."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.watch_server import PREFIX, next_line, run_watch_server, start_run, watch_test_settings

pytestmark = pytest.mark.integration


async def test_simple_mode_lines_and_a_deterministic_quiz_on_the_dialogue(
    tmp_path: Path, redis_url: str, redis_namespace: str
) -> None:
    settings = watch_test_settings(None, STORE_BACKEND="sqlite", DATA_DIR=tmp_path, WATCH_QUIZ_EVERY=2)
    async with run_watch_server(settings, redis_url=redis_url, namespace=redis_namespace) as server:
        _, headers = await server.sign_in()
        async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
            cid = await start_run(client, headers, topic="food")
            first = await next_line(client, headers, cid)
            second = await next_line(client, headers, cid)
            texts = [e.data["text"] for e in first + second if e.name == "line_done"]
            assert texts[0] != texts[1]
            assert "花子さん" in texts[0] or "花子さん" in texts[1]  # 太郎 addresses 花子 by name
            assert all(e.data["simple_mode"] for e in first + second if e.name == "done")
            quiz = next(e for e in second if e.name == "quiz").data
            assert set(quiz) == {"quiz_id", "question", "choices"}
            quoted = quiz["question"].split("「")[1].split("」")[0]
            assert quoted in texts
            speaker = "太郎さん" if quoted == texts[0] else "花子さん"
            right = quiz["choices"].index(speaker)
            graded = (
                await client.post(
                    f"{PREFIX}/conversations/{cid}/quizzes/{quiz['quiz_id']}/answer",
                    json={"answer": right},
                    headers=headers,
                )
            ).json()
            assert graded["correct"] is True
            assert quoted in graded["explanation"]
