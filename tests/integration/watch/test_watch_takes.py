"""Good and bad takes over real HTTP and a real WebSocket (fake Gemini, real Redis, Firestore emulator): the pair
plays the next moment twice from the same brief and dialogue, which take is skilled stays server-side until the
learner answers, the differences are explained with quotes from both, stored, shown on reopen and counted."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.support.fake_gemini import FakeGeminiControl
from tests.support.watch_server import PREFIX, WatchServer, next_line, start_run
from tests.support.watch_socket import read_until, send, socket, state_is

pytestmark = pytest.mark.integration

LINES = ["花子さん、来週の発表資料どうしましょうか。", "構成から決めたいですね。"]
CLUMSY = {"line": "うーん、まあ適当に作っておきますよ。", "reaction": "えっ、いつまでにですか…？"}
SKILLED = {
    "line": "結論から言うと、水曜までに私が構成案を作ります。花子さんのご意見も入れたいです。",
    "reaction": "助かります。火曜に要点を送りますね。",
}
SECRET = "期限と担当を先に言うと、相手は次の行動をすぐ決められます。"
SUMMARY = "上手な版は結論と期限がはっきりしていて、相手を巻き込んでいます。"
DIFFERENCES = {
    "differences": [
        {
            "aspect": "conclusion_first",
            "clumsy": "まあ適当に作っておきますよ",
            "skilled": "結論から言うと、水曜までに私が構成案を作ります",
            "explanation": SECRET,
        },
        {
            "aspect": "consideration",
            "clumsy": "適当に",
            "skilled": "花子さんのご意見も入れたいです",
            "explanation": "相手の意見を求めると、一緒に進める姿勢が伝わります。",
        },
    ],
    "summary": SUMMARY,
}


def script_takes(fake: FakeGeminiControl) -> None:
    fake.script("chat-flash", *({"text": t} for t in LINES))
    fake.script("chat-flash", {"text": json.dumps(CLUMSY, ensure_ascii=False)})
    fake.script("chat-flash", {"text": json.dumps(SKILLED, ensure_ascii=False)})
    fake.script("quiz-model", {"text": json.dumps(DIFFERENCES, ensure_ascii=False)})


def skilled_key(public: dict[str, Any]) -> str:
    return str(next(t["key"] for t in public["takes"] if t["lines"][0]["text"] == SKILLED["line"]))


def assert_secret_absent(text: str) -> None:
    """Nothing that tells which take is skilled, nor the explanation."""
    assert SECRET not in text
    assert SUMMARY not in text
    for key in ('"skilled"', '"differences"', '"matched"', '"correct"', '"summary"'):
        assert key not in text, key


async def test_takes_are_played_twice_from_the_same_moment_and_explained_after_the_answer(
    server: WatchServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    server.runs.options = type(server.runs.options)(line_budget=12, quiz_every=0)
    script_takes(fake_gemini)
    _, headers = await server.sign_in()
    cid = await start_run(client, headers, topic="work")
    for _ in LINES:
        await next_line(client, headers, cid)
    asked = await client.post(f"{PREFIX}/conversations/{cid}/takes", headers=headers)
    assert asked.status_code == 201, asked.text
    public = asked.json()
    assert_secret_absent(asked.text)
    assert public["take_id"] == "t1"
    assert public["after_line"] == 2
    assert public["speaker"] == "太郎さん"  # 太郎 is due after 太郎 and 花子 spoke
    assert [t["key"] for t in public["takes"]] == ["A", "B"]
    texts = sorted(t["lines"][0]["text"] for t in public["takes"])
    assert texts == sorted([CLUMSY["line"], SKILLED["line"]])
    assert all([x["speaker"] for x in t["lines"]] == ["太郎さん", "花子さん"] for t in public["takes"])
    assert {a["code"] for a in public["aspects"]} >= {"conclusion_first", "consideration", "specificity"}
    assert {a["label"] for a in public["aspects"]} >= {"結論から話す", "相手への配慮", "具体性"}
    # Two generations with the same persona, scene and dialogue so far; one prompted clumsy, one skilled.
    prompts = [r["body"] for r in fake_gemini.requests(method="generateContent") if r["model"] == "chat-flash"]
    assert len(prompts) == 2
    systems = [json.dumps(p["systemInstruction"], ensure_ascii=False) for p in prompts]
    contents = [json.dumps(p["contents"], ensure_ascii=False) for p in prompts]
    assert all("あなたは山下 太郎" in s for s in systems)
    assert "不器用" in systems[0]
    assert "模範的" in systems[1]
    assert contents[0] == contents[1]
    assert all(line in contents[0] for line in LINES)
    diff_prompt = json.dumps([r for r in fake_gemini.requests() if r["model"] == "quiz-model"][-1]["body"])
    for text in (CLUMSY["line"], SKILLED["line"]):
        assert json.dumps(text)[1:-1] in diff_prompt
    # Reopened before answering: the take is there, its secret is not; the run shows it open.
    detail = await client.get(f"{PREFIX}/conversations/{cid}", headers=headers)
    assert_secret_absent(json.dumps(detail.json()["takes"], ensure_ascii=False))
    assert detail.json()["takes"] == [public]
    assert detail.json()["run"]["run"]["take_id"] == "t1"
    again = await client.post(f"{PREFIX}/conversations/{cid}/takes", headers=headers)
    assert again.json() == public  # asking while open returns the open take
    # Bad answers are refused clearly and change nothing.
    bad = await client.post(
        f"{PREFIX}/conversations/{cid}/takes/t1/answer", json={"skilled": "A", "aspects": ["charm"]}, headers=headers
    )
    assert bad.status_code == 422
    missing = await client.post(
        f"{PREFIX}/conversations/{cid}/takes/t9/answer", json={"skilled": "A", "aspects": []}, headers=headers
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "takes_not_found"
    key = skilled_key(public)
    answered = await client.post(
        f"{PREFIX}/conversations/{cid}/takes/t1/answer",
        json={"skilled": key, "aspects": ["conclusion_first", "specificity"], "note": "期限を言っている"},
        headers=headers,
    )
    assert answered.status_code == 200, answered.text
    graded = answered.json()
    assert graded["skilled"] == key
    assert graded["correct"] is True
    assert graded["answer"] == {
        "skilled": key,
        "aspects": ["conclusion_first", "specificity"],
        "note": "期限を言っている",
    }
    assert [d["aspect"] for d in graded["differences"]] == ["conclusion_first", "consideration"]
    assert graded["differences"][0]["label"] == "結論から話す"
    assert graded["differences"][0]["explanation"] == SECRET
    assert graded["differences"][0]["clumsy"] in CLUMSY["line"]
    assert graded["differences"][0]["skilled"] in SKILLED["line"]
    assert graded["matched"] == ["conclusion_first"]
    assert graded["missed"] == ["consideration"]
    assert graded["summary"] == SUMMARY
    twice = await client.post(
        f"{PREFIX}/conversations/{cid}/takes/t1/answer", json={"skilled": key, "aspects": []}, headers=headers
    )
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "takes_already_answered"
    # Stored: reopening shows the graded take, the counts include it, and the takes were not added as lines.
    detail = (await client.get(f"{PREFIX}/conversations/{cid}", headers=headers)).json()
    assert detail["takes"] == [graded]
    assert detail["run"]["run"]["take_id"] is None
    assert [m["text"] for m in detail["messages"]] == LINES
    accuracy = (await client.get(f"{PREFIX}/conversations/{cid}/accuracy", headers=headers)).json()
    assert accuracy["takes"] == {"asked": 1, "answered": 1, "correct": 1}
    progress = (await client.get(f"{PREFIX}/progress", headers=headers)).json()
    assert progress["takes"] == {"asked": 1, "answered": 1, "correct": 1}
    assert progress["runs"][0]["conversation_id"] == cid


async def test_over_the_socket_no_event_before_the_answer_tells_the_quiz_answer_or_the_skilled_take(
    start_server: Any, fake_gemini: FakeGeminiControl
) -> None:
    server: WatchServer = await start_server(WATCH_LINE_PAUSE_S=0.05, WATCH_QUIZ_EVERY=2)
    quiz_secret = "花子さんは「構成から決めたい」と先に進め方を合わせています。"
    quiz = {
        "question": "花子さんの返し方の良かった点は？",
        "choices": ["話題を変えた", "進め方を先に合わせた", "冗談を言った"],
        "correct_index": 1,
        "explanation": quiz_secret,
    }
    fake_gemini.script("quiz-model", {"text": json.dumps(quiz, ensure_ascii=False)})
    script_takes(fake_gemini)
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await start_run(client, headers)
        async with socket(server, cid, headers) as ws:
            await send(ws, type="play")
            before_quiz = await read_until(ws, state_is("quiz"))
            asked = next(f for f in before_quiz if f["event"] == "quiz")["data"]
            assert asked == {"quiz_id": "q1", "question": quiz["question"], "choices": quiz["choices"]}
            seen = json.dumps(before_quiz, ensure_ascii=False)
            assert quiz_secret not in seen
            assert '"correct_index"' not in seen
            assert '"correct"' not in seen
            assert '"explanation"' not in seen
            await send(ws, type="answer", quiz_id="q1", answer=1)
            graded = await read_until(ws, lambda f: f["event"] == "quiz_result")
            assert graded[-1]["data"]["explanation"] == quiz_secret
            assert graded[-1]["data"]["correct_index"] == 1
            await send(ws, type="takes")
            before_takes = await read_until(ws, lambda f: f["event"] == "state" and f["data"]["take_id"] == "t1")
            public = next(f for f in before_takes if f["event"] == "takes")["data"]
            assert_secret_absent(json.dumps(before_takes, ensure_ascii=False))
            await send(ws, type="takes_answer", take_id="t1", skilled=skilled_key(public), aspects=["consideration"])
            result = (await read_until(ws, lambda f: f["event"] == "takes_result"))[-1]["data"]
            assert result["correct"] is True
            assert result["matched"] == ["consideration"]
            assert result["differences"][0]["explanation"] == SECRET
        # The whole log as a late client replays it: the secrets appear only in and after the results.
        async with socket(server, cid, headers, last_event_id="0") as ws:
            replay = await read_until(ws, lambda f: f["event"] == "takes_result")
        names = [f["event"] for f in replay]
        first_secret = min(i for i, f in enumerate(replay) if quiz_secret in json.dumps(f, ensure_ascii=False))
        assert first_secret == names.index("quiz_result")
        takes_secret = min(i for i, f in enumerate(replay) if SECRET in json.dumps(f, ensure_ascii=False))
        assert takes_secret == names.index("takes_result")
        between = replay[names.index("quiz_result") + 1 : names.index("takes_result")]
        assert [f["event"] for f in between].count("takes") == 1
        assert_secret_absent(json.dumps(between, ensure_ascii=False))
