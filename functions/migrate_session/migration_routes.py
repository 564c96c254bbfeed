"""Legacy-session migration routes: API clients, and the bulk worker that Cloud Tasks calls.

Browsers are migrated by ``GET /api/v2/auth/start`` (routes.py), where every v2 page sends a visitor
without v2 credentials.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from functions.migrate_session.deps import Migration, migration_of
from functions.migrate_session.schemas import (
    ConversationCounts,
    MigrateRequest,
    MigrationAnswer,
    SessionTask,
    TaskAnswer,
)
from workplace_roleplay.domain.migration.bulk import migrate_cookie, migrate_ref
from workplace_roleplay.errors import LegacySessionNotFound, NotAuthenticated, PermissionDenied
from workplace_roleplay.web.auth import add_cookies, browser_credentials, security_of, settings_of
from workplace_roleplay.web.ratelimit import ip_rate_limit

router = APIRouter(tags=["migrate"])


@router.post(
    "/api/v2/migrate/session",
    response_model=MigrationAnswer,
    summary="Migrate a legacy session (cookie or body) and sign in as its learner",
    dependencies=[ip_rate_limit("auth")],
    responses={
        404: {"description": "No legacy session, or it has expired (legacy_session_not_found)."},
        422: {"description": "Tampered or unreadable legacy session (legacy_session_invalid)."},
        429: {"description": "Too many requests; see `Retry-After`."},
    },
)
async def migrate_session(
    request: Request, migration: Annotated[Migration, Depends(migration_of)], body: MigrateRequest | None = None
) -> JSONResponse:
    from_body = bool(body and body.session)
    value = body.session if body and body.session else request.cookies.get(settings_of(request).LEGACY_SESSION_COOKIE)
    if not value:
        raise LegacySessionNotFound("no legacy session in the body or the session cookie")
    outcome = await migrate_cookie(migration.service, migration.source, value)
    signed = await security_of(request).identity.sign_in_existing(outcome.user_id)
    answer = MigrationAnswer(
        user_id=outcome.user_id,
        access_token=signed.access_token,
        refresh_token=signed.refresh_token,
        conversations=ConversationCounts(**outcome.conversations),
        messages=outcome.messages,
        status=outcome.status,
    )
    response = JSONResponse(answer.model_dump(), headers={"Cache-Control": "no-store"})
    if not from_body:  # a browser: it gets the v2 cookies too
        add_cookies(response, browser_credentials(request, signed)[0])
    return response


async def tasks_invoker(request: Request, migration: Annotated[Migration, Depends(migration_of)]) -> None:
    """Only the Cloud Tasks invoker account, with an OIDC token for this worker, may call task routes."""
    if migration.invoker is None:
        raise PermissionDenied("this service accepts no task calls (TASKS_WORKER_URL/TASKS_INVOKER_EMAIL unset)")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("task calls need an OIDC bearer token")
    await migration.invoker.verify(token.strip())  # InvalidToken / TokenExpired / PermissionDenied
    request.state.user_id = "tasks-invoker"


@router.post(
    "/api/v2/migrate/tasks/session",
    response_model=TaskAnswer,
    summary="Worker: migrate one stored legacy session (Cloud Tasks only, OIDC)",
    dependencies=[Depends(tasks_invoker)],
)
async def session_task(body: SessionTask, migration: Annotated[Migration, Depends(migration_of)]) -> TaskAnswer:
    # Permanent outcomes (gone, invalid) answer 200 so Cloud Tasks does not retry them; store or Redis
    # failures raise (5xx) and are retried with backoff.
    result, outcome = await migrate_ref(migration.service, migration.source, body.ref)
    return TaskAnswer(result=result, user_id=outcome.user_id if outcome else None)
