"""The ``/chat`` page (server-rendered, Japanese, mobile-first) and its script and stylesheet."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from functions.chat.deps import ChatDep
from workplace_roleplay.domain.chat_partner import PARTNER_TYPES, SITUATIONS, TOPICS
from workplace_roleplay.errors import NotFound
from workplace_roleplay.web.auth import PageUser
from workplace_roleplay.web.templating import render

STATIC = Path(__file__).parent / "static"
TEMPLATES = (str(Path(__file__).parent / "templates"),)
ASSETS = {"chat.js": "text/javascript; charset=utf-8", "chat.css": "text/css; charset=utf-8"}

pages = APIRouter(include_in_schema=False)


@pages.get("/chat", response_class=HTMLResponse)
async def chat_page(request: Request, user: PageUser, chat: ChatDep) -> HTMLResponse:
    recent = await chat.conversations(user.user_id, limit=10, offset=0)
    context = {
        "partner_types": PARTNER_TYPES,
        "situations": SITUATIONS,
        "topics": TOPICS,
        "recent": recent,
        "max_chars": chat.options.max_message_chars,
    }
    return HTMLResponse(render(request, "chat.html", context, dirs=TEMPLATES))


@pages.get("/chat/static/{name}")
async def chat_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise NotFound()
    # Versioned by deploy: a day of caching is safe and keeps phones from refetching on every visit.
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=3600"})
