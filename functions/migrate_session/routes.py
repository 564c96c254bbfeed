"""HTTP routes of the identity and migration service (it owns identity: docs/architecture.md, Identity)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from functions.migrate_session.schemas import Me, RefreshRequest, TokenPair
from workplace_roleplay.domain.identity.users import SignIn
from workplace_roleplay.errors import NotAuthenticated
from workplace_roleplay.web.auth import (
    SIGNED_IN_MARK,
    CurrentUser,
    add_cookies,
    authenticate,
    browser_credentials,
    cleared_cookies,
    current_user,
    presented_refresh_token,
    safe_next,
    security_of,
    settings_of,
)
from workplace_roleplay.web.health import Health
from workplace_roleplay.web.ratelimit import ip_rate_limit, rate_limit
from workplace_roleplay.web.service_index import ServiceIndex, service_index

router = APIRouter(tags=["auth", "migrate"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Invalid, expired or revoked credentials (`error.code` says which)."},
    403: {"description": "Cookie-authenticated request without a matching `X-CSRF-Token` (code csrf_*)."},
    429: {"description": "Too many requests; see `Retry-After`."},
}


def _credentials(request: Request, signed: SignIn, status: int) -> JSONResponse:
    cookies, csrf = browser_credentials(request, signed)
    now = int(security_of(request).identity.clock.now())
    body = TokenPair(
        user_id=signed.user_id,
        access_token=signed.access_token,
        expires_in=signed.access_expires_at - now,
        refresh_token=signed.refresh_token,
        refresh_expires_in=None if signed.refresh_expires_at is None else signed.refresh_expires_at - now,
        csrf_token=csrf,
    )
    response = JSONResponse(body.model_dump(), status_code=status, headers={"Cache-Control": "no-store"})
    add_cookies(response, cookies)
    return response


@router.get("/api/v2/auth", summary="What this service offers")
async def index() -> ServiceIndex:
    return service_index("migrate_session")


@router.get("/api/v2/migrate", summary="What this service offers (legacy-session migration lives here)")
async def migrate_index() -> ServiceIndex:
    return service_index("migrate_session")


@router.get("/api/v2/migrate/health", response_model=Health, summary="Liveness under the migration prefix")
async def migrate_health(request: Request) -> Health:
    # The load balancer health-checks every prefix it routes here; the migration issue adds the real routes.
    settings = settings_of(request)
    return Health(status="ok", service=settings.SERVICE_NAME or "migrate-session", version=request.app.version)


@router.post(
    "/api/v2/auth/anonymous",
    status_code=201,
    response_model=TokenPair,
    summary="Sign in anonymously (a new learner, no personal data)",
    dependencies=[ip_rate_limit("auth")],
    responses={201: {"description": "Tokens in the body; the same as HttpOnly cookies."}, 429: _ERRORS[429]},
)
async def sign_in_anonymously(request: Request) -> JSONResponse:
    return _credentials(request, await security_of(request).identity.sign_in_anonymously(), 201)


@router.post(
    "/api/v2/auth/refresh",
    response_model=TokenPair,
    summary="Exchange a refresh token for new tokens (the old refresh token stops working)",
    dependencies=[ip_rate_limit("auth")],
    responses=_ERRORS,
)
async def refresh(request: Request, body: RefreshRequest | None = None) -> JSONResponse:
    token = await presented_refresh_token(request, body.refresh_token if body else None)
    return _credentials(request, await security_of(request).identity.refresh(token), 200)


@router.post(
    "/api/v2/auth/logout",
    status_code=204,
    summary="Sign out: revokes every token of this sign-in and clears the cookies",
    dependencies=[ip_rate_limit("auth")],
    responses=_ERRORS,
)
async def logout(request: Request, body: RefreshRequest | None = None) -> Response:
    identity = security_of(request).identity
    if body and body.refresh_token:
        await identity.logout(refresh_token=body.refresh_token)
    else:
        try:
            user = await current_user(request)  # cookie logouts pass the CSRF check here
        except NotAuthenticated:
            # The access token has expired: the refresh cookie names the sign-in (CSRF checked too).
            await identity.logout(refresh_token=await presented_refresh_token(request, None))
        else:
            await identity.logout(family_id=user.family_id)
    response = Response(status_code=204)
    add_cookies(response, cleared_cookies(settings_of(request)))
    return response


@router.get(
    "/api/v2/auth/me",
    response_model=Me,
    summary="Who am I",
    dependencies=[rate_limit("default")],
    responses=_ERRORS,
)
async def me(request: Request, user: CurrentUser) -> Me:
    profile = await security_of(request).identity.profile(user.user_id)
    return Me(
        user_id=profile.user_id,
        kind=profile.kind,
        auth=user.auth,
        created_at=profile.created_at,
        last_seen_at=profile.last_seen_at,
    )


@router.get(
    "/api/v2/auth/start",
    status_code=303,
    summary="Browser sign-in: refresh or sign in anonymously, then go back to `next`",
    dependencies=[ip_rate_limit("auth")],
    response_class=RedirectResponse,
)
async def start(request: Request, next: Annotated[str, Query(max_length=2000)] = "/") -> Response:
    target = safe_next(next)
    separator = "&" if "?" in target else "?"
    response = RedirectResponse(f"{target}{separator}{SIGNED_IN_MARK}=1", status_code=303)
    try:
        await authenticate(request)
        return response  # already signed in
    except NotAuthenticated:
        pass
    # A top-level GET navigation carries no CSRF header; rotating one's own refresh token is harmless.
    refresh_cookie = request.cookies.get(settings_of(request).REFRESH_COOKIE_NAME)
    signed = await security_of(request).identity.resume_or_sign_in(refresh_cookie)
    add_cookies(response, browser_credentials(request, signed)[0])
    return response


@router.get("/api/v2/auth/jwks.json", summary="Public keys of access tokens (RS256 only; empty for HS256)")
async def jwks(request: Request) -> dict[str, Any]:
    return security_of(request).tokens.public_jwks()
