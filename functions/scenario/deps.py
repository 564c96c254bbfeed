"""Dependencies of the scenario routes, defined once as ``Annotated`` aliases.

``AllowedScenario`` is the consent gate for every route with a ``{scenario_id}`` path parameter (detail
today; start, hint, report... when play lands): it resolves the scenario through ``ScenarioAccess.open``
(404 ``scenario_not_found``, 403 ``consent_required``). Routes that reach a scenario through a session
call ``ScenarioAccess.require_consent`` with the session's scenario instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from workplace_roleplay.domain.identity.users import User
from workplace_roleplay.domain.scenario.consent import ScenarioAccess
from workplace_roleplay.domain.scenario.growth import Growth
from workplace_roleplay.domain.scenario.listing import ScenarioCatalogService
from workplace_roleplay.domain.scenario.model import Scenario
from workplace_roleplay.domain.scenario.play import ScenarioPlay
from workplace_roleplay.web.auth import current_user
from workplace_roleplay.web.ratelimit import rate_limit
from workplace_roleplay.web.service_context import service_context


@dataclass(frozen=True)
class ScenarioContext:
    """What the scenario service builds at startup beyond the shared resources."""

    scenarios: ScenarioCatalogService
    play: ScenarioPlay
    growth: Growth


def scenario_service(request: Request) -> ScenarioCatalogService:
    return service_context(request, ScenarioContext).scenarios


ScenariosDep = Annotated[ScenarioCatalogService, Depends(scenario_service)]


def scenario_access(request: Request) -> ScenarioAccess:
    return scenario_service(request).access


async def allowed_scenario(
    scenario_id: str,
    request: Request,
    user: Annotated[User, Depends(current_user)],
    access: Annotated[ScenarioAccess, Depends(scenario_access)],
) -> Scenario:
    """The scenario of the path, once the learner may open it (the one consent check of every route)."""
    back = request.url.path if not request.url.path.startswith("/api/") else f"/scenarios/{scenario_id}"
    return await access.open(user.user_id, scenario_id, next_path=back)


AllowedScenario = Annotated[Scenario, Depends(allowed_scenario)]
# Every scenario route and page spends from the "default" limits (per user and per IP), like chat's
# non-model routes; the play routes that call the model will use "model".
RequestAllowed = rate_limit("default")
