"""The ``/watch`` page (会話観戦) and its HTMX fragments, server-rendered in Japanese, mobile first.

- ``GET /watch``: the start form and the learner's past runs (``/watch/runs``, paged, deletable).
- ``GET /watch/runs/{id}``: a run reopened: its lines, an open quiz, the review (quiz accuracy, summary).
- ``POST /watch/runs/{id}/takeover``: 「ここから花子さんとして話す」: a fork where the learner plays that character
  (the engine's fork); htmx follows ``HX-Redirect`` to the new run.
- ``POST /watch/runs/{id}/summary``: the engine's summary with the run's quiz accuracy.

The run itself is live: ``static/watch.js`` starts a run over the JSON API and follows it on the WebSocket
(``/api/v2/watch/ws/{cid}``), falling back to the SSE + POST endpoints when the socket cannot open
(docs/watch-protocol.md). Built from the shared page kit (docs/pages.md).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from functions.watch.deps import ModelCallAllowed, RequestAllowed, ResourcesDep, RunsDep
from functions.watch.live import LiveRuns
from workplace_roleplay.domain.conversation.records import Conversation
from workplace_roleplay.domain.modes.chat import SITUATIONS, TOPICS
from workplace_roleplay.domain.modes.watch.mode import pair
from workplace_roleplay.domain.modes.watch.run import WatchRuns, public_state
from workplace_roleplay.domain.modes.watch.takes import Takes, takes_answer
from workplace_roleplay.domain.scenario.catalog import load_catalog
from workplace_roleplay.domain.speech import JST
from workplace_roleplay.errors import InvalidInput
from workplace_roleplay.ports.cache_keys import watch_log_key
from workplace_roleplay.web.auth import CurrentUser, PageUser
from workplace_roleplay.web.pagekit import PageAssets
from workplace_roleplay.web.templating import render

HERE = Path(__file__).parent
TEMPLATES = (str(HERE / "templates"),)
# The kit's scripts plus this page's own live script, fingerprinted, under this page's prefix.
ASSETS = PageAssets("/watch/static", files={"watch.js": HERE / "static" / "watch.js"})
RUNS_PAGE = 10
PROGRESS_RUNS = 10  # the newest runs the progress card counts
# htmx listens for this on <body> to reload the past-runs list.
RUNS_CHANGED = {"HX-Trigger": "watch-runs-changed"}
STATE_LABELS = {
    "playing": "再生中",
    "paused": "一時停止中",
    "quiz": "クイズの途中",
    "budget": "ひと区切り",
    "ended": "終了",
}

pages = APIRouter(include_in_schema=False)
pages.include_router(ASSETS.router())


def _cast() -> dict[str, Any]:
    """The two characters by roster id and by the name the lines carry."""
    characters = pair()
    return {
        "speakers": {c.id: c.name for c in characters},
        "roles": {c.name: c.id for c in characters},
    }


def _html(request: Request, name: str, context: dict[str, Any], headers: dict[str, str] | None = None) -> HTMLResponse:
    base = {**ASSETS.context(), **_cast(), "situations": SITUATIONS, "topics": TOPICS, "state_labels": STATE_LABELS}
    return HTMLResponse(render(request, name, {**base, **context}, dirs=TEMPLATES), headers=headers)


def _label(conv: Conversation) -> str:
    """What a run was about, for the list: the scenario's title, or the situation and topic."""
    scenario_id = conv.settings.get("scenario_id", "")
    if scenario_id:
        return load_catalog().get(scenario_id).title
    situation = SITUATIONS.get(conv.settings.get("situation", ""))
    topic = TOPICS.get(conv.settings.get("topic", ""))
    return "・".join(c.label for c in (situation, topic) if c is not None) or "会話"


def _when(timestamp: float) -> str:
    at = datetime.fromtimestamp(timestamp, JST)
    return f"{at.month}月{at.day}日 {at.hour}:{at.minute:02d}"


async def _runs(runs: WatchRuns, user_id: str, offset: int, **extra: Any) -> dict[str, Any]:
    found = await runs.engine.conversations(user_id, limit=RUNS_PAGE, offset=offset)
    items = [
        {"conv": c, "state": public_state(c), "label": _label(c), "when": _when(c.created_at)} for c in found.items
    ]
    return {"recent": items, "offset": offset, "limit": RUNS_PAGE, "next_offset": found.next_offset, **extra}


async def _last_event_id(res: ResourcesDep, conversation_id: str) -> int:
    """The number of the run's last live event (the log's item 0 is its header), so the reopened page follows
    the socket from there instead of replaying lines it already shows."""
    return max(len(await res.cache.read_list(watch_log_key(conversation_id), 0)) - 1, 0)


async def _run_view(runs: WatchRuns, conv: Conversation, res: ResourcesDep) -> dict[str, Any]:
    messages = await runs.engine.repo.messages(conv)
    quizzes = await runs.quizzes.all(conv)
    state = public_state(conv)
    open_quiz = next((q.public() for q in quizzes if q.id == state["quiz_id"] and q.answer is None), None)
    open_takes = await runs.takes.get(conv, state["take_id"]) if state["take_id"] else None
    played = runs.mode.played_character(conv)
    return {
        "conv": conv,
        "run": state,
        "messages": messages,
        "open_quiz": open_quiz,
        "t": _takes_view(conv, open_takes) if open_takes else None,
        "played": played.name if played else "",
        "accuracy": await runs.accuracy(conv.user_id, conv.id),
        "last_event_id": await _last_event_id(res, conv.id),
    }


