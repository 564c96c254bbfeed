"""HTTP API of the watch service (``/api/v2/watch``): start a run, step it line by line (SSE), control it,
join in, take over a role, answer quizzes, list/reopen/delete runs and the engine's summary/feedback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from functions.watch.deps import EngineDep, ModelCallAllowed, RequestAllowed, ResourcesDep, RunsDep, SettingsDep
from functions.watch.live import LiveRuns
from functions.watch.schemas import (
    Accuracy,
    AnswerRequest,
    ControlRequest,
    GradedQuiz,
    GradedTakes,
    JoinRequest,
    MessageOut,
    Progress,
    QuizOut,
    RunDetail,
    RunItem,
    RunPage,
    RunState,
    StartRequest,
    TakeOverRequest,
    TakesAnswerRequest,
    TakesOut,
)
from workplace_roleplay.catalog import load_catalog
from workplace_roleplay.domain.conversation.records import Conversation
from workplace_roleplay.domain.modes.watch.run import public_state, run_counts
from workplace_roleplay.domain.modes.watch.takes import takes_answer
from workplace_roleplay.errors import ReportNotFound
from workplace_roleplay.web.auth import CurrentUser
from workplace_roleplay.web.service_index import ServiceIndex, service_index
from workplace_roleplay.web.turn_stream import resume_response, turn_response

# The prefix is the service's api_prefix in services.yaml (the one catalog of who serves which path).
router = APIRouter(prefix=load_catalog().get("watch").api_prefix, tags=["watch"])

LINE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "SSE: `start`, `line`, `token`..., `line_done` per character line, then `quiz` (when the run "
        "pauses for one), `state`, `done` (or `error`); ids `<turn_id>.<n>`, resumable with Last-Event-ID.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    409: {
        "description": "The run is paused for a quiz (`watch_paused`, `reason: quiz`) or its line budget is spent "
        "(`budget`), it has ended (`watch_ended`), or another request is speaking it (`watch_busy`: a playing run)."
    },
    422: {"description": "Invalid input, empty, too long or moderated line (Japanese reason)."},
    429: {"description": "Rate limited, or the daily model budget is used up (`daily_budget_exceeded`, Retry-After)."},
    503: {"description": "The model failed before any text."},
}


def _item(conv: Conversation) -> RunItem:
    return RunItem(
        id=conv.id,
        title=conv.title,
        settings=conv.settings,
        created_at=conv.created_at,
        updated_at=conv.updated_at,
        parent_id=conv.parent_id,
        run=RunState.model_validate(public_state(conv)),
    )


def _live(request: Request) -> LiveRuns:
    live: LiveRuns = request.app.state.watch_live
    return live


async def _stream(
    request: Request, events: Any, user_id: str, res: ResourcesDep, settings: SettingsDep, runs: RunsDep
) -> Response:
    stream_events: Any = events
    return await turn_response(
        request,
        stream_events,
        cache=res.cache,
        owner=user_id,
        buffer_ttl_s=settings.STREAM_BUFFER_TTL_S,
        sealer=res.security.sealer,
        heartbeat_s=settings.SSE_HEARTBEAT_S,
        background=runs.engine.background,
    )


@router.get("", summary="What this service offers")
async def index() -> ServiceIndex:
    return service_index("watch")


@router.post("/conversations", status_code=201, summary="Start a watch run", dependencies=[RequestAllowed])
async def start(body: StartRequest, user: CurrentUser, runs: RunsDep) -> RunItem:
    conv = await runs.start(user.user_id, body.model_dump())
    return _item(conv)


@router.post(
    "/conversations/{conversation_id}/next",
    summary="The next character's line, streamed",
    response_class=Response,
    responses=LINE_RESPONSES,
    dependencies=[ModelCallAllowed],
)
async def next_line(
    conversation_id: str, request: Request, user: CurrentUser, runs: RunsDep, res: ResourcesDep, settings: SettingsDep
) -> Response:
    # The line is spoken under the run's lease and recorded in its log, exactly like a socket step: a socket
    # driver and this request never speak the same line twice, and socket clients see this line once.
    live = _live(request)
    await runs.engine.conversation(user.user_id, conversation_id)  # ownership before touching the lease
    await live.hold(user.user_id, conversation_id, wait_s=3.0)
    try:
        _, events = await runs.step(user.user_id, conversation_id)
    except BaseException:
        await live.release(conversation_id)
        raise
    return await _stream(request, live.logged(user.user_id, conversation_id, events), user.user_id, res, settings, runs)


@router.post(
    "/conversations/{conversation_id}/join",
    summary="The learner's line (会話に参加する); both characters react, streamed",
    response_class=Response,
    responses=LINE_RESPONSES,
    dependencies=[ModelCallAllowed],
)
async def join(
    conversation_id: str,
    body: JoinRequest,
    request: Request,
    user: CurrentUser,
    runs: RunsDep,
    res: ResourcesDep,
    settings: SettingsDep,
) -> Response:
    live = _live(request)
    runs.engine.check_line(body.message, conversation_id=conversation_id, client_message_id=body.client_message_id)
    conv = await runs.control(user.user_id, conversation_id, "pause")  # joining pauses a playing run
    await live.emit(user.user_id, conversation_id, "state", public_state(conv))
    await live.hold(user.user_id, conversation_id, wait_s=30.0)  # the line being spoken ends first
    try:
        _, events = await runs.join(user.user_id, conversation_id, body.message, body.client_message_id)
    except BaseException:
        await live.release(conversation_id)
        raise
    return await _stream(request, live.logged(user.user_id, conversation_id, events), user.user_id, res, settings, runs)


@router.get(
    "/streams/{turn_id}",
    summary="Resume a line's event stream after Last-Event-ID",
    response_class=Response,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}, 404: {}},
    dependencies=[RequestAllowed],
)
async def resume_stream(
    turn_id: str,
    user: CurrentUser,
    res: ResourcesDep,
    settings: SettingsDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    return await resume_response(
        res.cache,
        owner=user.user_id,
        last_event_id=last_event_id or f"{turn_id}.0",
        buffer_ttl_s=settings.STREAM_BUFFER_TTL_S,
        sealer=res.security.sealer,
        heartbeat_s=settings.SSE_HEARTBEAT_S,
    )


@router.post(
    "/conversations/{conversation_id}/control",
    summary="play / pause / resume / continue (another line budget) / speed / end (終了する, final)",
    dependencies=[RequestAllowed],
)
async def control(conversation_id: str, body: ControlRequest, user: CurrentUser, runs: RunsDep) -> RunState:
    conv = await runs.control(user.user_id, conversation_id, body.action, speed=body.speed)
    return RunState.model_validate(public_state(conv))


@router.post(
    "/conversations/{conversation_id}/takeover",
    status_code=201,
    summary="A new run from a line on, where the learner plays a character (engine fork)",
    dependencies=[RequestAllowed],
)
async def take_over(conversation_id: str, body: TakeOverRequest, user: CurrentUser, runs: RunsDep) -> RunItem:
    fork = await runs.take_over(user.user_id, conversation_id, role=body.role, at_line=body.at_line)
    return _item(fork)


@router.post(
    "/conversations/{conversation_id}/quiz",
    summary="A quiz on demand (the run pauses until it is answered)",
    dependencies=[ModelCallAllowed],
)
async def ask_quiz(conversation_id: str, user: CurrentUser, runs: RunsDep) -> QuizOut:
    return QuizOut.model_validate(await runs.ask_quiz(user.user_id, conversation_id))


@router.post(
    "/conversations/{conversation_id}/quizzes/{quiz_id}/answer",
    summary="Answer a quiz: graded, explained and stored",
    dependencies=[RequestAllowed],
)
async def answer_quiz(
    conversation_id: str, quiz_id: str, body: AnswerRequest, user: CurrentUser, runs: RunsDep
) -> GradedQuiz:
    return GradedQuiz.model_validate(await runs.answer(user.user_id, conversation_id, quiz_id, body.answer))


@router.post(
    "/conversations/{conversation_id}/takes",
    status_code=201,
    summary="Good and bad takes of the next moment (which one is skilled stays server-side until answered)",
    responses={409: {"description": "The run has ended (`watch_ended`)."}, 429: {"description": "Rate or budget."}},
    dependencies=[ModelCallAllowed],
)
async def ask_takes(conversation_id: str, request: Request, user: CurrentUser, runs: RunsDep) -> TakesOut:
    public = await runs.ask_takes(user.user_id, conversation_id)
    live = _live(request)
    await live.log(conversation_id).ensure(user.user_id)
    await live.emit(user.user_id, conversation_id, "takes", public)
    conv = await runs.engine.conversation(user.user_id, conversation_id)
    await live.emit(user.user_id, conversation_id, "state", public_state(conv))
    return TakesOut.model_validate(public)


@router.post(
    "/conversations/{conversation_id}/takes/{take_id}/answer",
    summary="Answer good and bad takes: which is skilled, what differs; graded and explained (no model call)",
    responses={404: {"description": "`takes_not_found`"}, 409: {"description": "`takes_already_answered`"}},
    dependencies=[RequestAllowed],
)
async def answer_takes(
    conversation_id: str, take_id: str, body: TakesAnswerRequest, request: Request, user: CurrentUser, runs: RunsDep
) -> GradedTakes:
    answer = takes_answer(body.skilled, list(body.aspects), body.note)
    graded = await runs.answer_takes(user.user_id, conversation_id, take_id, answer)
    live = _live(request)
    await live.log(conversation_id).ensure(user.user_id)
    await live.emit(user.user_id, conversation_id, "takes_result", graded)
    return GradedTakes.model_validate(graded)


@router.get(
    "/progress",
    summary="The learner's watch quiz accuracy and takes over their most recently updated runs (progress page)",
    dependencies=[RequestAllowed],
)
async def progress(user: CurrentUser, runs: RunsDep, recent: Annotated[int, Query(ge=1, le=50)] = 10) -> Progress:
    return Progress.model_validate(await runs.progress(user.user_id, recent))


@router.get(
    "/conversations/{conversation_id}/accuracy", summary="The learner's quiz accuracy", dependencies=[RequestAllowed]
)
async def quiz_accuracy(conversation_id: str, user: CurrentUser, runs: RunsDep) -> Accuracy:
    return Accuracy.model_validate(await runs.accuracy(user.user_id, conversation_id))


@router.get("/conversations", summary="The learner's watch runs, newest first", dependencies=[RequestAllowed])
async def list_runs(
    user: CurrentUser,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    offset: Annotated[int, Query(ge=0, le=10000)] = 0,
) -> RunPage:
    found = await engine.conversations(user.user_id, limit=limit, offset=offset)
    return RunPage(items=[_item(c) for c in found.items], limit=limit, offset=offset, next_offset=found.next_offset)


@router.get(
    "/conversations/{conversation_id}", summary="Reopen a run: lines and quizzes", dependencies=[RequestAllowed]
)
async def get_run(conversation_id: str, user: CurrentUser, runs: RunsDep) -> RunDetail:
    conv = await runs.engine.conversation(user.user_id, conversation_id)
    messages = await runs.engine.repo.messages(conv)
    quizzes = await runs.quizzes.all(conv)
    takes = await runs.takes.all(conv)
    return RunDetail(
        run=_item(conv),
        messages=[
            MessageOut(
                id=m.id,
                role=m.role.value,
                speaker=m.speaker,
                text=m.text,
                status=m.status.value,
                created_at=m.created_at,
                model=m.model,
                simple_mode=m.simple_mode,
            )
            for m in messages
        ],
        # An open quiz shows only its question and choices; an answered one its grading too.
        quizzes=[q.graded() if q.answer is not None else q.public() for q in quizzes],
        takes=[t.graded() if t.answer is not None else t.public() for t in takes],
    )


@router.delete(
    "/conversations/{conversation_id}", status_code=204, summary="Delete a run", dependencies=[RequestAllowed]
)
async def delete_run(conversation_id: str, user: CurrentUser, runs: RunsDep) -> Response:
    await runs.delete(user.user_id, conversation_id)
    return Response(status_code=204)


@router.post(
    "/conversations/{conversation_id}/summary",
    summary="Summary, key points and learning points (engine)",
    dependencies=[ModelCallAllowed],
)
async def summarise(conversation_id: str, user: CurrentUser, engine: EngineDep) -> dict[str, Any]:
    report = await engine.summary(user.user_id, conversation_id)
    return {**report, "watch": run_counts(await engine.conversation(user.user_id, conversation_id))}


@router.get(
    "/conversations/{conversation_id}/summary",
    summary="The summary made earlier (no model call)",
    dependencies=[RequestAllowed],
)
async def stored_summary(conversation_id: str, user: CurrentUser, engine: EngineDep) -> dict[str, Any]:
    found = await engine.stored_summary(user.user_id, conversation_id)
    if found is None:
        raise ReportNotFound()
    return {**found, "watch": run_counts(await engine.conversation(user.user_id, conversation_id))}


@router.post(
    "/conversations/{conversation_id}/feedback",
    summary="Feedback report of the run (engine)",
    dependencies=[ModelCallAllowed],
)
async def feedback(conversation_id: str, user: CurrentUser, engine: EngineDep) -> dict[str, Any]:
    report = await engine.feedback(user.user_id, conversation_id)
    return {**report, "watch": run_counts(await engine.conversation(user.user_id, conversation_id))}
