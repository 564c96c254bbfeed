"""``GET|POST {api_prefix}/tts``: text-to-speech for every service (feature flag ``TTS_ENABLED``).

The daily character budget is charged to the signed-in user (``request.state.user_id``, set by the
auth dependency) and, for anonymous callers, to their client address.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from workplace_roleplay.domain.speech import SpeechService
from workplace_roleplay.errors import FeatureUnavailable


class SpeechRequest(BaseModel):
    text: str = Field(min_length=1, max_length=5000, description="Japanese text to read aloud.")
    character: str = Field("", max_length=40, description="Who speaks (partner, taro, hanako...).")
    emotion: str = Field("", max_length=40, description="Optional emotion that picks a voice variant.")


def budget_key(request: Request) -> str:
    """Whose budget a call spends: the user when known, else the client address."""
    user_id = getattr(request.state, "user_id", None)
    if user_id:
        return f"user:{user_id}"
    # The peer address as uvicorn resolved it (its proxy-headers handling trusts only configured
    # proxies); a raw X-Forwarded-For is client-controlled and would let anyone reset their budget.
    return f"ip:{request.client.host if request.client else 'unknown'}"


def _service(request: Request) -> SpeechService:
    speech: SpeechService | None = getattr(request.app.state.resources, "speech", None)
    if speech is None:
        raise FeatureUnavailable("text-to-speech is switched off (TTS_ENABLED) or has no model")
    return speech


async def _speak(request: Request, body: SpeechRequest) -> Response:
    speech = await _service(request).speak(
        body.text, budget_key=budget_key(request), character=body.character, emotion=body.emotion
    )
    return Response(
        speech.audio,
        media_type=speech.mime_type,
        headers={
            "Cache-Control": "private, max-age=86400",
            "X-TTS-Cache": "hit" if speech.cached else "miss",
            "X-TTS-Voice": speech.voice,
        },
    )


def tts_router(api_prefix: str) -> APIRouter:
    """The TTS routes under one service's API prefix."""
    router = APIRouter(prefix=api_prefix, tags=["tts"])

    @router.post("/tts", summary="Read text aloud (audio/wav)", response_class=Response)
    async def speak_post(request: Request, body: SpeechRequest) -> Response:
        return await _speak(request, body)

    @router.get("/tts", summary="Read text aloud (audio/wav); cacheable URL form", response_class=Response)
    async def speak_get(request: Request, query: Annotated[SpeechRequest, Query()]) -> Response:
        return await _speak(request, query)

    return router
