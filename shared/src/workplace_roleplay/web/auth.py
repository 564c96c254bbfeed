"""The shared auth dependency: who is calling, from a Bearer token or the access cookie.

``CurrentUser`` (API and HTMX routes) and ``PageUser`` (HTML pages: also hands the CSRF token to
templates) are the aliases routes use. A missing or bad credential raises ``NotAuthenticated``; the
error map answers API clients with 401 JSON and sends browsers through the sign-in redirect
(``/api/v2/auth/start``), which signs a first-time visitor in anonymously and comes back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, WebSocket
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import WebSocketException
from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.status import WS_1008_POLICY_VIOLATION

from workplace_roleplay.domain.identity.users import SignIn, User
from workplace_roleplay.errors import InvalidToken, NotAuthenticated, NotSignedIn
from workplace_roleplay.settings import ServiceSettings
from workplace_roleplay.web.csrf import check_csrf, csrf_token_valid, issue_csrf_token

if TYPE_CHECKING:
    from workplace_roleplay.bootstrap import Security

AUTH_PREFIX = "/api/v2/auth"
SIGN_IN_START = f"{AUTH_PREFIX}/start"
# Set on the way back from the sign-in redirect; seeing it again without cookies means the browser
# refuses them, and we show an explanation instead of redirecting forever.
SIGNED_IN_MARK = "signed_in"


def security_of(request: HTTPConnection) -> Security:
    security: Security = request.app.state.resources.security
    return security


def settings_of(request: HTTPConnection) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


# ---- cookies -------------------------------------------------------------------------------------


def cookie_header(
    settings: ServiceSettings, name: str, value: str, *, max_age: int, path: str = "/", http_only: bool = True
) -> str:
    """One ``Set-Cookie`` value with the house attributes (SameSite=Lax, Secure outside local)."""
    parts = [f"{name}={value}", f"Path={path}", f"Max-Age={max_age}"]
    if settings.COOKIE_DOMAIN:
        parts.append(f"Domain={settings.COOKIE_DOMAIN}")
    if http_only:
        parts.append("HttpOnly")
    if settings.cookie_secure:
        parts.append("Secure")
    parts.append("SameSite=Lax")
    return "; ".join(parts)


def sign_in_cookies(settings: ServiceSettings, signed: SignIn, csrf_token: str) -> list[str]:
    """Access (every path), refresh (only the auth endpoints see it) and CSRF cookies."""
    cookies = [
        cookie_header(settings, settings.ACCESS_COOKIE_NAME, signed.access_token, max_age=settings.ACCESS_TOKEN_TTL_S)
    ]
    if signed.refresh_token is not None:
        cookies.append(
            cookie_header(
                settings,
                settings.REFRESH_COOKIE_NAME,
                signed.refresh_token,
                max_age=settings.REFRESH_TOKEN_TTL_S,
                path=AUTH_PREFIX,
            )
        )
    cookies.append(
        cookie_header(
            settings, settings.CSRF_COOKIE_NAME, csrf_token, max_age=settings.REFRESH_TOKEN_TTL_S, http_only=False
        )
    )
    return cookies


def cleared_cookies(settings: ServiceSettings) -> list[str]:
    return [
        cookie_header(settings, settings.ACCESS_COOKIE_NAME, "", max_age=0),
        cookie_header(settings, settings.REFRESH_COOKIE_NAME, "", max_age=0, path=AUTH_PREFIX),
        cookie_header(settings, settings.CSRF_COOKIE_NAME, "", max_age=0, http_only=False),
    ]


def add_cookies(response: Response, cookies: list[str]) -> None:
    for value in cookies:
        response.headers.append("set-cookie", value)


def defer_cookies(request: Request, cookies: list[str]) -> None:
    """Cookies the security middleware adds to whatever response the route returns.

    FastAPI drops headers set on a dependency's ``Response`` when the route returns its own
    ``Response`` (every HTML page does), so dependencies hand cookies over this way.
    """
    pending: list[str] = request.scope.setdefault("state", {}).setdefault("set_cookies", [])
    pending.extend(cookies)


# ---- the dependencies ----------------------------------------------------------------------------


async def authenticate(request: HTTPConnection) -> User:
    """The caller, from ``Authorization: Bearer`` (first) or the access cookie, else the legacy session
    when ``FALLBACK_AUTH=flask_session``. Raises ``NotAuthenticated`` (or a subclass)."""
    security, settings = security_of(request), settings_of(request)
    # The CSRF cookie outlives the access cookie (7 days vs 15 min): with it the sign-in expired,
    # without it this browser or client never signed in, and is told so (not "expired").
    failure: NotAuthenticated = (
        NotAuthenticated("access token missing or expired")
        if request.cookies.get(settings.CSRF_COOKIE_NAME)
        else NotSignedIn("no credentials")
    )
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("Authorization must be 'Bearer <access token>'")
        try:
            claims = security.identity.verify_access(token.strip())
            return User(claims.user_id, "bearer", claims.family_id)
        except NotAuthenticated as exc:
            failure = exc
    elif cookie := request.cookies.get(settings.ACCESS_COOKIE_NAME):
        try:
            claims = security.identity.verify_access(cookie)
            return User(claims.user_id, "cookie", claims.family_id)
        except NotAuthenticated as exc:
            failure = exc
    if settings.FALLBACK_AUTH == "flask_session" and security.legacy is not None:
        user_id = await security.legacy.user_id(request.cookies)
        if user_id:
            return User(user_id, "legacy_session")
    raise failure


# Declared for the OpenAPI document (the docs' "Authorize" button); ``authenticate`` reads the headers itself.
_BEARER = HTTPBearer(auto_error=False, description="Access token from POST /api/v2/auth/anonymous or /refresh.")
_ACCESS_COOKIE = APIKeyCookie(name="wr_access", auto_error=False, description="Browsers: the access cookie.")


async def current_user(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
    _cookie: Annotated[str | None, Depends(_ACCESS_COOKIE)] = None,
) -> User:
    """The authenticated caller; cookie-authenticated unsafe requests must also pass the CSRF check."""
    user = await authenticate(request)
    if user.auth != "bearer":
        settings = settings_of(request)
        check_csrf(
            request, key=security_of(request).csrf_key, cookie_name=settings.CSRF_COOKIE_NAME, user_id=user.user_id
        )
    request.state.user_id = user.user_id
    return user


async def page_user(request: Request, user: Annotated[User, Depends(current_user)]) -> User:
    """``current_user`` for HTML pages: also makes sure the page has a CSRF token for its scripts."""
    settings, key = settings_of(request), security_of(request).csrf_key
    token = request.cookies.get(settings.CSRF_COOKIE_NAME, "")
    if not csrf_token_valid(key, user.user_id, token):
        token = issue_csrf_token(key, user.user_id)
        defer_cookies(
            request,
            [
                cookie_header(
                    settings, settings.CSRF_COOKIE_NAME, token, max_age=settings.REFRESH_TOKEN_TTL_S, http_only=False
                )
            ],
        )
    request.state.csrf_token = token
    return user


async def websocket_user(websocket: WebSocket) -> User:
    """The caller of a WebSocket (cookie or Bearer); the handshake must come from our own origin.

    Browsers attach cookies to cross-site WebSocket handshakes and CSRF headers cannot be added to
    them, so the ``Origin`` check is what stops another site from opening a socket as the learner.
    """
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host", "")
    if origin is not None and urlsplit(origin).netloc != host:
        raise WebSocketException(WS_1008_POLICY_VIOLATION, reason="cross-origin WebSocket refused")
    try:
        user = await authenticate(websocket)
    except NotAuthenticated as exc:
        raise WebSocketException(WS_1008_POLICY_VIOLATION, reason=exc.code) from None
    websocket.state.user_id = user.user_id
    return user


CurrentUser = Annotated[User, Depends(current_user)]
PageUser = Annotated[User, Depends(page_user)]
SocketUser = Annotated[User, Depends(websocket_user)]


# ---- browsers without credentials ------------------------------------------------------------------


def safe_next(target: str | None) -> str:
    """A same-origin path to return to (never another host: no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def sign_in_redirect(request: Request) -> Response | None:
    """For a browser without valid credentials: go through the sign-in redirect and come back.

    HTMX requests get ``HX-Redirect`` (htmx follows it with a full page load); None means "show the
    error page" (the browser came back from sign-in and still sends no cookie).
    """
    if request.query_params.get(SIGNED_IN_MARK):
        return None
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        current = request.headers.get("hx-current-url", "")
        target = urlsplit(current).path or "/"
    url = f"{SIGN_IN_START}?next={quote(safe_next(target), safe='/')}"
    if request.headers.get("hx-request"):
        return HTMLResponse(
            '<p role="alert">ログインの有効期限が切れました。ページを再読み込みしています…</p>',
            status_code=401,
            headers={"HX-Redirect": url},
        )
    return RedirectResponse(url, status_code=303)


# ---- helpers of the identity endpoints -----------------------------------------------------------


def browser_credentials(request: Request, signed: SignIn) -> tuple[list[str], str]:
    """The cookies of a sign-in and the CSRF token they carry (kept when still valid for the user)."""
    settings, key = settings_of(request), security_of(request).csrf_key
    token = request.cookies.get(settings.CSRF_COOKIE_NAME, "")
    if not csrf_token_valid(key, signed.user_id, token):
        token = issue_csrf_token(key, signed.user_id)
    return sign_in_cookies(settings, signed, token), token


async def presented_refresh_token(request: Request, body_token: str | None) -> str:
    """The refresh token of an API client (body) or a browser (cookie, then the CSRF check applies)."""
    if body_token:
        return body_token
    settings, security = settings_of(request), security_of(request)
    cookie = request.cookies.get(settings.REFRESH_COOKIE_NAME, "")
    if not cookie:
        raise NotAuthenticated("no refresh token in the body or the refresh cookie")
    owner = await security.identity.refresh_tokens.family_of(cookie)
    if owner is None:
        raise InvalidToken("unknown refresh token")
    check_csrf(request, key=security.csrf_key, cookie_name=settings.CSRF_COOKIE_NAME, user_id=owner[0])
    return cookie
