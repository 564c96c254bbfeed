"""Same-origin checks for the sign-in endpoint (login CSRF; ADR 0011).

SameSite=Lax cookies and the double-submit CSRF token protect requests made *as* the learner, but
sign-in creates the identity, so there is no token yet to check, and a cross-site form POST would
replace the learner's cookies with an attacker-chosen identity. A browser tells us where a request
comes from (``Sec-Fetch-Site``, ``Origin``) and cannot send ``application/json`` across sites
without a CORS preflight we never answer, so the sign-in route requires all three to agree.
Clients that are not browsers send neither header and are unaffected.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from workplace_roleplay.errors import CrossSiteRefused, UnsupportedMediaType

# "none" is a navigation the user typed or bookmarked; same-site includes sibling subdomains, refused.
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})
JSON_MEDIA_TYPE = "application/json"


def is_same_origin(origin: str, host: str) -> bool:
    """``Origin`` names our own host (scheme-agnostic: TLS ends at the load balancer)."""
    if not origin or origin == "null" or not host:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def refuse_cross_site(connection: HTTPConnection) -> None:
    """Raise ``CrossSiteRefused`` unless the request comes from our own origin or from a non-browser."""
    headers = connection.headers
    site = headers.get("sec-fetch-site")
    if site is not None and site.strip().lower() not in ALLOWED_FETCH_SITES:
        raise CrossSiteRefused(f"Sec-Fetch-Site: {site[:40]!r}")
    origin = headers.get("origin")
    if origin is not None and not is_same_origin(origin.strip(), headers.get("host", "")):
        raise CrossSiteRefused(f"Origin {origin[:100]!r} is not this host")


def require_json_body(connection: HTTPConnection) -> None:
    """A request with a body must declare JSON; HTML forms can only send other types."""
    content_type = connection.headers.get("content-type")
    if content_type is None:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        raise UnsupportedMediaType(f"Content-Type {media_type[:60]!r} instead of {JSON_MEDIA_TYPE}")
