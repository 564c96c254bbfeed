"""The /watch page's server-rendered parts over real HTTP (fake Gemini, real Redis, Firestore emulator): a reopened
run shows its stored lines and follows the live log from its end, the past runs list and delete, taking over a role
(htmx redirect), the takes answer, the progress card, and bad input or another learner's run answered in Japanese."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.watch_server import PREFIX, WatchServer, next_line, start_run
from workplace_roleplay.ports.cache_keys import watch_log_key

pytestmark = pytest.mark.integration

HTMX = {"HX-Request": "true"}


def counterpart_lines(html: str) -> list[str]:
    return re.findall(r'<li class="counterpart[^"]*"[^>]*>.*?<span class="text">(.*?)</span>', html, re.S)


async def test_a_reopened_run_shows_its_lines_and_follows_the_log_from_its_end(
    server: WatchServer, client: httpx.AsyncClient
) -> None:
    user_id, headers = await server.sign_in()
    cid = await start_run(client, headers, situation="lunch", topic="food")
    spoken = []
    for _ in range(3):
        events = await next_line(client, headers, cid)
        spoken.append(next(e.data["text"] for e in events if e.name == "line_done"))

    page = await client.get(f"/watch/runs/{cid}", headers=headers)
    assert page.status_code == 200
    assert counterpart_lines(page.text) == spoken
    assert "data-speakers=" in page.text
    assert "ここから花子さんとして話す" in page.text
    # The page follows the socket after the log's last event: nothing it already shows is replayed.
    found = re.search(r'data-last-event-id="(\d+)"', page.text)
    assert found is not None
    last = int(found.group(1))
    assert last > 0
    live = server.app.state.watch_live
    assert await live.log(cid).read(user_id, last) == []
    assert [e.event for e in await live.log(cid).read(user_id, 0)].count("line_done") == 3
    assert await server.resources.cache.read_list(watch_log_key(cid), last + 1) == []

    listing = await client.get("/watch", headers=headers)
    assert f'href="/watch/runs/{cid}"' in listing.text
    assert "ランチ・食事" in listing.text
    assert "3行" in listing.text


async def test_take_over_opens_the_fork_where_the_learner_plays_hanako(
    server: WatchServer, client: httpx.AsyncClient
) -> None:
    _, headers = await server.sign_in()
    cid = await start_run(client, headers)
    for _ in range(2):
        await next_line(client, headers, cid)
    taken = await client.post(
        f"/watch/runs/{cid}/takeover", data={"role": "hanako", "at_line": "2"}, headers={**headers, **HTMX}
    )
    assert taken.status_code == 200
    fork = taken.headers["HX-Redirect"].rsplit("/", 1)[1]
    assert fork != cid
    page = await client.get(f"/watch/runs/{fork}", headers=headers)
    assert "花子さんとして話す" in page.text
    assert 'data-learner-role="hanako"' in page.text
    assert 'data-solo="太郎さん"' in page.text
    assert len(counterpart_lines(page.text)) == 1  # the line before hers, copied; no takeover offered in a fork
    assert "ここから" not in page.text.split('id="watch-log"')[1].split("</ol>")[0]


async def test_bad_input_and_another_learners_run_are_answered_in_japanese(
    server: WatchServer, client: httpx.AsyncClient
) -> None:
    _, headers = await server.sign_in()
    _, stranger = await server.sign_in()
    cid = await start_run(client, headers)
    await next_line(client, headers, cid)

    bad_role = await client.post(
        f"/watch/runs/{cid}/takeover", data={"role": "boss", "at_line": "1"}, headers={**headers, **HTMX}
    )
    assert bad_role.status_code == 422
    assert "入力内容を確認してください" in bad_role.text
    out_of_range = await client.post(
        f"/watch/runs/{cid}/takeover", data={"role": "hanako", "at_line": "50"}, headers={**headers, **HTMX}
    )
    assert out_of_range.status_code == 422
    assert "入力内容を確認してください" in out_of_range.text

    for response in (
        await client.get(f"/watch/runs/{cid}", headers=stranger),
        await client.delete(f"/watch/runs/{cid}", headers={**stranger, **HTMX}),
        await client.post(f"/watch/runs/{cid}/takeover", data={"role": "hanako", "at_line": "1"}, headers=stranger),
    ):
        assert response.status_code == 404
        assert "会話が見つかりませんでした" in response.text
    assert (await client.get(f"{PREFIX}/conversations/{cid}", headers=headers)).status_code == 200  # nothing lost

    takes = await client.post(f"{PREFIX}/conversations/{cid}/takes", headers=headers)
    assert takes.status_code == 201, takes.text
    take_id = takes.json()["take_id"]
    unpicked = await client.post(
        f"/watch/runs/{cid}/takes/{take_id}/answer", data={"note": "…"}, headers={**headers, **HTMX}
    )
    assert unpicked.status_code == 422
    assert "入力内容を確認してください" in unpicked.text
    unknown = await client.post(
        f"/watch/runs/{cid}/takes/{take_id}/answer",
        data={"skilled": "A", "aspects": ["telepathy"]},
        headers={**headers, **HTMX},
    )
    assert unknown.status_code == 422
    answered = await client.post(
        f"/watch/runs/{cid}/takes/{take_id}/answer",
        data={"skilled": "B", "aspects": ["wording", "listening"], "note": "Aは言葉が硬い"},
        headers={**headers, **HTMX},
    )
    assert answered.status_code == 200
    assert "違いの説明" in answered.text
    assert "あなたのメモ: Aは言葉が硬い" in answered.text
    again = await client.post(
        f"/watch/runs/{cid}/takes/{take_id}/answer", data={"skilled": "A"}, headers={**headers, **HTMX}
    )
    assert again.status_code == 409


async def test_delete_from_the_list_and_the_progress_card(server: WatchServer, client: httpx.AsyncClient) -> None:
    _, headers = await server.sign_in()
    kept, dropped = await start_run(client, headers), await start_run(client, headers)
    await next_line(client, headers, kept)
    quiz = (await client.post(f"{PREFIX}/conversations/{kept}/quiz", headers=headers)).json()
    graded = await client.post(
        f"{PREFIX}/conversations/{kept}/quizzes/{quiz['quiz_id']}/answer", json={"answer": 0}, headers=headers
    )
    correct = graded.json()["correct"]

    card = await client.get("/watch/progress", headers=headers)
    assert card.status_code == 200
    expected = "観戦クイズ: 1問中1問正解（正答率100%）" if correct else "観戦クイズ: 1問中0問正解（正答率0%）"
    assert expected in card.text
    assert f'href="/watch/runs/{kept}"' in card.text
    assert dropped not in card.text

    deleted = await client.delete(f"/watch/runs/{dropped}", headers={**headers, **HTMX})
    assert deleted.status_code == 200
    assert "観戦の記録を削除しました。" in deleted.text
    assert dropped not in deleted.text
    assert kept in deleted.text
    assert (await client.get(f"{PREFIX}/conversations/{dropped}", headers=headers)).status_code == 404
