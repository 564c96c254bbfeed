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


async def test_simple_mode_takes_and_their_explanation_are_deterministic_and_counted_in_the_report(
    tmp_path: Path, redis_url: str, redis_namespace: str
) -> None:
    settings = watch_test_settings(None, STORE_BACKEND="sqlite", DATA_DIR=tmp_path, WATCH_QUIZ_EVERY=0)
    async with run_watch_server(settings, redis_url=redis_url, namespace=redis_namespace) as server:
        _, headers = await server.sign_in()
        async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
            shown = []
            for _ in range(2):
                cid = await start_run(client, headers, topic="work")
                lines = [e.data["text"] for e in await next_line(client, headers, cid) if e.name == "line_done"]
                asked = await client.post(f"{PREFIX}/conversations/{cid}/takes", headers=headers)
                assert asked.status_code == 201, asked.text
                public = asked.json()
                assert public["speaker"] == "花子さん"
                shown.append(sorted(t["lines"][0]["text"] for t in public["takes"]))
                assert all(lines[0][:24] in text for text in shown[-1])  # both takes answer the actual line
            assert shown[0] == shown[1]  # the same dialogue gives the same takes
            skilled = next(t["key"] for t in public["takes"] if "結論から言うと" in t["lines"][0]["text"])
            graded = (
                await client.post(
                    f"{PREFIX}/conversations/{cid}/takes/{public['take_id']}/answer",
                    json={"skilled": skilled, "aspects": ["specificity"]},
                    headers=headers,
                )
            ).json()
            assert graded["correct"] is True
            assert graded["matched"] == ["specificity"]
            takes_text = {t["key"]: "".join(x["text"] for x in t["lines"]) for t in public["takes"]}
            clumsy = "B" if skilled == "A" else "A"
            for difference in graded["differences"]:
                assert difference["skilled"] in takes_text[skilled]  # quotes from both takes
                assert difference["clumsy"] in takes_text[clumsy]
                assert difference["explanation"]
            assert graded["summary"]
            ended = await client.post(f"{PREFIX}/conversations/{cid}/control", json={"action": "end"}, headers=headers)
            assert ended.json()["state"] == "ended"
            summary = await client.post(f"{PREFIX}/conversations/{cid}/summary", headers=headers)
            assert summary.status_code == 200, summary.text  # a run the learner only watched is reviewed too
            assert summary.json()["watch"]["takes"] == {"asked": 1, "answered": 1, "correct": 1}
            stored = (await client.get(f"{PREFIX}/conversations/{cid}/summary", headers=headers)).json()
            assert stored["watch"] == summary.json()["watch"]
