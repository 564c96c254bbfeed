"""HTTP API of the chat service (``/api/v2/chat``): parse, one use case, respond."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from functions.chat.deps import ChatDep, ModelCallAllowed, RequestAllowed, ResourcesDep, SettingsDep
from functions.chat.schemas import (
    ActiveSession,
    ChatTurnRequest,
    ChatTurnResult,
    ConversationDetail,
    ConversationPage,
    ConversationSummaryItem,
    FeedbackOut,
    MemoryList,
    MemoryOut,
    MessageOut,
    SummaryOut,
)
from workplace_roleplay.catalog import load_catalog
from workplace_roleplay.domain.conversation.records import Conversation, Message
from workplace_roleplay.errors import ReportNotFound
from workplace_roleplay.web.auth import CurrentUser
from workplace_roleplay.web.service_index import ServiceIndex, service_index
from workplace_roleplay.web.turn_stream import resume_response, turn_response

# The prefix is the service's api_prefix in services.yaml (the one catalog of who serves which path).
router = APIRouter(prefix=load_catalog().get("chat").api_prefix, tags=["chat"])

TURN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "SSE stream (default) of `start`, `token`, `analysis`, `done` or `error` events with ids "
        "`<turn_id>.<n>`; with `Accept: application/json` the whole turn as one JSON body.",
        # "model" puts ChatTurnResult (and its Usage) in components/schemas, so every $ref resolves.
        "model": ChatTurnResult,
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    409: {
        "description": "`turn_in_progress`: another line of this conversation is still being answered (one turn "
        "at a time; ADR 0010); `idempotency_conflict`: this client_message_id was sent before with other text."
    },
    413: {"description": "Request body too large."},
    422: {"description": "Invalid input, empty or too long message, or a moderated message (Japanese reason)."},
    429: {"description": "Rate limited (Retry-After)."},
    503: {"description": "The model failed before any reply text (the learner's line is kept)."},
}


def _item(conv: Conversation) -> ConversationSummaryItem:
    return ConversationSummaryItem(
        id=conv.id,
        mode=conv.mode,
        title=conv.title,
        settings=conv.settings,
        turn_count=conv.turn_count,
        created_at=conv.created_at,
        updated_at=conv.updated_at,
    )


def _message(m: Message) -> MessageOut:
    return MessageOut(
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


@router.get("", summary="What this service offers")
async def index() -> ServiceIndex:
    return service_index("chat")


@router.post(
    "",
    summary="Start or continue a chat; streams the counterpart's reply",
    response_class=Response,
    responses=TURN_RESPONSES,
    dependencies=[ModelCallAllowed],
)
async def chat_turn(
    body: ChatTurnRequest,
    request: Request,
    user: CurrentUser,
    chat: ChatDep,
    res: ResourcesDep,
    settings: SettingsDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    if last_event_id:
        return await resume_response(
            res.cache,
            owner=user.user_id,
            last_event_id=last_event_id,
            buffer_ttl_s=settings.STREAM_BUFFER_TTL_S,
            sealer=res.security.sealer,
            heartbeat_s=settings.SSE_HEARTBEAT_S,
        )
    _, events = await chat.open_turn(
        user.user_id,
        conversation_id=body.conversation_id,
        message=body.message,
        client_message_id=body.client_message_id,
        settings={"partner_type": body.partner_type, "situation": body.situation, "topic": body.topic},
        coaching=body.coaching,
    )
    return await turn_response(
        request,
        events,
        cache=res.cache,
        owner=user.user_id,
        buffer_ttl_s=settings.STREAM_BUFFER_TTL_S,
        sealer=res.security.sealer,
        heartbeat_s=settings.SSE_HEARTBEAT_S,
        background=chat.background,
    )


@router.get(
    "/streams/{turn_id}",
    summary="Resume a turn's event stream after Last-Event-ID (EventSource reconnects)",
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


@router.get(
    "/session", summary="The conversation to resume (hot session, else the newest)", dependencies=[RequestAllowed]
)
async def active_session(user: CurrentUser, chat: ChatDep) -> ActiveSession:
    conv, source = await chat.active(user.user_id)
    return ActiveSession(conversation=_item(conv) if conv else None, source=source)


@router.get("/conversations", summary="The learner's conversations, newest first", dependencies=[RequestAllowed])
async def list_conversations(
    user: CurrentUser,
    chat: ChatDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    offset: Annotated[int, Query(ge=0, le=10000)] = 0,
) -> ConversationPage:
    found = await chat.conversations(user.user_id, limit=limit, offset=offset)
    return ConversationPage(
        items=[_item(c) for c in found.items], limit=limit, offset=offset, next_offset=found.next_offset
    )


@router.get(
    "/conversations/{conversation_id}",
    summary="Settings and messages of one conversation",
    dependencies=[RequestAllowed],
)
async def get_conversation(
    conversation_id: str,
    user: CurrentUser,
    chat: ChatDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0, le=100000)] = 0,
) -> ConversationDetail:
    conv = await chat.conversation(user.user_id, conversation_id)
    found = await chat.messages(conv, limit=limit, offset=offset)
    return ConversationDetail(
        conversation=_item(conv),
        coaching=conv.coaching,
        messages=[_message(m) for m in found.items],
        limit=limit,
        offset=offset,
        next_offset=found.next_offset,
    )


@router.delete(
    "/conversations/{conversation_id}",
    status_code=204,
    summary="Delete a conversation",
    dependencies=[RequestAllowed],
)
async def delete_conversation(conversation_id: str, user: CurrentUser, chat: ChatDep) -> Response:
    """Deletes the messages, coaching, summary, reports and cached reports with it, and the turns' replay buffers."""
    await chat.delete(user.user_id, conversation_id)
    return Response(status_code=204)


