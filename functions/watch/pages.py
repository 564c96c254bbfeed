"""The ``/watch`` page (会話観戦): the start form and the run view, server-rendered in Japanese, mobile first.

The run itself is live: ``static/watch.js`` starts a run over the JSON API and follows it on the WebSocket
(``/api/v2/watch/ws/{cid}``), falling back to the SSE + POST endpoints when the socket cannot open
(docs/watch-protocol.md). Built from the shared page kit (docs/pages.md).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from functions.watch.deps import RequestAllowed
from workplace_roleplay.domain.modes.chat import SITUATIONS, TOPICS
from workplace_roleplay.web.auth import PageUser
from workplace_roleplay.web.pagekit import PageAssets
from workplace_roleplay.web.templating import render

HERE = Path(__file__).parent
TEMPLATES = (str(HERE / "templates"),)
# The kit's scripts plus this page's own live script, fingerprinted, under this page's prefix.
ASSETS = PageAssets("/watch/static", files={"watch.js": HERE / "static" / "watch.js"})
# The two characters of the roster, by the speaker ids the events carry.
SPEAKERS = {"taro": "太郎さん", "hanako": "花子さん", "learner": "あなた"}

pages = APIRouter(include_in_schema=False)
pages.include_router(ASSETS.router())


@pages.get("/watch", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def watch_page(request: Request, user: PageUser) -> HTMLResponse:
    """The start form; the run view is filled by the live script once a run starts."""
    context = {**ASSETS.context(), "situations": SITUATIONS, "topics": TOPICS, "speakers": SPEAKERS}
    return HTMLResponse(render(request, "watch.html", context, dirs=TEMPLATES))
