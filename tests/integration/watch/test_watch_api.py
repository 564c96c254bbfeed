"""The watch API over real HTTP (fake Gemini, real Redis, Firestore emulator): alternating lines with each persona
in the prompt, the line budget, joining, quizzes whose answer stays server-side, take over, ownership."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.support.fake_gemini import FakeGeminiControl
from tests.support.watch_server import PREFIX, WatchServer, next_line, post_stream, start_run
from workplace_roleplay.domain.scenario.catalog import ScenarioQuery, load_catalog

pytestmark = pytest.mark.integration

TARO, HANAKO = "太郎さん", "花子さん"


def line_requests(fake: FakeGeminiControl) -> list[dict[str, Any]]:
    return [r["body"] for r in fake.requests(method="streamGenerateContent") if r["model"] == "chat-flash"]


def system_of(body: dict[str, Any]) -> str:
    return json.dumps(body["systemInstruction"], ensure_ascii=False)


def contents_of(body: dict[str, Any]) -> str:
    return json.dumps(body["contents"], ensure_ascii=False)


def speakers(events: list[Any]) -> list[str]:
    return [e.data["speaker"] for e in events if e.name == "line"]


async def test_lines_alternate_with_each_persona_and_the_whole_dialogue_in_the_prompt(
    start_server: Any, fake_gemini: FakeGeminiControl
) -> None:
    server: WatchServer = await start_server(WATCH_QUIZ_EVERY=0)
    texts = [
        "花子さん、ランチの店を決めませんか。",
        "いいですね。予算を先に確認しましょう。",
        "千円以内でどうですか。",
        "賛成です。",
    ]
    fake_gemini.script("chat-flash", *({"text": t} for t in texts))
    _, headers = await server.sign_in()
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0) as client:
        cid = await start_run(client, headers, situation="lunch", topic="food")
        said: list[str] = []
        for text in texts:
            events = await next_line(client, headers, cid)
            tokens = "".join(e.data["text"] for e in events if e.name == "token")
            assert tokens == text
            said += speakers(events)
            assert [e.name for e in events][-3:] == ["line_done", "state", "done"]
        assert said == [TARO, HANAKO, TARO, HANAKO]
        detail = (await client.get(f"{PREFIX}/conversations/{cid}", headers=headers)).json()
    assert [m["speaker"] for m in detail["messages"]] == said
    assert [m["text"] for m in detail["messages"]] == texts
    assert detail["run"]["run"]["lines"] == 4
    prompts = line_requests(fake_gemini)
    assert len(prompts) == 4
    for index, body in enumerate(prompts):
        system = system_of(body)
        me, other = ("山下 太郎", "川口 花子") if index % 2 == 0 else ("川口 花子", "山下 太郎")
        assert f"あなたは{me}" in system
        assert f"あなたは{other}" not in system
        assert "昼休み、社員食堂" in system
        assert "ランチや食事" in system
        for earlier in texts[:index]:  # the whole dialogue so far, every time (not just the first line)
            assert earlier in contents_of(body)
    assert "花子さん: いいですね" in contents_of(prompts[2])  # the other speaker's lines are named


async def test_the_line_budget_pauses_the_run_until_continued(server: WatchServer, client: httpx.AsyncClient) -> None:
    server.runs.options = type(server.runs.options)(line_budget=2, quiz_every=0)
    _, headers = await server.sign_in()
    cid = await start_run(client, headers)
    await next_line(client, headers, cid)
    events = await next_line(client, headers, cid)
    state = next(e for e in events if e.name == "state").data
    assert state["state"] == "budget"
    assert state["lines"] == 2
    status, _, raw = await post_stream(client, f"/conversations/{cid}/next", headers)
    assert status == 409, raw
    assert json.loads(raw)["error"]["reason"] == "budget"
    assert "一時停止" in json.loads(raw)["error"]["message"]
    resumed = await client.post(f"{PREFIX}/conversations/{cid}/control", json={"action": "play"}, headers=headers)
    assert resumed.status_code == 409
    extended = await client.post(f"{PREFIX}/conversations/{cid}/control", json={"action": "continue"}, headers=headers)
    assert extended.json()["state"] == "playing"
    assert extended.json()["budget"] == 4
    assert speakers(await next_line(client, headers, cid)) == [TARO]


async def test_joining_makes_both_characters_react_in_character(
    server: WatchServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    server.runs.options = type(server.runs.options)(line_budget=12, quiz_every=0)
    _, headers = await server.sign_in()
    cid = await start_run(client, headers, topic="work")
    await next_line(client, headers, cid)  # 太郎 opens; 花子 is due next
    line = "私は先にスケジュールを共有するのがいいと思います。"
    status, events, raw = await post_stream(
        client, f"/conversations/{cid}/join", headers, {"message": line, "client_message_id": "j1"}
    )
    assert status == 200, raw
    assert speakers(events) == [HANAKO, TARO]
    prompts = line_requests(fake_gemini)[-2:]
    assert "あなたは川口 花子" in system_of(prompts[0])
    assert "あなたは山下 太郎" in system_of(prompts[1])
    for body in prompts:
        assert f"学習者: {line}" in contents_of(body)
    assert "学習者が途中で会話に加わることがあります" in system_of(prompts[0])
    # Back to watching: the characters alternate again from where they were.
    assert len(speakers(await next_line(client, headers, cid))) == 1
    detail = (await client.get(f"{PREFIX}/conversations/{cid}", headers=headers)).json()
    assert [m["role"] for m in detail["messages"]] == [
        "counterpart",
        "learner",
        "counterpart",
        "counterpart",
        "counterpart",
    ]


async def test_a_quiz_keeps_its_answer_server_side_until_answered(
    server: WatchServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    server.runs.options = type(server.runs.options)(line_budget=12, quiz_every=2)
    secret = "花子さんは「予算を先に確認しましょう」と手戻りを防いでいます。"
    quiz = {
        "question": "花子さんの返し方の良かった点は？",
        "choices": ["話題を変えた", "冗談を言った", "確認を先に提案した", "黙った"],
        "correct_index": 2,
        "explanation": secret,
    }
    fake_gemini.script("quiz-model", {"text": json.dumps(quiz, ensure_ascii=False)})
    _, headers = await server.sign_in()
    cid = await start_run(client, headers)
    await next_line(client, headers, cid)
    status, events, raw = await post_stream(client, f"/conversations/{cid}/next", headers)
    assert status == 200
    asked = next(e for e in events if e.name == "quiz").data
    assert asked == {"quiz_id": "q1", "question": quiz["question"], "choices": quiz["choices"]}
    assert secret not in raw
    assert "correct" not in raw
    assert next(e for e in events if e.name == "state").data["state"] == "quiz"
    # The quiz model saw the actual dialogue.
    quiz_prompt = [r for r in fake_gemini.requests() if r["model"] == "quiz-model"][-1]["body"]
    lines = [m["text"] for m in (await client.get(f"{PREFIX}/conversations/{cid}", headers=headers)).json()["messages"]]
    assert all(text in json.dumps(quiz_prompt, ensure_ascii=False) for text in lines)
    # Paused: no next line, and the reopened run shows the question only.
    status, _, raw = await post_stream(client, f"/conversations/{cid}/next", headers)
    assert status == 409
    assert json.loads(raw)["error"]["reason"] == "quiz"
    detail = await client.get(f"{PREFIX}/conversations/{cid}", headers=headers)
    assert secret not in detail.text
    assert "correct_index" not in detail.text
    graded = await client.post(f"{PREFIX}/conversations/{cid}/quizzes/q1/answer", json={"answer": 2}, headers=headers)
    assert graded.status_code == 200
    assert graded.json()["correct"] is True
    assert graded.json()["explanation"] == secret
    again = await client.post(f"{PREFIX}/conversations/{cid}/quizzes/q1/answer", json={"answer": 1}, headers=headers)
    assert again.status_code == 409
    accuracy = (await client.get(f"{PREFIX}/conversations/{cid}/accuracy", headers=headers)).json()
    assert accuracy == {
        "asked": 1,
        "total": 1,
        "correct": 1,
        "accuracy": 1.0,
        "takes": {"asked": 0, "answered": 0, "correct": 0},
    }
    stored = (await client.get(f"{PREFIX}/conversations/{cid}", headers=headers)).json()["quizzes"]
    assert stored[0]["answer"] == 2
    assert stored[0]["explanation"] == secret
    assert (
        await client.post(f"{PREFIX}/conversations/{cid}/control", json={"action": "play"}, headers=headers)
    ).is_success
    await next_line(client, headers, cid)


async def test_taking_over_hanako_forks_the_run_and_taro_answers_the_learner(
    server: WatchServer, client: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    server.runs.options = type(server.runs.options)(line_budget=12, quiz_every=0)
    texts = ["花子さん、資料の件ですが。", "はい、締切はいつでしたか。", "金曜です。"]
    fake_gemini.script("chat-flash", *({"text": t} for t in texts))
    _, headers = await server.sign_in()
    cid = await start_run(client, headers)
    for _ in texts:
        await next_line(client, headers, cid)
    took = await client.post(
        f"{PREFIX}/conversations/{cid}/takeover", json={"role": "hanako", "at_line": 3}, headers=headers
    )
    assert took.status_code == 201, took.text
    fork = took.json()
    assert fork["parent_id"] == cid
    assert fork["run"]["learner_role"] == "hanako"
    detail = (await client.get(f"{PREFIX}/conversations/{fork['id']}", headers=headers)).json()
    assert [(m["role"], m["text"]) for m in detail["messages"]] == [
        ("counterpart", texts[0]),
        ("learner", texts[1]),  # 花子's line is now the learner's
    ]
    status, events, raw = await post_stream(
        client,
        f"/conversations/{fork['id']}/join",
        headers,
        {"message": "金曜の午前で大丈夫です。", "client_message_id": "t1"},
    )
    assert status == 200, raw
    assert events[-1].name == "done"
    prompt = line_requests(fake_gemini)[-1]
    assert "あなたは山下 太郎" in system_of(prompt)
    assert "「花子さん」の役は学習者が演じています" in system_of(prompt)
    assert "金曜の午前で大丈夫です。" in contents_of(prompt)
    # The original run is untouched.
    original = (await client.get(f"{PREFIX}/conversations/{cid}", headers=headers)).json()
    assert len(original["messages"]) == 3


async def test_another_learner_cannot_see_or_step_a_run_and_the_owner_can_list_and_delete(
    server: WatchServer, client: httpx.AsyncClient
) -> None:
    _, owner = await server.sign_in()
    _, stranger = await server.sign_in()
    cid = await start_run(client, owner, scenario_id=first_scenario_id())
    assert (await client.get(f"{PREFIX}/conversations/{cid}", headers=stranger)).status_code == 404
    status, _, raw = await post_stream(client, f"/conversations/{cid}/next", stranger)
    assert status == 404
    assert json.loads(raw)["error"]["code"] == "conversation_not_found"
    listed = (await client.get(f"{PREFIX}/conversations", headers=owner)).json()
    assert [item["id"] for item in listed["items"]] == [cid]
    assert (await client.get(f"{PREFIX}/conversations", headers=stranger)).json()["items"] == []
    bad = await client.post(f"{PREFIX}/conversations", json={"situation": "moon"}, headers=owner)
    assert bad.status_code == 422
    assert (await client.delete(f"{PREFIX}/conversations/{cid}", headers=owner)).status_code == 204
    assert (await client.get(f"{PREFIX}/conversations/{cid}", headers=owner)).status_code == 404


def first_scenario_id() -> str:
    return sorted(s.id for s in load_catalog().search(ScenarioQuery()))[0]
