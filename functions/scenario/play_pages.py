"""The play page ``/scenarios/play/{session_id}`` and its htmx fragments, built from the page kit.

Start (from the detail page) makes the session and, when the counterpart speaks first, its opening, then
sends the browser to the play page. kit.js streams each turn from the API; after a turn htmx reloads the
mood meter and the conversation (with 「この発言からやり直す」 on each learner line). Hint, report and fork
are htmx posts; compare is a page. Every route goes through the consent gate (``ScenarioPlay.session``).
"""

from __future__ import annotations

from contextlib import aclosing
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from functions.scenario.deps import ScenariosDep
from functions.scenario.play import GrowthDep, PlayDep
from workplace_roleplay.domain.conversation.events import TurnDone, TurnFailed
from workplace_roleplay.domain.conversation.records import Conversation, Role
from workplace_roleplay.domain.scenario.growth import MODE_LABELS
from workplace_roleplay.domain.scenario.mood import LABELS, NOTICE
from workplace_roleplay.domain.scenario.play import ScenarioPlay
from workplace_roleplay.errors import ConsentRequired
from workplace_roleplay.web.deps import CurrentUser, ModelCallAllowed, PageUser, RequestAllowed
from workplace_roleplay.web.pagekit import PageAssets
from workplace_roleplay.web.templating import render

ASSETS = PageAssets("/scenarios/kit")  # kit.js and htmx, fingerprinted, under this service's prefix
play_pages = APIRouter(include_in_schema=False)
play_pages.include_router(ASSETS.router())


def _html(request: Request, name: str, context: dict[str, Any], headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(render(request, name, {**ASSETS.context(), **context}), headers=headers)


async def _state(play: ScenarioPlay, conv: Conversation) -> dict[str, Any]:
    messages = await play.engine.repo.messages(conv)
    learners = [m.id for m in messages if m.role is Role.LEARNER]
    return {
        "conv": conv,
        "messages": messages,
        "learner_turn": {mid: n for n, mid in enumerate(learners, start=1)},
        "mood": [p.as_dict() for p in await play.timeline(conv)],
        "mood_labels": LABELS,
        "mood_notice": NOTICE,
        "counterpart": play.engine.mode.cast(conv).lead.name,
    }


async def _remembered(play: ScenarioPlay, user_id: str, name: str) -> list[dict[str, Any]]:
    found = [c["items"] for c in await play.memories(user_id) if c["character"] == name]
    return found[0] if found else []


async def _opening(play: ScenarioPlay, conv: Conversation) -> str:
    """Run the counterpart's opening to its end (the page shows it stored); the notice or error to show."""
    said = ""
    async with aclosing(play.engine.turn(conv, text=None)) as events:
        async for event in events:
            if isinstance(event, TurnDone):
                said = " ".join(n for n in (event.notice, event.nudge) if n)
            elif isinstance(event, TurnFailed):
                said = event.message_ja
    return said


@play_pages.post("/scenarios/{scenario_id}/play", dependencies=[ModelCallAllowed])
async def start_play(scenario_id: str, user: CurrentUser, play: PlayDep, scenarios: ScenariosDep) -> Response:
    scenario = await scenarios.access.open(user.user_id, scenario_id, next_path=f"/scenarios/{scenario_id}")
    conv = await play.start(user.user_id, scenario)
    if not scenario.opening.learner_first:
        await _opening(play, conv)
    return Response(status_code=204, headers={"HX-Redirect": f"/scenarios/play/{conv.id}"})


@play_pages.get("/scenarios/play/{session_id}", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def play_page(request: Request, session_id: str, user: PageUser, play: PlayDep) -> Response:
    try:
        conv, scenario = await play.session(user.user_id, session_id)
    except ConsentRequired as exc:
        return RedirectResponse(exc.consent_url, status_code=303)
    view = {
        **await _state(play, conv),
        "s": scenario,
        "hints": await play.hints_used(conv),
        "report": await play.stored_report(user.user_id, conv),
        "max_chars": play.engine.options.max_message_chars,
        "notice": "",
        "remembered": await _remembered(play, user.user_id, play.engine.mode.cast(conv).lead.name),
    }
    return _html(request, "play.html", view)


@play_pages.get("/scenarios/play/{session_id}/state", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def play_state(request: Request, session_id: str, user: CurrentUser, play: PlayDep) -> HTMLResponse:
    conv, _ = await play.session(user.user_id, session_id)
    return _html(request, "_play_state.html", await _state(play, conv))


@play_pages.post("/scenarios/play/{session_id}/hint", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def play_hint(request: Request, session_id: str, user: CurrentUser, play: PlayDep) -> HTMLResponse:
    conv, scenario = await play.session(user.user_id, session_id)
    return _html(request, "_hint.html", {"h": await play.hint(conv, scenario)})


@play_pages.post("/scenarios/play/{session_id}/report", response_class=HTMLResponse, dependencies=[ModelCallAllowed])
async def play_report(request: Request, session_id: str, user: CurrentUser, play: PlayDep) -> HTMLResponse:
    conv, scenario = await play.session(user.user_id, session_id)
    return _html(request, "_play_report.html", {"r": await play.report(user.user_id, conv, scenario)})


@play_pages.post("/scenarios/play/{session_id}/fork", dependencies=[RequestAllowed])
async def play_fork(
    session_id: str, user: CurrentUser, play: PlayDep, at_turn: Annotated[int, Form(ge=1, le=1000)]
) -> Response:
    conv, _ = await play.session(user.user_id, session_id)
    forked = await play.engine.fork(user.user_id, conv.id, at_turn=at_turn)
    return Response(status_code=204, headers={"HX-Redirect": f"/scenarios/play/{forked.id}"})


@play_pages.get("/scenarios/play/{session_id}/compare", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def compare_page(request: Request, session_id: str, user: PageUser, play: PlayDep) -> Response:
    try:
        conv, scenario = await play.session(user.user_id, session_id)
    except ConsentRequired as exc:
        return RedirectResponse(exc.consent_url, status_code=303)
    return _html(
        request, "compare.html", {"conv": conv, "s": scenario, "family": await play.compare(user.user_id, conv)}
    )


@play_pages.get("/progress", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def progress_page(request: Request, user: PageUser, growth: GrowthDep) -> HTMLResponse:
    return _html(request, "progress.html", {"g": await growth.overview(user.user_id), "modes": MODE_LABELS})


@play_pages.delete("/scenarios/memories/{memory_id}", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def forget_page(memory_id: str, user: CurrentUser, play: PlayDep) -> HTMLResponse:
    await play.forget(user.user_id, memory_id)
    return HTMLResponse("")  # htmx removes the line (outerHTML swap with nothing)
