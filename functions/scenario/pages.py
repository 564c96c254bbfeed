"""The home page ``/``, the scenario list ``/scenarios`` (category tabs, filters), the consent page and a
scenario's detail page: server-rendered, autoescaped, Japanese, mobile first, htmx under the strict CSP.

The play, compare and progress pages are in ``play_pages.py``; the detail page starts a session.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from functions.scenario.deps import RequestAllowed, ScenariosDep
from workplace_roleplay.domain.scenario.catalog import ScenarioQuery
from workplace_roleplay.domain.scenario.consent import CONSENT_VERSION
from workplace_roleplay.domain.scenario.model import CATEGORY_LABELS, DIFFICULTY_LABELS, Category, Difficulty
from workplace_roleplay.domain.scenario.progress import STATUS_LABELS
from workplace_roleplay.errors import ConsentRequired, InvalidInput, NotFound
from workplace_roleplay.web.auth import CurrentUser, PageUser, safe_next
from workplace_roleplay.web.templating import render

STATIC = Path(__file__).parent / "static"
HTMX_FILE = "vendor/htmx-2.0.11.min.js"
ASSETS: dict[str, tuple[str, str]] = {
    "scenarios.css": ("text/css; charset=utf-8", "public, max-age=3600"),
    HTMX_FILE: ("text/javascript; charset=utf-8", "public, max-age=31536000, immutable"),
}
COMMON = {
    "htmx_file": HTMX_FILE,
    "category_labels": {c.value: label for c, label in CATEGORY_LABELS.items()},
    "difficulty_labels": {d.value: label for d, label in DIFFICULTY_LABELS.items()},
    "status_labels": {s.value: label for s, label in STATUS_LABELS.items()},
}
JST = dt.timezone(dt.timedelta(hours=9), "JST")
pages = APIRouter(include_in_schema=False)


def _html(request: Request, name: str, context: dict[str, Any], headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(render(request, name, {**COMMON, **context}), headers=headers)


def _query(category: str, difficulty: str, tag: str, q: str) -> ScenarioQuery:
    try:
        return ScenarioQuery(
            category=Category(category) if category else None,
            difficulty=Difficulty(difficulty) if difficulty else None,
            tag=tag or None,
            text=q.strip() or None,
        )
    except ValueError:
        raise InvalidInput("unknown category or difficulty") from None


Filter = Annotated[str, Query(max_length=50)]


async def _list_view(scenarios: ScenariosDep, user_id: str, filters: dict[str, str]) -> dict[str, Any]:
    items, consented = await scenarios.listing(user_id, _query(**filters))
    here = "/scenarios?" + urlencode({k: v for k, v in filters.items() if v})
    return {"items": items, "consented": consented, "filters": filters, "here": here.rstrip("?")}


@pages.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return _html(request, "home.html", {})


@pages.get("/scenarios", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def scenarios_page(
    request: Request,
    user: PageUser,
    scenarios: ScenariosDep,
    category: Filter = "",
    difficulty: Filter = "",
    tag: Filter = "",
    q: Filter = "",
) -> HTMLResponse:
    filters = {"category": category, "difficulty": difficulty, "tag": tag, "q": q}
    view = await _list_view(scenarios, user.user_id, filters)
    return _html(request, "scenarios.html", {**view, "tags": scenarios.catalog.tags(), "categories": list(Category)})


@pages.get("/scenarios/list", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def list_fragment(
    request: Request,
    user: CurrentUser,
    scenarios: ScenariosDep,
    category: Filter = "",
    difficulty: Filter = "",
    tag: Filter = "",
    q: Filter = "",
) -> HTMLResponse:
    view = await _list_view(
        scenarios, user.user_id, {"category": category, "difficulty": difficulty, "tag": tag, "q": q}
    )
    return _html(request, "_list.html", view, headers={"HX-Push-Url": view["here"]})


@pages.get("/scenarios/consent", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def consent_page(
    request: Request, user: PageUser, scenarios: ScenariosDep, next: Annotated[str, Query(max_length=300)] = ""
) -> HTMLResponse:
    record = await scenarios.consent.record(user.user_id)
    given = dt.datetime.fromtimestamp(record.given_at, JST).strftime("%Y年%m月%d日 %H:%M") if record else ""
    target = safe_next(next or "/scenarios?category=harassment_prevention")
    return _html(
        request, "consent.html", {"record": record, "given": given, "version": CONSENT_VERSION, "next": target}
    )


@pages.post("/scenarios/consent", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def give_consent(
    user: CurrentUser,
    scenarios: ScenariosDep,
    version: Annotated[str, Form(max_length=32)],
    agree: Annotated[str, Form(max_length=8)] = "",
    next: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    if agree != "on":
        raise InvalidInput("consent box not ticked")
    await scenarios.consent.give(user.user_id, version)
    return Response(status_code=204, headers={"HX-Redirect": safe_next(next or "/scenarios")})


@pages.post("/scenarios/consent/revoke", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def revoke_consent(user: CurrentUser, scenarios: ScenariosDep) -> Response:
    await scenarios.consent.revoke(user.user_id)
    return Response(status_code=204, headers={"HX-Redirect": "/scenarios/consent"})


@pages.get("/scenarios/static/{name:path}")
async def scenario_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise NotFound()
    media_type, cache_control = ASSETS[name]
    return FileResponse(STATIC / name, media_type=media_type, headers={"Cache-Control": cache_control})


# The legacy app's list pages, kept as links: they open the matching category tab.
LEGACY_LISTS = {"regular": "regular", "harassment": "harassment_prevention"}


@pages.get("/scenarios/{scenario_id}", response_class=HTMLResponse, dependencies=[RequestAllowed])
async def scenario_page(request: Request, scenario_id: str, user: PageUser, scenarios: ScenariosDep) -> Response:
    """The detail page; without consent, the browser goes to the consent page and comes back here.

    A legacy list path (``/scenarios/regular``) or legacy scenario id (``/scenarios/scenario12``) redirects
    to its v2 page, so old bookmarks keep working.
    """
    if scenario_id in LEGACY_LISTS:
        return RedirectResponse(f"/scenarios?category={LEGACY_LISTS[scenario_id]}", status_code=301)
    if scenario_id in scenarios.catalog.legacy_map:
        return RedirectResponse(f"/scenarios/{scenarios.catalog.legacy_map[scenario_id]}", status_code=301)
    try:
        detail = await scenarios.detail(user.user_id, scenario_id, next_path=f"/scenarios/{scenario_id}")
    except ConsentRequired as exc:
        if request.headers.get("hx-request"):
            raise
        return RedirectResponse(exc.consent_url, status_code=303)
    return _html(request, "scenario.html", {"d": detail, "s": detail.scenario})
