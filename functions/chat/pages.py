"""The ``/chat`` page and its HTMX fragments (server-rendered, autoescaped, Japanese, mobile-first).

Built from the shared page kit (docs/pages.md): htmx drives everything server-rendered (start
form, past conversations, summary, feedback report, delete); the kit's one script streams the turn
(ADR 0012, ADR 0025). Each route calls one ``ConversationService`` use case and renders a partial; errors go
through the shared error map, which answers htmx with a Japanese fragment. Unsafe methods need the
CSRF header (``current_user``), which htmx sends from the ``hx-headers`` of ``base.html``.
"""

from __future__ import annotations

from contextlib import aclosing
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from functions.chat.deps import ChatDep, ModelCallAllowed, RequestAllowed
from workplace_roleplay.domain.conversation.events import TurnDone, TurnFailed
from workplace_roleplay.domain.conversation.records import Conversation
from workplace_roleplay.domain.conversation.service import ConversationService as ChatService
from workplace_roleplay.domain.modes.chat import PARTNER_TYPES, SITUATIONS, TOPICS
from workplace_roleplay.web.auth import CurrentUser, PageUser
from workplace_roleplay.web.pagekit import PageAssets
from workplace_roleplay.web.templating import render

TEMPLATES = (str(Path(__file__).parent / "templates"),)
# The page kit's scripts (kit.js, htmx), fingerprinted and cached immutably, under this page's prefix.
ASSETS = PageAssets("/chat/static")
HISTORY_PAGE = 10
MESSAGES_SHOWN = 200
# htmx listens for this on <body> to reload the past-conversations list.
HISTORY_CHANGED = {"HX-Trigger": "chat-history-changed"}
CHOICES = {"partner_types": PARTNER_TYPES, "situations": SITUATIONS, "topics": TOPICS}

pages = APIRouter(include_in_schema=False)


def _html(request: Request, name: str, context: dict[str, Any], headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(
        render(request, name, {**CHOICES, **ASSETS.context(), **context}, dirs=TEMPLATES), headers=headers
    )


async def _history(chat: ChatService, user_id: str, offset: int) -> dict[str, Any]:
    found = await chat.conversations(user_id, limit=HISTORY_PAGE, offset=offset)
    return {"recent": found.items, "offset": offset, "limit": HISTORY_PAGE, "next_offset": found.next_offset}


async def _conversation_view(
    chat: ChatService, conv: Conversation, *, notice: str = "", error: str = ""
) -> dict[str, Any]:
    found = await chat.messages(conv, limit=MESSAGES_SHOWN, offset=0)
    return {
        "conv": conv,
        "messages": found.items,
        "more_messages": found.next_offset is not None,
        "max_chars": chat.options.max_message_chars,
        "notice": notice,
        "error": error,
    }


async def _reopened_view(chat: ChatService, conv: Conversation) -> dict[str, Any]:
    """A conversation opened again: its lines, and the summary and report made earlier (no model call)."""
    view = await _conversation_view(chat, conv)
    view["summary"] = await chat.stored_summary(conv.user_id, conv.id)
    view["report"] = await chat.stored_feedback(conv.user_id, conv.id)
    return view


@pages.get("/chat", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def chat_page(request: Request, user: PageUser, chat: ChatDep) -> HTMLResponse:
    """The page opens the learner's active conversation (hot session, else the newest), or the start form."""
    conv, _ = await chat.active(user.user_id)
    view = await _reopened_view(chat, conv) if conv is not None else {}
    return _html(request, "chat.html", {**await _history(chat, user.user_id, 0), **view})


@pages.get("/chat/history", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def history_fragment(
    request: Request, user: CurrentUser, chat: ChatDep, offset: Annotated[int, Query(ge=0, le=10000)] = 0
) -> HTMLResponse:
    return _html(request, "_history.html", await _history(chat, user.user_id, offset))


@pages.get("/chat/new", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def setup_fragment(request: Request, user: CurrentUser) -> HTMLResponse:
    return _html(request, "_setup.html", {})


@pages.post("/chat/conversations", response_class=HTMLResponse, dependencies=[ModelCallAllowed])
async def start_conversation(
    request: Request,
    user: CurrentUser,
    chat: ChatDep,
    partner_type: Annotated[str, Form(max_length=32)] = "",
    situation: Annotated[str, Form(max_length=32)] = "",
    topic: Annotated[str, Form(max_length=32)] = "",
    coaching: Annotated[str, Form(max_length=8)] = "",
) -> HTMLResponse:
    """Start a conversation and let the counterpart open it; the opening line is short, so it is rendered
    whole rather than streamed (the learner's turns stream, from kit.js)."""
    conv = await chat.start(
        user.user_id,
        settings={"partner_type": partner_type or None, "situation": situation or None, "topic": topic or None},
        coaching=coaching == "on",
    )
    notice = error = ""
    async with aclosing(chat.turn(conv, text=None)) as events:
        async for event in events:
            if isinstance(event, TurnDone):
                notice = " ".join(n for n in (event.notice, event.nudge) if n)
            elif isinstance(event, TurnFailed):
                error = event.message_ja
    view = await _conversation_view(chat, conv, notice=notice, error=error)
    # The opening line is a finished reply: kit.js announces it once (data-announce).
    return _html(request, "_conversation.html", {**view, "announce": True}, headers=HISTORY_CHANGED)


@pages.get("/chat/conversations/{conversation_id}", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def conversation_fragment(
    request: Request, conversation_id: str, user: CurrentUser, chat: ChatDep
) -> HTMLResponse:
    conv = await chat.conversation(user.user_id, conversation_id)
    return _html(request, "_conversation.html", await _reopened_view(chat, conv))


@pages.delete("/chat/conversations/{conversation_id}", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def delete_conversation(request: Request, conversation_id: str, user: CurrentUser, chat: ChatDep) -> HTMLResponse:
    await chat.delete(user.user_id, conversation_id)
    return _html(request, "_setup.html", {"deleted": True}, headers=HISTORY_CHANGED)


@pages.post(
    "/chat/conversations/{conversation_id}/summary", response_class=HTMLResponse, dependencies=[ModelCallAllowed]
)
async def summary_fragment(request: Request, conversation_id: str, user: CurrentUser, chat: ChatDep) -> HTMLResponse:
    return _html(request, "_summary.html", {"r": await chat.summary(user.user_id, conversation_id)})


@pages.post(
    "/chat/conversations/{conversation_id}/feedback", response_class=HTMLResponse, dependencies=[ModelCallAllowed]
)
async def feedback_fragment(request: Request, conversation_id: str, user: CurrentUser, chat: ChatDep) -> HTMLResponse:
    return _html(request, "_feedback.html", {"r": await chat.feedback(user.user_id, conversation_id)})


pages.include_router(ASSETS.router())
