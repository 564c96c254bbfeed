"""The conversation engine of any mode behind a bare HTTP app: stream a turn, resume it after an id."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Annotated

import httpx
from fastapi import FastAPI, Header, Request, Response

from tests.support.chat_server import Event, parse_sse
from tests.support.engine import engine
from tests.support.fakes import FakeCache, FakeStore
from workplace_roleplay.adapters.simple_model import SimpleModel, SimpleReason
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.conversation.mode import ConversationMode
from workplace_roleplay.domain.conversation.service import ConversationService
from workplace_roleplay.domain.sealing import PlainSealer
from workplace_roleplay.ports.model import GenerationRequest, StreamEvent
from workplace_roleplay.web.errors import install_error_handlers
from workplace_roleplay.web.turn_stream import resume_response, turn_response


class CountingModel(SimpleModel):
    """The offline simple-response model, counting the lines it is asked to stream."""

    def __init__(self) -> None:
        super().__init__(SimpleReason.FORCED)
        self.streamed = 0

    async def stream(
        self, request: GenerationRequest, *, reason: SimpleReason | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        self.streamed += 1
        async for event in super().stream(request, reason=reason):
            yield event


@dataclass
class Rig:
    service: ConversationService
    model: CountingModel
    store: FakeStore
    cache: FakeCache
    app: FastAPI = field(init=False)

    def __post_init__(self) -> None:
        self.app = bare_app(self.service, self.cache)

    async def post_turn(self, user: str, cid: str, text: str | None, cmid: str) -> list[Event]:
        params = {"cid": cid, "cmid": cmid, **({"text": text} if text is not None else {})}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://t") as client:
            response = await client.post(f"/turn/{user}", params=params)
            response.raise_for_status()
            return parse_sse(response.text)

    async def resume(self, user: str, last_event_id: str) -> tuple[int, list[Event]]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://t") as client:
            response = await client.get(f"/resume/{user}", headers={"Last-Event-ID": last_event_id})
            return response.status_code, parse_sse(response.text) if response.status_code == 200 else []


def rig(mode: ConversationMode) -> Rig:
    store, cache, model = FakeStore(), FakeCache(), CountingModel()
    service = engine(store, cache, model, BackgroundWork(), mode=mode)
    return Rig(service, model, store, cache)


def bare_app(service: ConversationService, cache: FakeCache) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/turn/{user}")
    async def turn(request: Request, user: str, cid: str, cmid: str, text: str | None = None) -> Response:
        conv = await service.conversation(user, cid)
        events = service.turn(conv, text=text, client_message_id=cmid)
        return await turn_response(
            request,
            events,
            cache=cache,
            owner=user,
            buffer_ttl_s=60,
            sealer=PlainSealer(),
            heartbeat_s=15,
            background=service.background,
        )

    @app.get("/resume/{user}")
    async def resume(user: str, last_event_id: Annotated[str, Header(alias="Last-Event-ID")]) -> Response:
        return await resume_response(
            cache, owner=user, last_event_id=last_event_id, buffer_ttl_s=60, sealer=PlainSealer(), heartbeat_s=15
        )

    return app
