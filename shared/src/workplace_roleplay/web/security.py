"""Security headers on every response, with a fresh CSP nonce per request.

The nonce is put in ``scope["state"]["csp_nonce"]`` before the app runs; ``templating.render`` hands
it to templates, which put it on their ``<script>``/``<style>`` tags. Scripts without it do not run,
so text that slipped past escaping still cannot execute. Pure ASGI so streams pass untouched.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workplace_roleplay.web.errors import unhandled_error

# Two years, the HSTS preload minimum. No ``preload``: the host is shared with the legacy app and
# preloading is a one-way door. Browsers ignore HSTS over plain http (RFC 6797 §8.1), so the
# local mode is not affected.
HSTS = "max-age=63072000; includeSubDomains"
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(self), "
    "payment=(), usb=(), interest-cohort=()"
)
# For JSON, SSE and everything that is not a page: nothing may load or frame it.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def page_csp(nonce: str) -> str:
    """The policy of HTML pages: own origin only, inline script and style only with the nonce."""
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; media-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeadersMiddleware:
    """Adds CSP (nonce per request), HSTS, nosniff, Referrer-Policy, framing and permissions headers."""

    def __init__(self, app: ASGIApp, *, path_policies: dict[str, str] | None = None) -> None:
        self.app = app
        self.path_policies = dict(path_policies or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        fixed = self.path_policies.get(scope.get("path", ""))
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if fixed is not None:
                    csp = fixed
                elif content_type.startswith(b"text/html"):
                    csp = page_csp(nonce)
                else:
                    csp = API_CSP
                added = [
                    (b"content-security-policy", csp.encode()),
                    (b"strict-transport-security", HSTS.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"strict-origin-when-cross-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"permissions-policy", PERMISSIONS_POLICY.encode()),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                headers.extend((k, v) for k, v in added if k not in present)
                # Cookies deferred by auth dependencies (see ``web.auth.defer_cookies``).
                for cookie in scope.get("state", {}).get("set_cookies", ()):
                    headers.append((b"set-cookie", cookie.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # Starlette answers unhandled errors in ServerErrorMiddleware, outside every user middleware, so
            # that 500 would lack these headers and the request id: answer it here with the same error map.
            if started:
                raise
            response = await unhandled_error(Request(scope), exc)
            response.headers["x-request-id"] = scope["state"].get("request_id", "")
            await response(scope, receive, send_with_headers)
