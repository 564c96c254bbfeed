"""``GET|POST {api_prefix}/tts``: text-to-speech for every service (feature flag ``TTS_ENABLED``).

Signed-in learners only: each call spends one hit of the ``model`` route class rate limit (per IP and
per user) and its characters come out of the user's daily budget. Cookie-authenticated POSTs must
carry the CSRF token like every other unsafe request. With the feature switched off every caller
gets the same documented ``404 feature_disabled`` (Japanese message), before any credential or limit
is looked at: a configuration choice, not a server error.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from workplace_roleplay.domain.identity.users import User
from workplace_roleplay.domain.speech import SpeechService
from workplace_roleplay.errors import FeatureDisabled
from workplace_roleplay.web.auth import CurrentUser
from workplace_roleplay.web.ratelimit import rate_limit


class SpeechRequest(BaseModel):
    text: str = Field(min_length=1, max_length=5000, description="Japanese text to read aloud.")
    character: str = Field("", max_length=40, description="Who speaks (partner, taro, hanako...).")
    emotion: str = Field("", max_length=40, description="Optional emotion that picks a voice variant.")


def budget_key(user: User) -> str:
    """Whose daily budget a call spends: always the authenticated user."""
    return f"user:{user.user_id}"


def speech_service(request: Request) -> SpeechService:
    """The speech service, or ``FeatureDisabled`` (404) when TTS is off or has no model."""
    speech: SpeechService | None = getattr(request.app.state.resources, "speech", None)
    if speech is None:
        raise FeatureDisabled("text-to-speech is switched off (TTS_ENABLED) or has no model")
    return speech


SpeechDep = Annotated[SpeechService, Depends(speech_service)]


async def _speak(speech: SpeechService, user: User, body: SpeechRequest) -> Response:
    spoken = await speech.speak(body.text, budget_key=budget_key(user), character=body.character, emotion=body.emotion)
    return Response(
        spoken.audio,
        media_type=spoken.mime_type,
        headers={
            "Cache-Control": "private, max-age=86400",
            "X-TTS-Cache": "hit" if spoken.cached else "miss",
            "X-TTS-Voice": spoken.voice,
        },
    )


def tts_router(api_prefix: str) -> APIRouter:
    """The TTS routes under one service's API prefix."""
    # Decorator dependencies resolve first and in order: the feature flag answers before the
    # credential is checked, and a switched-off feature costs nobody a rate-limit hit.
    guards = [Depends(speech_service), rate_limit("model")]
    responses: dict[int | str, dict[str, Any]] = {
        200: {"content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}}},
        404: {"description": "Text-to-speech is switched off in this deployment (`feature_disabled`)."},
        429: {"description": "Rate limited, or the daily text-to-speech budget is used up (`tts_budget_exceeded`)."},
    }
    router = APIRouter(prefix=api_prefix, tags=["tts"], responses=responses)

    @router.post("/tts", summary="Read text aloud (audio/wav)", response_class=Response, dependencies=guards)
    async def speak_post(user: CurrentUser, speech: SpeechDep, body: SpeechRequest) -> Response:
        return await _speak(speech, user, body)

    @router.get(
        "/tts",
        summary="Read text aloud (audio/wav); cacheable URL form",
        response_class=Response,
        dependencies=guards,
    )
    async def speak_get(user: CurrentUser, speech: SpeechDep, query: Annotated[SpeechRequest, Query()]) -> Response:
        return await _speak(speech, user, query)

    return router
