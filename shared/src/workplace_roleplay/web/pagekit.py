"""The shared page kit's server side: fingerprinted static assets and the site icon (ADR 0025).

Every mode's pages are assembled from the kit's templates (``templates/base.html`` and
``templates/kit/macros.html``) and its one script (``static/kit.js``, which streams a turn, moves
focus after each action and announces replies). A service serves the kit's scripts under its own page
prefix, so a page never depends on another service being up::

    assets = PageAssets("/chat/static", {"chat-extra.js": Path(...)})   # the kit's files are included
    pages.include_router(assets.router())
    render(request, "page.html", {**assets.context(), ...})           # templates call asset("kit.js")

URLs carry a hash of the file's content (``kit.3f9c2a1b7d.js``), so they are cached for a year as
``immutable``; a request for an older hash (a page from the previous deploy) still gets the current
file, with ``no-cache``. All CSS is inline in the page (``kit/kit.css`` plus the page's own block), so
no stylesheet blocks rendering.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from workplace_roleplay.errors import NotFound

KIT_STATIC = Path(__file__).parent / "static"
HTMX_VERSION = "2.0.11"
# The kit's own scripts, served by every service that renders kit pages.
KIT_FILES: dict[str, Path] = {
    "kit.js": KIT_STATIC / "kit.js",
    "htmx.js": KIT_STATIC / "vendor" / f"htmx-{HTMX_VERSION}.min.js",
    "rating.js": KIT_STATIC / "rating.js",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".ico": "image/x-icon",
    ".svg": "image/svg+xml",
}
FAVICON = KIT_STATIC / "favicon.ico"
HASH_CHARS = 10


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_CHARS]


def _split(name: str) -> tuple[str, str]:
    """``kit.js`` -> (``kit``, ``.js``)."""
    stem, dot, suffix = name.rpartition(".")
    return (stem, dot + suffix) if dot else (name, "")


@dataclass
class PageAssets:
    """A service's static files under ``prefix``: the kit's scripts plus its own ``files``."""

    prefix: str
    files: Mapping[str, Path] = field(default_factory=dict)

    @cached_property
    def _all(self) -> dict[str, Path]:
        return {**KIT_FILES, **self.files}

    @cached_property
    def _hashes(self) -> dict[str, str]:
        # Hashed on first use (a page render), not at import: importing a module does no I/O.
        return {name: _fingerprint(path) for name, path in self._all.items()}

    def url(self, name: str) -> str:
        """The fingerprinted URL of ``name`` (a key of the kit's or the service's files)."""
        stem, suffix = _split(name)
        return f"{self.prefix}/{stem}.{self._hashes[name]}{suffix}"

    def context(self) -> dict[str, Any]:
        """What kit templates need: ``asset(name)`` for script URLs."""
        return {"asset": self.url}

    def resolve(self, requested: str) -> tuple[Path, str]:
        """The file behind a fingerprinted name and its Cache-Control; ``NotFound`` otherwise."""
        stem, suffix = _split(requested)
        base, _, digest = stem.rpartition(".")
        name = base + suffix
        if not base or name not in self._all or not digest.isalnum():
            raise NotFound()
        return self._all[name], IMMUTABLE if digest == self._hashes[name] else REVALIDATE

    def router(self) -> APIRouter:
        """``GET {prefix}/{fingerprinted name}``; compressed by the app's middleware like every response."""
        router = APIRouter(include_in_schema=False)

        # ``:path`` so the app-wide grammar checks it as a file name (dots allowed), not as an id (web/grammar.py).
        @router.get(self.prefix + "/{name:path}")
        async def asset(name: str) -> FileResponse:
            path, cache = self.resolve(name)
            return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": cache})

        return router


def favicon_router() -> APIRouter:
    """``/favicon.ico`` (browsers ask for it on every site; the catalog routes it with the home page)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/favicon.ico")
    async def favicon() -> Response:
        return FileResponse(FAVICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})

    return router
