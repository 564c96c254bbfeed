"""Request and response bodies of the identity endpoints (with OpenAPI examples)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_ACCESS_EXAMPLE = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjIwMjYtMTEiLCJ0eXAiOiJKV1QifQ.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl"
_REFRESH_EXAMPLE = "q8cWm3m2Q9tO8m1x3dYtZ0bq9Sx6wJrG2o9x4k7Lh1E"


class TokenPair(BaseModel):
    """Credentials after sign-in or refresh. Browsers also receive them as HttpOnly cookies."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "6f1c3f1e-2d3b-4c59-9d8e-0b7f4a1c2e3d",
                    "token_type": "Bearer",
                    "access_token": _ACCESS_EXAMPLE,
                    "expires_in": 900,
                    "refresh_token": _REFRESH_EXAMPLE,
                    "refresh_expires_in": 604800,
                    "csrf_token": "Zk9xY2V6b0d3bVdI.3vQy0mX8b1n5J2c7W4s9",
                }
            ]
        }
    )

    user_id: str = Field(description="The learner's id (uuid4; legacy users keep theirs).")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (the scheme name, not a secret)
    access_token: str = Field(description="JWT for `Authorization: Bearer`, valid `expires_in` seconds.")
    expires_in: int
    refresh_token: str | None = Field(
        description="Opaque; exchange it at /api/v2/auth/refresh. Null after a concurrent refresh: keep yours."
    )
    refresh_expires_in: int | None
    csrf_token: str = Field(description="Send as `X-CSRF-Token` on cookie-authenticated POST/PUT/PATCH/DELETE.")


class AnonymousRequest(BaseModel):
    """Optional body of the anonymous sign-in; JSON only (an HTML form cannot send it)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}, {"new_identity": True}]})

    new_identity: bool = Field(
        False, description="Start a new learner even when signed in (the current one's history stays behind)."
    )


class RefreshRequest(BaseModel):
    """API clients send the refresh token in the body; browsers send nothing (the cookie is used)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"refresh_token": _REFRESH_EXAMPLE}, {}]})

    refresh_token: str | None = Field(None, max_length=256)


class Me(BaseModel):
    """The signed-in learner."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "6f1c3f1e-2d3b-4c59-9d8e-0b7f4a1c2e3d",
                    "kind": "anonymous",
                    "auth": "cookie",
                    "created_at": 1800000000.0,
                    "last_seen_at": 1800000900.0,
                }
            ]
        }
    )

    user_id: str
    kind: Literal["anonymous", "legacy"]
    auth: Literal["bearer", "cookie", "legacy_session"] = Field(description="How this request was authenticated.")
    created_at: float
    last_seen_at: float


class MigrateRequest(BaseModel):
    """The legacy ``session`` cookie value; browsers send nothing (the cookie itself is read)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"session": "mdO0IFRmE6PvvNAVRjLecnMwryGfViX5V1EBSDsbVjA"}, {}]}
    )

    session: str | None = Field(None, max_length=8192)


class ConversationCounts(BaseModel):
    chat: int
    scenario: int
    watch: int


class MigrationAnswer(BaseModel):
    """Sign-in plus what this learner now has from the legacy session (the same on every repeat)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "ecd0938e-1430-4046-92aa-5385295c708a",
                    "access_token": _ACCESS_EXAMPLE,
                    "refresh_token": _REFRESH_EXAMPLE,
                    "conversations": {"chat": 1, "scenario": 2, "watch": 1},
                    "messages": 17,
                    "status": "migrated",
                }
            ]
        }
    )

    user_id: str = Field(description="The legacy user_id, byte for byte (generated once when it had none).")
    access_token: str
    refresh_token: str | None
    conversations: ConversationCounts
    messages: int
    status: Literal["migrated", "nothing_to_migrate"]


class SessionTask(BaseModel):
    """A bulk-migration task: the stored session to migrate (a file name or a Redis key)."""

    ref: str = Field(min_length=1, max_length=512)


class TaskAnswer(BaseModel):
    result: str = Field(description="migrated, nothing_to_migrate, repeat, not_found or invalid.")
    user_id: str | None = None
