"""HTTP routes of the identity and migration service (it owns identity: docs/architecture.md, Identity)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from functions.migrate_session.deps import Migration, optional_migration
from functions.migrate_session.schemas import AnonymousRequest, Me, RefreshRequest, TokenPair
from workplace_roleplay.domain.identity.users import SignIn, User
from workplace_roleplay.domain.migration.bulk import migrate_cookie
from workplace_roleplay.errors import LegacySessionInvalid, LegacySessionNotFound, NotAuthenticated
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
from workplace_roleplay.web.csrf import csrf_token_valid, issue_csrf_token
from workplace_roleplay.web.health import Health
from workplace_roleplay.web.ratelimit import ip_rate_limit, rate_limit
from workplace_roleplay.web.same_origin import refuse_cross_site, require_json_body
from workplace_roleplay.web.service_index import ServiceIndex, service_index

log = logging.getLogger("workplace_roleplay.migration")
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


def _same_origin_json(request: Request) -> None:
    refuse_cross_site(request)
    require_json_body(request)


async def _signed_in_already(request: Request) -> User | None:
    try:
        return await authenticate(request)
    except NotAuthenticated:
        return None


def _current_identity(request: Request, user: User) -> JSONResponse:
    """The caller's own identity again: the access token they sent, no new refresh token, no cookies."""
    security = security_of(request)
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2].strip() if header else request.cookies.get(settings_of(request).ACCESS_COOKIE_NAME)
    claims = security.identity.verify_access(token or "")
    csrf = request.cookies.get(settings_of(request).CSRF_COOKIE_NAME, "")
    if not csrf_token_valid(security.csrf_key, user.user_id, csrf):
        csrf = issue_csrf_token(security.csrf_key, user.user_id)
    body = TokenPair(
        user_id=user.user_id,
        access_token=token or "",
        expires_in=max(0, int(claims.expires_at - security.identity.clock.now())),
        refresh_token=None,
        refresh_expires_in=None,
        csrf_token=csrf,
    )
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store"})


@router.post(
    "/api/v2/auth/anonymous",
    status_code=201,
    response_model=TokenPair,
    summary="Sign in anonymously (a new learner, no personal data)",
    description=(
        "Browsers may call it only from our own origin (`Origin`/`Sec-Fetch-Site`) and only with a JSON body or "
        "none (ADR 0011). A caller that is already signed in (access token, or a refresh cookie that still works) "
        'gets its current identity back (200) unless it sends `{"new_identity": true}`.'
    ),
    dependencies=[ip_rate_limit("auth"), Depends(_same_origin_json)],
    responses={
        200: {"description": "Already signed in: the current identity (no new refresh token)."},
        201: {"description": "Tokens in the body; the same as HttpOnly cookies."},
        403: {"description": "A browser request from another site (`cross_site_refused`)."},
        415: {"description": "A body that is not JSON (`unsupported_media_type`)."},
        429: _ERRORS[429],
    },
)
async def sign_in_anonymously(request: Request, body: AnonymousRequest | None = None) -> JSONResponse:
    identity = security_of(request).identity
    if body is not None and body.new_identity:
        return _credentials(request, await identity.sign_in_anonymously(), 201)
    user = await _signed_in_already(request)
    if user is not None and user.auth != "legacy_session":
        return _current_identity(request, user)
    if user is not None:  # a legacy session: keep that learner, never a new id
        return _credentials(request, await identity.sign_in_existing(user.user_id), 200)
    signed = await identity.resume_or_sign_in(request.cookies.get(settings_of(request).REFRESH_COOKIE_NAME))
    return _credentials(request, signed, 201 if signed.created else 200)


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
    settings, identity = settings_of(request), security_of(request).identity
    refresh_cookie = request.cookies.get(settings.REFRESH_COOKIE_NAME)
    signed: SignIn | None = None
    if refresh_cookie:
        try:
            signed = await identity.refresh(refresh_cookie)
        except NotAuthenticated:
            signed = None
    if signed is None:
        # No v2 sign-in to continue: a returning legacy learner is migrated on the spot (same user_id).
        legacy = await migrated_learner(request, optional_migration(request))
        signed = await identity.sign_in_existing(legacy) if legacy else await identity.sign_in_anonymously()
    add_cookies(response, browser_credentials(request, signed)[0])
    return response


async def migrated_learner(request: Request, migration: Migration | None) -> str | None:
    """The user id of the legacy session this browser carries, after migrating it; None without one."""
    value = request.cookies.get(settings_of(request).LEGACY_SESSION_COOKIE)
    if migration is None or not value:
        return None
    try:
        return (await migrate_cookie(migration.service, migration.source, value)).user_id
    except (LegacySessionInvalid, LegacySessionNotFound) as exc:
        log.info("legacy session not migrated: %s", exc.code, extra={"legacy_migration": exc.code})
        return None


@router.get("/api/v2/auth/jwks.json", summary="Public keys of access tokens (RS256 only; empty for HS256)")
async def jwks(request: Request) -> dict[str, Any]:
    return security_of(request).tokens.public_jwks()