@pages.get("/watch", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def watch_page(request: Request, user: PageUser, runs: RunsDep) -> HTMLResponse:
    """The start form and the past runs; the run view is filled by the live script once a run starts."""
    return _html(request, "watch.html", await _runs(runs, user.user_id, 0))


@pages.get("/watch/runs", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def runs_fragment(
    request: Request, user: CurrentUser, runs: RunsDep, offset: Annotated[int, Query(ge=0, le=10000)] = 0
) -> HTMLResponse:
    return _html(request, "_runs.html", await _runs(runs, user.user_id, offset))


@pages.post("/watch/runs", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def start_run(
    user: CurrentUser,
    runs: RunsDep,
    situation: Annotated[str, Form(max_length=32)] = "",
    topic: Annotated[str, Form(max_length=32)] = "",
) -> HTMLResponse:
    """Start a run on the chosen settings; htmx opens its page, which starts playing it."""
    conv = await runs.start(user.user_id, {"situation": situation or None, "topic": topic or None})
    return HTMLResponse("", headers={"HX-Redirect": f"/watch/runs/{conv.id}?play=1"})


@pages.get("/watch/runs/{conversation_id}", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def run_page(
    request: Request,
    conversation_id: str,
    user: PageUser,
    runs: RunsDep,
    res: ResourcesDep,
    play: Annotated[int, Query(ge=0, le=1)] = 0,
) -> HTMLResponse:
    """A run: its lines so far, then live (``play=1``: a run just started, the page starts playing it)."""
    conv = await runs.engine.conversation(user.user_id, conversation_id)
    return _html(request, "watch.html", {**await _run_view(runs, conv, res), "autoplay": bool(play)})


@pages.delete("/watch/runs/{conversation_id}", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def delete_run(request: Request, conversation_id: str, user: CurrentUser, runs: RunsDep) -> HTMLResponse:
    await runs.delete(user.user_id, conversation_id)
    return _html(request, "_runs.html", await _runs(runs, user.user_id, 0, deleted=True))


@pages.post("/watch/runs/{conversation_id}/takeover", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def take_over(
    conversation_id: str,
    user: CurrentUser,
    runs: RunsDep,
    role: Annotated[str, Form(max_length=16)],
    at_line: Annotated[int, Form(ge=1, le=10000)],
) -> HTMLResponse:
    """A new run from that line on, where the learner speaks as ``role``; htmx opens it."""
    if role not in _cast()["speakers"]:
        raise InvalidInput(f"unknown role: {role!r}")
    fork = await runs.take_over(user.user_id, conversation_id, role=role, at_line=at_line)
    return HTMLResponse("", headers={"HX-Redirect": f"/watch/runs/{fork.id}"})


def _takes_view(conv: Conversation, takes: Takes) -> dict[str, Any]:
    return {"conv": conv, **(takes.graded() if takes.answer is not None else takes.public())}


@pages.get("/watch/runs/{conversation_id}/takes/{take_id}", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def takes_fragment(
    request: Request, conversation_id: str, take_id: str, user: CurrentUser, runs: RunsDep
) -> HTMLResponse:
    """The good and bad takes card (the live script loads it when a ``takes`` event arrives)."""
    conv = await runs.engine.conversation(user.user_id, conversation_id)
    return _html(request, "_takes.html", {"t": _takes_view(conv, await runs.takes.get(conv, take_id))})


@pages.post(
    "/watch/runs/{conversation_id}/takes/{take_id}/answer", response_class=HTMLResponse, dependencies=[RequestAllowed]
)
async def answer_takes(
    request: Request,
    conversation_id: str,
    take_id: str,
    user: CurrentUser,
    runs: RunsDep,
    skilled: Annotated[str, Form(max_length=1)] = "",
    aspects: Annotated[list[str] | None, Form(max_length=16)] = None,
    note: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """Which take was skilled and what differs: graded, the differences explained (no model call); the run's
    other clients see the result in its live log too."""
    if skilled not in ("A", "B"):
        raise InvalidInput("skilled must be A or B")
    graded = await runs.answer_takes(user.user_id, conversation_id, take_id, takes_answer(skilled, aspects or [], note))
    live: LiveRuns = request.app.state.watch_live
    await live.log(conversation_id).ensure(user.user_id)
    await live.emit(user.user_id, conversation_id, "takes_result", graded)
    conv = await runs.engine.conversation(user.user_id, conversation_id)
    await live.emit(user.user_id, conversation_id, "state", public_state(conv))
    return _html(request, "_takes.html", {"t": {"conv": conv, **graded}})


@pages.get("/watch/progress", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def progress_fragment(request: Request, user: CurrentUser, runs: RunsDep) -> HTMLResponse:
    """Quiz accuracy and takes over the learner's recent runs: the progress page (scenario service) loads this
    card with htmx, so the numbers stay the watch service's own."""
    return _html(request, "_progress.html", {"p": await runs.progress(user.user_id, PROGRESS_RUNS), "when": _when})


@pages.post("/watch/runs/{conversation_id}/summary", response_class=HTMLResponse, dependencies=[ModelCallAllowed])
async def summary_fragment(request: Request, conversation_id: str, user: CurrentUser, runs: RunsDep) -> HTMLResponse:
    report = await runs.engine.summary(user.user_id, conversation_id)
    accuracy = await runs.accuracy(user.user_id, conversation_id)
    return _html(request, "_summary.html", {"r": report, "accuracy": accuracy})
