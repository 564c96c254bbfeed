"""Scenario play over real HTTP (fake Gemini, real Redis, Firestore emulator): sessions, streamed turns with
the mood event, several sessions at once, resume after a disconnect, hints, reports with quoted evidence,
fork and compare, the consent gate on every session route, and another learner's id answered 404."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.integration.scenario.conftest import StartServer
from tests.support.chat_server import MODELS, Event, parse_sse
from tests.support.fake_gemini import FakeGeminiControl
from tests.support.scenario_server import ScenarioServer
from workplace_roleplay.domain.scenario.consent import CONSENT_VERSION

pytestmark = pytest.mark.integration

API = "/api/v2/scenarios"
LEARNER_FIRST = "report_own_mistake"  # regular; the learner reports first (situation card)
COUNTERPART_FIRST = "late_arrival_meeting"  # regular; the counterpart opens
GATED = "generation_gap"  # consent-gated; the counterpart opens


@pytest.fixture
async def play(start_server: StartServer, fake_gemini: FakeGeminiControl) -> ScenarioServer:
    return await start_server(
        GEMINI_API_KEY="scenario-test-key",
        GEMINI_BASE_URL=fake_gemini.url,
        MODEL_RETRY_ATTEMPTS=1,
        MODEL_RETRY_BASE_DELAY_S=0.01,
        MODEL_FIRST_TOKEN_TIMEOUT_S=5.0,
        MODEL_TOTAL_TIMEOUT_S=20.0,
        MODEL_BREAKER_FAILURES=50,
        **MODELS,
    )


@pytest.fixture
async def http(play: ScenarioServer) -> Any:
    async with httpx.AsyncClient(base_url=play.url, timeout=20.0) as client:
        yield client


async def start(client: httpx.AsyncClient, auth: dict[str, str], scenario_id: str) -> dict[str, Any]:
    response = await client.post(f"{API}/{scenario_id}/sessions", headers=auth, json={})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def turn(
    client: httpx.AsyncClient, auth: dict[str, str], sid: str, message: str | None = None, cmid: str | None = None
) -> tuple[int, list[Event], str]:
    body: dict[str, Any] = {} if message is None else {"message": message, "client_message_id": cmid}
    async with client.stream(
        "POST", f"{API}/sessions/{sid}/turns", json=body, headers={**auth, "Accept": "text/event-stream"}
    ) as response:
        raw = (await response.aread()).decode()
    return response.status_code, parse_sse(raw) if response.status_code == 200 else [], raw


async def test_two_sessions_stream_at_once_with_the_opening_and_the_mood(
    play: ScenarioServer, http: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    fake_gemini.configure(text="そうか、わかった。それで、どうするつもり？", chunk_chars=4)
    _, auth = await play.sign_in()
    first = await start(http, auth, COUNTERPART_FIRST)
    second = await start(http, auth, LEARNER_FIRST)
    assert first["opening_pending"] is True
    assert first["learner_first"] is False
    assert second["learner_first"] is True
    assert second["situation_card"]
    assert second["opening_pending"] is False
    a, b = first["session"]["id"], second["session"]["id"]

    status, opening, raw = await turn(http, auth, a)
    assert status == 200, raw
    assert next(e.name for e in opening) == "start"
    assert opening[-1].name == "done"
    again = await http.post(f"{API}/sessions/{a}/turns", headers=auth, json={})
    assert again.status_code == 422  # the opening happens once
    refused = await http.post(f"{API}/sessions/{b}/turns", headers=auth, json={})
    assert refused.status_code == 422  # the learner speaks first here

    line_a = "遅れてしまい申し訳ありません。電車の遅延で、10時までに議事録を確認します。"
    line_b = "ご報告があります。請求書の金額を間違えて送ってしまいました。"
    for sid, line in ((a, line_a), (b, line_b)):
        status, events, raw = await turn(http, auth, sid, line, "m1")
        assert status == 200, raw
        names = [e.name for e in events]
        assert names[0] == "start"
        assert names[-1] == "done"
        assert "token" in names
        assert "mood" in names
        assert names.index("mood") < names.index("done")
        mood = next(e for e in events if e.name == "mood").data
        assert mood["line"] == line
        assert mood["basis"] == "rules"
        assert mood["turn"] == 1
        assert mood["reasons"]
        assert mood["swing"] is not None
    mood_b = next(e for e in events if e.name == "mood").data
    assert mood_b["rules"] == ["conclusion_first"]

    listed = (await http.get(f"{API}/sessions", headers=auth)).json()
    assert {i["id"] for i in listed["items"]} == {a, b}
    assert {i["scenario_id"] for i in listed["items"]} == {COUNTERPART_FIRST, LEARNER_FIRST}
    detail = (await http.get(f"{API}/sessions/{a}", headers=auth)).json()
    assert [m["role"] for m in detail["messages"]] == ["counterpart", "learner", "counterpart"]
    assert [p["turn"] for p in detail["mood"]] == [0, 1]
    assert {"apology", "plan"} <= set(detail["mood"][1]["rules"])
    statuses = {
        i["id"]: i["status"] for i in (await http.get(API, headers=auth, params={"limit": 100})).json()["items"]
    }
    assert statuses[COUNTERPART_FIRST] == statuses[LEARNER_FIRST] == "in_progress"


async def test_a_dropped_stream_resumes_after_its_last_event_id(
    play: ScenarioServer, http: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    fake_gemini.configure(text="なるほど。結論から聞かせてくれる？" * 3, chunk_chars=2, chunk_delay_ms=150)
    _, auth = await play.sign_in()
    sid = (await start(http, auth, LEARNER_FIRST))["session"]["id"]
    line = "ご報告があります。請求書を間違えました。"
    seen: list[str] = []
    async with http.stream(
        "POST",
        f"{API}/sessions/{sid}/turns",
        json={"message": line, "client_message_id": "m1"},
        headers={**auth, "Accept": "text/event-stream"},
    ) as response:
        async for raw_line in response.aiter_lines():
            seen.append(raw_line)
            if raw_line == "event: token":
                break  # the client goes away after the first token
    head = parse_sse("\n".join([*seen, "data: {}", ""]))
    last_id = [e.id for e in head if e.id][-1]
    turn_id = last_id.split(".")[0]
    resumed = await http.get(f"{API}/sessions/{sid}/streams/{turn_id}", headers={**auth, "Last-Event-ID": last_id})
    assert resumed.status_code == 200
    rest = parse_sse(resumed.text)
    assert rest[0].id == f"{turn_id}.{int(last_id.split('.')[1]) + 1}"
    # Like chat: a client that leaves interrupts the turn; what arrived is kept and the resume says so.
    assert rest[-1].name == "done", rest
    assert (rest[-1].data["status"], rest[-1].data["interrupted"]) == ("partial", True)
    events = [*head, *rest]
    # The same line again (a retry after the connection dropped) is answered from the store.
    _status, replay, _ = await turn(http, auth, sid, "ご報告があります。請求書を間違えました。", "m1")
    assert replay[-1].data["replayed"] is True
    assert replay[-1].data["text"] == events[-1].data["text"]


async def test_hints_report_fork_and_compare(
    play: ScenarioServer, http: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    fake_gemini.configure(text="わかった。原因は？", chunk_chars=5)
    _, auth = await play.sign_in()
    sid = (await start(http, auth, LEARNER_FIRST))["session"]["id"]
    hints = [(await http.post(f"{API}/sessions/{sid}/hints", headers=auth)).json() for _ in range(4)]
    assert [h["level"] for h in hints] == ["nudge", "structure", "example", "example"]
    assert "結論" in hints[1]["text"]
    lines = [
        "ご報告があります。東和商事さんへの請求書の金額を一桁間違えて送りました。",
        "原因は、金額を転記したあとに見直しをしなかったことです。本日中に訂正版を送ります。",
    ]
    for n, line in enumerate(lines):
        status, _, raw = await turn(http, auth, sid, line, f"m{n}")
        assert status == 200, raw
    after = (await http.post(f"{API}/sessions/{sid}/hints", headers=auth)).json()
    assert (after["level"], after["turn"]) == ("nudge", 2)

    missing = await http.get(f"{API}/sessions/{sid}/report", headers=auth)
    assert missing.status_code == 404
    six = {
        "checks": [{"id": "R1", "passed": True, "evidence": "ご報告があります。"}],
        "strengths": ["結論から話せた", "原因を伝えた"],
        "growth_points": ["おわびを添える", "再発防止を具体的に"],
        "tomorrow_action": "報告の最初の一文で結論を言う",
    }
    own = {
        "checks": [
            {"id": "conclusion_first", "passed": True, "evidence": lines[0]},
            {"id": "cause", "passed": True, "evidence": "見直しをしなかった"},
            {"id": "apology", "passed": True, "evidence": "申し訳ありませんでした"},  # never said: not accepted
        ]
    }
    fake_gemini.script(
        "grader-model",
        {"kind": "ok", "text": json.dumps(six, ensure_ascii=False)},
        {"kind": "ok", "text": json.dumps(own, ensure_ascii=False)},
    )
    report = (await http.post(f"{API}/sessions/{sid}/report", headers=auth)).json()
    checks = {c["id"]: c for c in report["scenario_checks"]}
    assert checks["conclusion_first"] == {**checks["conclusion_first"], "passed": True, "evidence": lines[0]}
    assert checks["cause"]["passed"] is True
    assert (checks["apology"]["passed"], checks["apology"]["evidence"]) == (False, "")
    assert checks["facts"]["passed"] is False
    assert report["strengths"] == six["strengths"]
    assert report["tomorrow_action"] == six["tomorrow_action"]
    r1 = next(c for a in report["axes"] for c in a["checks"] if c["id"] == "R1")
    assert (r1["passed"], r1["evidence"]) == (True, "ご報告があります。")
    assert [h["level"] for h in report["hints_used"]] == ["nudge", "structure", "example", "example", "nudge"]
    assert [p["turn"] for p in report["mood_timeline"]] == [0, 1, 2]
    grader_calls = len(fake_gemini.requests(method="generateContent"))
    stored = (await http.get(f"{API}/sessions/{sid}/report", headers=auth)).json()
    assert stored["cached"] is True
    assert stored["scenario_checks"] == report["scenario_checks"]
    assert len(fake_gemini.requests(method="generateContent")) == grader_calls
    grader = [r for r in fake_gemini.requests(method="generateContent") if r["model"] == "grader-model"][-1]
    assert grader["body"]["generationConfig"]["temperature"] == 0

    forked = await http.post(f"{API}/sessions/{sid}/forks", headers=auth, json={"at_turn": 2})
    assert forked.status_code == 201, forked.text
    fid = forked.json()["session"]["id"]
    assert forked.json()["session"]["parent_id"] == sid
    status, _, raw = await turn(
        http, auth, fid, "原因は確認不足です。申し訳ありません。明日から二重チェックします。", "f1"
    )
    assert status == 200, raw
    await http.post(f"{API}/sessions/{fid}/report", headers=auth)
    family = (await http.get(f"{API}/sessions/{fid}/compare", headers=auth)).json()["items"]
    assert [m["session_id"] for m in family] == [sid, fid]
    assert all(m["report"] is not None for m in family)
    assert family[1]["forked_at_turn"] == 2
    assert family[1]["report"]["mood_timeline"][2]["line"] != family[0]["report"]["mood_timeline"][2]["line"]


def session_routes(sid: str, turn_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", f"{API}/sessions/{sid}", None),
        ("POST", f"{API}/sessions/{sid}/turns", {"message": "よろしくお願いします。", "client_message_id": "g2"}),
        ("GET", f"{API}/sessions/{sid}/streams/{turn_id}", None),
        ("POST", f"{API}/sessions/{sid}/hints", None),
        ("POST", f"{API}/sessions/{sid}/report", None),
        ("GET", f"{API}/sessions/{sid}/report", None),
        ("POST", f"{API}/sessions/{sid}/forks", {"at_turn": 1}),
        ("GET", f"{API}/sessions/{sid}/compare", None),
    ]


async def test_consent_is_checked_on_every_route_and_another_learner_gets_404(
    play: ScenarioServer, http: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    fake_gemini.configure(text="そうですね。", chunk_chars=10)
    _, auth = await play.sign_in()
    _, intruder = await play.sign_in()
    refused = await http.post(f"{API}/{GATED}/sessions", headers=auth, json={})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "consent_required"
    assert (await http.put(f"{API}/consent", headers=auth, json={"version": CONSENT_VERSION})).status_code == 200
    sid = (await start(http, auth, GATED))["session"]["id"]
    status, events, raw = await turn(http, auth, sid, "お疲れさまです。少しお話しできますか。", "g1")
    assert status == 200, raw
    turn_id = events[0].data["turn_id"]

    for method, path, body in session_routes(sid, turn_id):
        other = await http.request(method, path, headers=intruder, json=body)
        assert other.status_code == 404, (method, path, other.text)
    assert (await http.delete(f"{API}/sessions/{sid}", headers=intruder)).status_code == 404

    assert (await http.delete(f"{API}/consent", headers=auth)).status_code == 200
    for method, path, body in session_routes(sid, turn_id):
        locked = await http.request(method, path, headers=auth, json=body)
        assert locked.status_code == 403, (method, path, locked.text)
        error = locked.json()["error"]
        assert error["code"] == "consent_required"
        assert error["consent_url"] == f"/scenarios/consent?next=/scenarios/{GATED}"
    assert (await http.post(f"{API}/{GATED}/sessions", headers=auth, json={})).status_code == 403
    assert (await http.get(f"{API}/sessions", headers=auth)).json()["items"] == []

    assert (await http.put(f"{API}/consent", headers=auth, json={"version": CONSENT_VERSION})).status_code == 200
    for method, path, body in session_routes(sid, turn_id):
        opened = await http.request(method, path, headers=auth, json=body)
        assert opened.status_code in (200, 201), (method, path, opened.text)
    assert (await http.delete(f"{API}/sessions/{sid}", headers=auth)).status_code == 204
    assert (await http.get(f"{API}/sessions/{sid}", headers=auth)).status_code == 404


async def test_offline_play_in_simple_mode_is_honest(server: ScenarioServer, client: httpx.AsyncClient) -> None:
    _, auth = await server.sign_in()
    sid = (await start(client, auth, LEARNER_FIRST))["session"]["id"]
    lines = [
        "ご報告があります。請求書の金額を一桁間違えて送ってしまいました。",
        "でも、確認する時間がなかったんです。",
        "申し訳ありません。本日中に訂正版を送り、明日からは二人で確認します。",
    ]
    replies = []
    for n, line in enumerate(lines):
        status, events, raw = await turn(client, auth, sid, line, f"o{n}")
        assert status == 200, raw
        assert events[-1].data["simple_mode"] is True
        replies.append(events[-1].data["text"])
    assert replies[0] == "早めに言ってくれて助かるよ。結論としては、どう対応するつもり？"  # the scenario's own reaction
    hint = (await client.post(f"{API}/sessions/{sid}/hints", headers=auth)).json()
    assert hint["level"] == "nudge"
    report = (await client.post(f"{API}/sessions/{sid}/report", headers=auth)).json()
    assert report["simple_mode"] is True
    assert report["scenario_checks_judged"] is False
    assert all(c["passed"] is None and c["note"] for c in report["scenario_checks"])
    timeline = report["mood_timeline"]
    assert timeline[2]["delta"]["irritation"] > 0
    assert "excuse" in timeline[2]["rules"]
    assert timeline[3]["delta"]["irritation"] < 0
    assert [h["level"] for h in report["hints_used"]] == ["nudge"]


async def test_progress_shows_real_numbers_from_the_stored_reports(
    server: ScenarioServer, client: httpx.AsyncClient
) -> None:
    user, auth = await server.sign_in()
    empty = (await client.get(f"{API}/progress", headers=auth)).json()
    assert empty["reports"] == 0
    assert empty["next"] is None
    # A chat report as the chat service stores it (scores in the clear), older than the scenario ones.
    chat_scores = {"empathy": 0, "clarity": 50, "active_listening": 0, "adaptability": 50, "positivity": 0}
    await server.resources.store.set(
        f"users/{user}/reports/rchat",
        {"mode": "chat", "scores": {**chat_scores, "professionalism": 50}, "created_at": 1.0},
    )
    made = []
    for n, lines in enumerate(
        (
            ["ご報告があります。請求書を間違えました。"],
            ["お疲れさまです。ご報告があります。本日中に訂正版を送ります。ありがとうございます。"],
        )
    ):
        sid = (await start(client, auth, LEARNER_FIRST))["session"]["id"]
        for k, line in enumerate(lines):
            status, _, raw = await turn(client, auth, sid, line, f"p{n}{k}")
            assert status == 200, raw
        made.append((await client.post(f"{API}/sessions/{sid}/report", headers=auth)).json())
    body = (await client.get(f"{API}/progress", headers=auth)).json()
    assert body["reports"] == 3
    clarity = next(a for a in body["axes"] if a["axis"] == "clarity")
    assert [p["mode"] for p in clarity["points"]] == ["chat", "scenario", "scenario"]
    assert [p["score"] for p in clarity["points"]] == [50, made[0]["scores"]["clarity"], made[1]["scores"]["clarity"]]
    assert clarity["latest"] == made[1]["scores"]["clarity"]
    assert clarity["best"] == max(p["score"] for p in clarity["points"])
    (row,) = body["scenarios"]
    assert row["scenario_id"] == LEARNER_FIRST
    assert row["sessions"] == 2
    means = [round(sum(m["scores"].values()) / 6) for m in made]
    assert (row["best"], row["latest"]) == (max(means), means[1])
    nxt = body["next"]
    averages = {a["axis"]: sum(p["score"] for p in a["points"]) / 3 for a in body["axes"]}
    assert round(averages[nxt["axis"]]) == nxt["average"] == round(min(averages.values()))
    assert nxt["tips"]
    assert nxt["scenario_id"] != LEARNER_FIRST
    page = await client.get("/progress", headers=auth)
    assert page.status_code == 200
    assert "次に練習したいこと" in page.text
    assert nxt["label"] in page.text


async def test_a_character_remembers_the_learner_in_the_next_scenario_and_forgets_on_request(
    play: ScenarioServer, http: httpx.AsyncClient, fake_gemini: FakeGeminiControl
) -> None:
    fake_gemini.configure(text="わかった。", chunk_chars=10)
    _, auth = await play.sign_in()
    _, other = await play.sign_in()
    sid = (await start(http, auth, LEARNER_FIRST))["session"]["id"]
    status, _, raw = await turn(http, auth, sid, "ご報告があります。数字の確認が苦手で、請求書を間違えました。", "k1")
    assert status == 200, raw
    fact = "学習者は数字の確認が苦手だと話していた"
    fake_gemini.script(
        "memory-model",
        {
            "kind": "ok",
            "text": json.dumps({"facts": [{"text": fact, "kind": "difficulty", "salience": 0.9}]}, ensure_ascii=False),
        },
    )
    assert (await http.post(f"{API}/sessions/{sid}/report", headers=auth)).status_code == 200
    characters: list[dict[str, Any]] = []
    for _ in range(100):  # extraction runs in the background after the report
        characters = (await http.get(f"{API}/memories", headers=auth)).json()["characters"]
        if characters:
            break
        await asyncio.sleep(0.05)
    assert characters == [{"character": "高橋課長", "items": [characters[0]["items"][0]]}]
    memory = characters[0]["items"][0]
    assert (memory["text"], memory["session_id"]) == (fact, sid)
    assert (await http.get(f"{API}/memories", headers=other)).json()["characters"] == []

    # The same character in another scenario recalls it in its prompt.
    later = (await start(http, auth, "vague_request_from_boss"))["session"]["id"]
    before = len(fake_gemini.requests(method="streamGenerateContent"))
    status, _, raw = await turn(
        http, auth, later, "課長、確認させてください。数字の確認が苦手なので、期限を教えてください。", "k2"
    )
    assert status == 200, raw
    sent = fake_gemini.requests(method="streamGenerateContent")[before:]
    prompt = json.dumps(
        [r["body"].get("systemInstruction") for r in sent if r["model"] == "chat-flash"], ensure_ascii=False
    )
    assert fact in prompt

    assert (await http.delete(f"{API}/memories/{memory['id']}", headers=other)).status_code == 404
    assert (await http.delete(f"{API}/memories/{memory['id']}", headers=auth)).status_code == 204
    assert (await http.get(f"{API}/memories", headers=auth)).json()["characters"] == []
    page = await http.get(f"/scenarios/play/{later}", headers=auth)
    assert page.status_code == 200
    assert "高橋課長が覚えていること" in page.text
    assert fact not in page.text
