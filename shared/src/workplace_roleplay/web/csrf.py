"""CSRF protection: signed double-submit tokens for cookie-authenticated unsafe requests.

The token is ``<random>.<HMAC(csrf key, user_id|random)>``, sent both as a script-readable cookie and,
by the page's scripts, in ``X-CSRF-Token`` (the legacy ``X-CSRFToken`` spelling is accepted too).
Binding it to the user with a server key means a cookie planted from a sibling subdomain is
useless. Bearer requests are exempt: a browser never attaches an ``Authorization`` header on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from starlette.requests import Request

from workplace_roleplay.errors import CsrfInvalid, CsrfMissing

HEADERS = ("x-csrf-token", "x-csrftoken")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _mac(key: bytes, user_id: str, nonce: str) -> str:
    digest = hmac.new(key, f"{user_id}|{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def issue_csrf_token(key: bytes, user_id: str) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_mac(key, user_id, nonce)}"


def csrf_token_valid(key: bytes, user_id: str, token: str) -> bool:
    nonce, _, mac = token.partition(".")
    if not nonce or not mac or len(token) > 200:
        return False
    return hmac.compare_digest(mac.encode(), _mac(key, user_id, nonce).encode())


def check_csrf(request: Request, *, key: bytes, cookie_name: str, user_id: str) -> None:
    """Raise ``CsrfMissing``/``CsrfInvalid`` unless an unsafe request proves it came from our pages."""
    if request.method in SAFE_METHODS:
        return
    sent = next((request.headers[h] for h in HEADERS if request.headers.get(h)), "")
    if not sent:
        raise CsrfMissing("no X-CSRF-Token header on a cookie-authenticated request")
    cookie = request.cookies.get(cookie_name, "")
    if (
        not cookie
        or not hmac.compare_digest(sent.encode(), cookie.encode())
        or not csrf_token_valid(key, user_id, sent)
    ):
        raise CsrfInvalid("X-CSRF-Token does not match the CSRF cookie of this user")