@router.get(
    "/conversations/{conversation_id}/summary",
    summary="The summary made earlier (no model call); 404 report_not_found if none yet",
    dependencies=[RequestAllowed],
)
async def stored_summary(conversation_id: str, user: CurrentUser, chat: ChatDep) -> SummaryOut:
    found = await chat.stored_summary(user.user_id, conversation_id)
    if found is None:
        raise ReportNotFound()
    return SummaryOut.model_validate(found)


@router.get(
    "/conversations/{conversation_id}/feedback",
    summary="The newest feedback report made earlier (no model call); 404 report_not_found if none yet",
    dependencies=[RequestAllowed],
)
async def stored_feedback(conversation_id: str, user: CurrentUser, chat: ChatDep) -> FeedbackOut:
    found = await chat.stored_feedback(user.user_id, conversation_id)
    if found is None:
        raise ReportNotFound()
    return FeedbackOut.model_validate(found)


@router.post(
    "/conversations/{conversation_id}/summary",
    summary="Summary, key points and learning points (cached by transcript)",
    dependencies=[ModelCallAllowed],
)
async def summarise(conversation_id: str, user: CurrentUser, chat: ChatDep) -> SummaryOut:
    return SummaryOut.model_validate(await chat.summary(user.user_id, conversation_id))


@router.post(
    "/conversations/{conversation_id}/feedback",
    summary="Six-axis feedback report: checks with quoted evidence, derived scores, advice",
    dependencies=[ModelCallAllowed],
)
async def feedback(conversation_id: str, user: CurrentUser, chat: ChatDep) -> FeedbackOut:
    return FeedbackOut.model_validate(await chat.feedback(user.user_id, conversation_id))


@router.get("/memories", summary="What the counterparts remember about the learner", dependencies=[RequestAllowed])
async def list_memories(user: CurrentUser, chat: ChatDep) -> MemoryList:
    # The stored embedding stays server-side: MemoryOut names only what the learner sees.
    memories = await chat.memories(user.user_id)
    return MemoryList(items=[MemoryOut.model_validate(m, from_attributes=True) for m in memories])


@router.delete("/memories/{memory_id}", status_code=204, summary="Forget one memory", dependencies=[RequestAllowed])
async def delete_memory(memory_id: str, user: CurrentUser, chat: ChatDep) -> Response:
    await chat.forget_memory(user.user_id, memory_id)
    return Response(status_code=204)
