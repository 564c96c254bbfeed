"""👍/👎 routes every conversation service can mount under its API prefix (docs/architecture.md, Observability).

``app.include_router(ratings_router(prefix))`` gives a service with a conversation engine:

- ``POST {prefix}/conversations/{cid}/messages/{mid}/rating`` and ``.../reports/{rid}/rating`` with
  ``{"value": "up" | "down", "reason": "optional, at most 200 characters"}``;
- ``GET {prefix}/conversations/{cid}/ratings``: what the learner gave (reasons opened).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from workplace_roleplay.domain.conversation.ratings import MAX_REASON_CHARS, Rating
from workplace_roleplay.web.auth import CurrentUser
from workplace_roleplay.web.deps import Conversations, RequestAllowed


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Literal["up", "down"] = Field(description="👍 up or 👎 down.")
    reason: str | None = Field(None, max_length=MAX_REASON_CHARS, description="Optional short reason.")


class RatingOut(BaseModel):
    target: Literal["reply", "report"]
    target_id: str
    value: Literal["up", "down"]
    reason: str
    at: float


class RatingList(BaseModel):
    ratings: list[RatingOut]


def _out(r: Rating) -> RatingOut:
    return RatingOut(target=r.target, target_id=r.target_id, value=r.value, reason=r.reason, at=r.at)


def ratings_router(api_prefix: str, *, tag: str) -> APIRouter:
    router = APIRouter(prefix=api_prefix, tags=[tag], dependencies=[RequestAllowed])

    @router.post("/conversations/{conversation_id}/messages/{message_id}/rating", summary="👍/👎 on a reply")
    async def rate_reply(
        conversation_id: str, message_id: str, body: RatingIn, user: CurrentUser, engine: Conversations
    ) -> RatingOut:
        rating = await engine.rate(
            user.user_id, conversation_id, target="reply", target_id=message_id, value=body.value, reason=body.reason
        )
        return _out(rating)

    @router.post("/conversations/{conversation_id}/reports/{report_id}/rating", summary="👍/👎 on a feedback report")
    async def rate_report(
        conversation_id: str, report_id: str, body: RatingIn, user: CurrentUser, engine: Conversations
    ) -> RatingOut:
        rating = await engine.rate(
            user.user_id, conversation_id, target="report", target_id=report_id, value=body.value, reason=body.reason
        )
        return _out(rating)

    @router.get("/conversations/{conversation_id}/ratings", summary="The learner's ratings in a conversation")
    async def list_ratings(conversation_id: str, user: CurrentUser, engine: Conversations) -> RatingList:
        return RatingList(ratings=[_out(r) for r in await engine.ratings_of(user.user_id, conversation_id)])

    return router
