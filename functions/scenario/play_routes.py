"""HTTP API of scenario play (``/api/v2/scenarios``): sessions, streamed turns, hints, reports, forks.

Every route that reaches a scenario goes through the consent gate: ``AllowedScenario`` for a scenario id,
``ScenarioPlay.session`` for a session id (docs/architecture.md, "Modes"; ADR 0015). Deleting a session is
the one exception: a learner may always delete their own data.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from functions.scenario.deps import AllowedScenario
from functions.scenario.play import GrowthDep, PlayDep, ScenarioSettingsDep
from functions.scenario.play_schemas import (
    CompareOut,
    ForkIn,
    HintOut,
    SessionDetail,
    SessionItem,
    SessionMessage,
    SessionPage,
    SessionStart,
    StartIn,
    TurnIn,
)
from workplace_roleplay.catalog import load_catalog
from workplace_roleplay.domain.conversation.records import Conversation, Message
from workplace_roleplay.domain.scenario.model import Scenario
from workplace_roleplay.domain.scenario.mood import NOTICE
from workplace_roleplay.errors import EmptyMessage, ReportNotFound, ScenarioNotFound
from workplace_roleplay.web.deps import CurrentUser, ModelCallAllowed, RequestAllowed, ResourcesDep
from workplace_roleplay.web.turn_stream import resume_response, turn_response

play_router = APIRouter(prefix=load_catalog().get("scenario").api_prefix, tags=["scenario play"])

GATED: dict[int | str, dict[str, Any]] = {
    403: {"description": "consent_required: the learner has not agreed to this content (body has consent_url)."},
    404: {"description": "conversation_not_found / scenario_not_found (another learner's id is not found)."},
    429: {"description": "Rate limited (Retry-After)."},
}
STREAM: dict[int | str, dict[str, Any]] = {
    **GATED,
    200: {
        "description": "SSE of `start`, `token`, `analysis`, `mood`, `done` or `error` (ids `<turn_id>.<n>`), "
        "exactly like chat; with `Accept: application/json` one JSON body (`mode_events.mood`).",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    409: {"description": "The same client_message_id is still being answered."},
    422: {"description": "Invalid, empty, too long or moderated message (Japanese reason)."},
}


def _item(conv: Conversation, play: Any) -> SessionItem:
    scenario_id = conv.settings.get("scenario_id", "")
    try:
        title = play.catalog.get(scenario_id).title
    except ScenarioNotFound:
        title = ""
    return SessionItem(
        id=conv.id,
        scenario_id=scenario_id,
        scenario_title=title,
        title=conv.title,
        turn_count=conv.turn_count,
        parent_id=conv.parent_id,
        forked_at_turn=conv.forked_at_turn,
        created_at=conv.created_at,
        updated_at=conv.updated_at,
    )


def _message(m: Message) -> SessionMessage:
    return SessionMessage(
        id=m.id,
        role=m.role.value,
        speaker=m.speaker,
        text=m.text,
        status=m.status.value,
        created_at=m.created_at,
        model=m.model,
        simple_mode=m.simple_mode,
        analysis=m.analysis,
        notice=m.notice,
    )


def _started(conv: Conversation, scenario: Scenario, play: Any) -> SessionStart:
    return SessionStart(
        session=_item(conv, play),
        learner_first=scenario.opening.learner_first,
        situation_card=scenario.opening.card,
        opening_pending=not scenario.opening.learner_first and conv.turn_count == 0 and not conv.parent_id,
    )


@play_router.post(
    "/{scenario_id}/sessions",
    status_code=201,
    summary="Start a session of a scenario (several may be in progress at once)",
    responses=GATED,
    dependencies=[RequestAllowed],
)
async def start_session(scenario: AllowedScenario, user: CurrentUser, play: PlayDep, body: StartIn) -> SessionStart:
    conv = await play.start(user.user_id, scenario, coaching=body.coaching)
    return _started(conv, scenario, play)


@play_router.get(
    "/progress",
    summary="Each axis over the learner's reports (chat and scenario), best and latest per scenario, what next",
    dependencies=[RequestAllowed],
)
async def progress(user: CurrentUser, growth: GrowthDep) -> dict[str, Any]:
    return await growth.overview(user.user_id)


@play_router.get(
    "/memories",
    summary="What each scenario character remembers about the learner (grouped by character)",
    dependencies=[RequestAllowed],
)
async def list_memories(user: CurrentUser, play: PlayDep) -> dict[str, Any]:
    return {"characters": await play.memories(user.user_id)}


@play_router.delete(
    "/memories/{memory_id}", status_code=204, summary="Make a character forget one thing", dependencies=[RequestAllowed]
)
async def forget_memory(memory_id: str, user: CurrentUser, play: PlayDep) -> Response:
    await play.forget(user.user_id, memory_id)
    return Response(status_code=204)


@play_router.get("/sessions", summary="The learner's scenario sessions, newest first", dependencies=[RequestAllowed])
async def list_sessions(
    user: CurrentUser,
    play: PlayDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    offset: Annotated[int, Query(ge=0, le=10000)] = 0,
) -> SessionPage:
    found = await play.engine.conversations(user.user_id, limit=limit, offset=offset)
    consented = await play.access.consent.has_consent(user.user_id)
    visible = [c for c in found.items if consented or not _gated(play, c)]
    return SessionPage(
        items=[_item(c, play) for c in visible], limit=limit, offset=offset, next_offset=found.next_offset
    )


def _gated(play: Any, conv: Conversation) -> bool:
    try:
        return bool(play.catalog.get(conv.settings.get("scenario_id", "")).requires_consent)
    except ScenarioNotFound:
        return True


@play_router.get(
    "/sessions/{session_id}",
    summary="A session: messages, mood timeline, hints",
    responses=GATED,
    dependencies=[RequestAllowed],
)
async def get_session(session_id: str, user: CurrentUser, play: PlayDep) -> SessionDetail:
    conv, scenario = await play.session(user.user_id, session_id)
    messages = await play.engine.repo.messages(conv)
    return SessionDetail(
        session=_item(conv, play),
        learner_first=scenario.opening.learner_first,
        situation_card=scenario.opening.card,
        counterpart=play.engine.mode.cast(conv).lead.name,
        messages=[_message(m) for m in messages],
        mood=[p.as_dict() for p in await play.timeline(conv)],
        mood_notice=NOTICE,
        hints_used=await play.hints_used(conv),
        has_report=await play.stored_report(user.user_id, conv) is not None,
    )


@play_router.delete(
    "/sessions/{session_id}", status_code=204, summary="Delete a session and its report", dependencies=[RequestAllowed]
)
async def delete_session(session_id: str, user: CurrentUser, play: PlayDep) -> Response:
    await play.delete(user.user_id, session_id)
    return Response(status_code=204)


@play_router.post(
    "/sessions/{session_id}/turns",
    summary="The learner's line (or the counterpart's opening); streams the reply like chat",
    response_class=Response,
    responses=STREAM,
    dependencies=[ModelCallAllowed],
)
async def session_turn(
    session_id: str,
    body: TurnIn,
    request: Request,
    user: CurrentUser,
    play: PlayDep,
    res: ResourcesDep,
    settings: ScenarioSettingsDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    conv, scenario = await play.session(user.user_id, session_id)
    if last_event_id:
        return await _resume(user.user_id, last_event_id, res, settings)
    if body.message is None:
        if scenario.opening.learner_first or conv.turn_count or await play.engine.repo.messages(conv, limit=1):
            raise EmptyMessage()
        events = play.engine.turn(conv, text=None)
    else:
        _, events = await play.engine.open_turn(
            user.user_id, conversation_id=conv.id, message=body.message, client_message_id=body.client_message_id
        )
    return await turn_response(
        request,
        events,
        cache=res.cache,
        owner=user.user_id,
        buffer_ttl_s=settings.STREAM_BUFFER_TTL_S,
        sealer=res.security.sealer,
        heartbeat_s=settings.SSE_HEARTBEAT_S,
        background=play.engine.background,
    )


async def _resume(owner: str, last_event_id: str, res: Any, settings: Any) -> Response:
    return await resume_response(
        res.cache,
        owner=owner,
        last_event_id=last_event_id,
        buffer_ttl_s=settings.STREAM_BUFFER_TTL_S,
        sealer=res.security.sealer,
        heartbeat_s=settings.SSE_HEARTBEAT_S,
    )


@play_router.get(
    "/sessions/{session_id}/streams/{turn_id}",
    summary="Resume a turn's event stream after Last-Event-ID",
    response_class=Response,
    responses={**GATED, 200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
    dependencies=[RequestAllowed],
)
async def resume_stream(
    session_id: str,
    turn_id: str,
    user: CurrentUser,
    play: PlayDep,
    res: ResourcesDep,
    settings: ScenarioSettingsDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    await play.session(user.user_id, session_id)
    return await _resume(user.user_id, last_event_id or f"{turn_id}.0", res, settings)


@play_router.post(
    "/sessions/{session_id}/hints",
    summary="The next hint of this turn: nudge, then structure, then an example line (stored)",
    responses=GATED,
    dependencies=[RequestAllowed],
)
async def next_hint(session_id: str, user: CurrentUser, play: PlayDep) -> HintOut:
    conv, scenario = await play.session(user.user_id, session_id)
    return HintOut.model_validate(await play.hint(conv, scenario))


@play_router.post(
    "/sessions/{session_id}/report",
    summary="Finish: the scenario report (its checks and the six axes with quoted evidence, hints, mood)",
    responses=GATED,
    dependencies=[ModelCallAllowed],
)
async def make_report(session_id: str, user: CurrentUser, play: PlayDep) -> dict[str, Any]:
    conv, scenario = await play.session(user.user_id, session_id)
    return await play.report(user.user_id, conv, scenario)


@play_router.get(
    "/sessions/{session_id}/report",
    summary="The stored report (no model call); 404 report_not_found if none yet",
    responses=GATED,
    dependencies=[RequestAllowed],
)
async def stored_report(session_id: str, user: CurrentUser, play: PlayDep) -> dict[str, Any]:
    conv, _ = await play.session(user.user_id, session_id)
    found = await play.stored_report(user.user_id, conv)
    if found is None:
        raise ReportNotFound()
    return found


@play_router.post(
    "/sessions/{session_id}/forks",
    status_code=201,
    summary="「この発言からやり直す」: a new session before the learner's n-th line",
    responses=GATED,
    dependencies=[RequestAllowed],
)
async def fork_session(session_id: str, body: ForkIn, user: CurrentUser, play: PlayDep) -> SessionStart:
    conv, scenario = await play.session(user.user_id, session_id)
    forked = await play.engine.fork(user.user_id, conv.id, at_turn=body.at_turn)
    return _started(forked, scenario, play)


@play_router.get(
    "/sessions/{session_id}/compare",
    summary="The session's fork family side by side, each with its stored report",
    responses=GATED,
    dependencies=[RequestAllowed],
)
async def compare(session_id: str, user: CurrentUser, play: PlayDep) -> CompareOut:
    conv, _ = await play.session(user.user_id, session_id)
    return CompareOut(items=await play.compare(user.user_id, conv))
