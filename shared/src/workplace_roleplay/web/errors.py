"""The one place application errors become HTTP responses.

API paths (``/api/...``) and clients that do not ask for HTML get JSON::

    {"error": {"code": "rate_limited", "message": "<Japanese>", "message_en": "...", "request_id": "..."}}

Browser pages get the HTML error page in Japanese.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from workplace_roleplay import errors, telemetry
from workplace_roleplay.web.auth import sign_in_redirect
from workplace_roleplay.web.context import service_var
from workplace_roleplay.web.templating import render

log = logging.getLogger("workplace_roleplay.errors")

# Most specific class first; an error takes the status of the first class it is an instance of.
STATUS_BY_ERROR: tuple[tuple[type[errors.AppError], int], ...] = (
    (errors.PayloadTooLarge, 413),
    (errors.UnsupportedMediaType, 415),
    (errors.InvalidInput, 422),
    (errors.NotAuthenticated, 401),
    (errors.PermissionDenied, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.RateLimited, 429),
    (errors.DependencyUnavailable, 503),
    (errors.AppError, 500),
)

_HTTP_TO_ERROR: dict[int, type[errors.AppError]] = {
    400: errors.InvalidInput,
    401: errors.NotAuthenticated,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    405: errors.InvalidInput,
    409: errors.Conflict,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedMediaType,
    422: errors.InvalidInput,
    429: errors.RateLimited,
}


def status_for(error: errors.AppError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def wants_html(request: Request) -> bool:
    """Browser pages get HTML; API paths and non-HTML clients get JSON."""
    if request.url.path.startswith("/api/"):
        return False
    if request.headers.get("hx-request"):
        return True
    return "text/html" in request.headers.get("accept", "")


def count_learner_error(scope: Mapping[str, Any], code: str) -> None:
    """One error the learner saw on this route (the per-route error rate's numerator)."""
    route = getattr(scope.get("route"), "path", None) or "unmatched"
    telemetry.LEARNER_ERRORS.labels(service_var.get() or "unknown", route, code).inc()


def error_response(
    request: Request, error: errors.AppError, status: int, *, details: list[dict[str, Any]] | None = None
) -> Response:
    """Render ``error`` as JSON or as the HTML error page."""
    request_id = getattr(request.state, "request_id", "")
    headers: dict[str, str] = {}
    if isinstance(error, errors.RateLimited | errors.ServerBusy):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, errors.NotAuthenticated) and wants_html(request):
        redirect = sign_in_redirect(request)
        if redirect is not None:
            return redirect
    count_learner_error(request.scope, error.code)
    if wants_html(request):
        html = render(
            request,
            "error.html",
            {
                "status": status,
                "code": error.code,
                "message": error.message_ja,
                "message_en": error.message_en,
                "request_id": request_id,
                "action_url": error.extra.get("consent_url") if "consent_url" in error.public_extra else None,
                # HTMX swaps the error into the page it came from: the card alone, not a second <html>.
                "fragment": bool(request.headers.get("hx-request")) and not request.headers.get("hx-boosted"),
            },
        )
        return HTMLResponse(html, status_code=status, headers=headers)
    body: dict[str, Any] = {
        "code": error.code,
        "message": error.message_ja,
        "message_en": error.message_en,
        "request_id": request_id,
    }
    if details:
        body["details"] = details
    for key in error.public_extra:
        body[key] = error.extra.get(key)
    if isinstance(error, errors.RateLimited | errors.ServerBusy):
        body["retry_after"] = error.retry_after
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.AppError)
    status = status_for(exc)
    if isinstance(exc, errors.ServerBusy):
        # Expected under load (the admission limit at work): no traceback, whose formatting costs more CPU than
        # the refusal itself; the admission_rejected_total counter has the rate.
        log.warning("request refused: %s", exc.code, extra={"error_code": exc.code})
    elif status >= 500:
        log.error("request failed: %s", exc.code, exc_info=exc, extra={"error_code": exc.code})
    return error_response(request, exc, status)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]
    return error_response(request, errors.InvalidInput(), 422, details=details)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    cls = _HTTP_TO_ERROR.get(exc.status_code, errors.AppError)
    error = errors.RateLimited(1) if cls is errors.RateLimited else cls(str(exc.detail))
    response = error_response(request, error, exc.status_code)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


async def unhandled_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc)
    return error_response(request, errors.AppError(), 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, unhandled_error)
