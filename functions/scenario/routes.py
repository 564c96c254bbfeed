"""HTTP API of the scenario service (``/api/v2/scenarios``): catalog list and detail, consent."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status

from functions.scenario.deps import AllowedScenario, RequestAllowed, ScenariosDep
from functions.scenario.schemas import ConsentIn, ConsentOut, ScenarioDetailOut, ScenarioItem, ScenarioPage
from workplace_roleplay.domain.scenario.catalog import ScenarioQuery
from workplace_roleplay.domain.scenario.consent import CONSENT_PAGE, CONSENT_VERSION, ConsentRecord
from workplace_roleplay.domain.scenario.model import Category, Difficulty
from workplace_roleplay.web.auth import CurrentUser
from workplace_roleplay.web.service_index import ServiceIndex, service_index

router = APIRouter(prefix="/api/v2/scenarios", tags=["scenario"])

GATED: dict[int | str, dict[str, Any]] = {
    403: {"description": "consent_required: the learner has not agreed to this content (body has consent_url)."},
    404: {"description": "scenario_not_found"},
    429: {"description": "Rate limited (Retry-After)."},
}


@router.get("/about", summary="What this service offers")
async def index() -> ServiceIndex:
    return service_index("scenario")


@router.get(
    "",
    summary="The scenario catalog with the learner's status (ETag; consent-gated entries locked)",
    response_model=ScenarioPage,
    responses={304: {"description": "Not modified (If-None-Match matched the ETag)."}, 429: {}},
    dependencies=[RequestAllowed],
)
async def list_scenarios(
    user: CurrentUser,
    scenarios: ScenariosDep,
    response: Response,
    category: Category | None = None,
    difficulty: Difficulty | None = None,
    tag: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=50, description="words in the title, summary, tags")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    query = ScenarioQuery(category=category, difficulty=difficulty, tag=tag or None, text=(q or "").strip() or None)
    items, consented = await scenarios.listing(user.user_id, query)
    window = items[offset : offset + limit]
    page = ScenarioPage(
        items=[ScenarioItem.of(i) for i in window],
        total=len(items),
        limit=limit,
        offset=offset,
        next_offset=offset + limit if offset + limit < len(items) else None,
        consented=consented,
        catalog_version=scenarios.catalog.digest,
    )
    body = page.model_dump_json().encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if if_none_match and etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _consent_out(record: ConsentRecord | None) -> ConsentOut:
    return ConsentOut(
        consented=record is not None and record.active,
        current_version=CONSENT_VERSION,
        version=record.version if record else None,
        given_at=record.given_at if record else None,
        revoked_at=record.revoked_at if record else None,
        consent_page=CONSENT_PAGE,
    )


@router.get("/consent", summary="The learner's consent to sensitive training content", dependencies=[RequestAllowed])
async def get_consent(user: CurrentUser, scenarios: ScenariosDep) -> ConsentOut:
    return _consent_out(await scenarios.consent.record(user.user_id))


@router.put(
    "/consent",
    summary="Record consent to the current consent text (version must match)",
    responses={422: {"description": "Not the current consent text version."}},
    dependencies=[RequestAllowed],
)
async def give_consent(body: ConsentIn, user: CurrentUser, scenarios: ScenariosDep) -> ConsentOut:
    return _consent_out(await scenarios.consent.give(user.user_id, body.version))


@router.delete("/consent", summary="Revoke consent (idempotent)", dependencies=[RequestAllowed])
async def revoke_consent(user: CurrentUser, scenarios: ScenariosDep) -> ConsentOut:
    return _consent_out(await scenarios.consent.revoke(user.user_id))


@router.get(
    "/{scenario_id}",
    summary="One scenario: roles, counterparts, situation, opening, learning points, report checks",
    responses=GATED,
    dependencies=[RequestAllowed],
)
async def get_scenario(scenario: AllowedScenario, user: CurrentUser, scenarios: ScenariosDep) -> ScenarioDetailOut:
    return ScenarioDetailOut.of(await scenarios.describe(user.user_id, scenario))
