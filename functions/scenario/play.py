"""Wiring of scenario play: the conversation engine in scenario mode and the play use cases over it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from functions.scenario.deps import ScenarioContext
from workplace_roleplay.bootstrap import Resources
from workplace_roleplay.domain.background import BackgroundWork
from workplace_roleplay.domain.conversation.records import ConversationRepository
from workplace_roleplay.domain.conversation.service import ConversationService
from workplace_roleplay.domain.modes.scenario import ScenarioMode
from workplace_roleplay.domain.scenario.growth import Growth
from workplace_roleplay.domain.scenario.listing import ScenarioCatalogService
from workplace_roleplay.domain.scenario.play import ScenarioPlay
from workplace_roleplay.settings import ScenarioSettings
from workplace_roleplay.web.engine import build_engine
from workplace_roleplay.web.service_context import service_context


def build_play(
    settings: ScenarioSettings, res: Resources, background: BackgroundWork, scenarios: ScenarioCatalogService
) -> tuple[ConversationService, ScenarioPlay]:
    """The engine in scenario mode (the mode reads learner lines for the mood event) and the play service."""
    mode = ScenarioMode(scenarios.catalog, ConversationRepository(res.store, res.clock, res.security.sealer))
    engine = build_engine(settings, res, background, mode)
    play = ScenarioPlay(
        engine=engine,
        catalog=scenarios.catalog,
        access=scenarios.access,
        progress=scenarios.progress,
        timeline=mode.timeline,
        store=res.store,
        clock=res.clock,
        model=res.model,
        sealer=res.security.sealer,
    )
    return engine, play


def play_service(request: Request) -> ScenarioPlay:
    return service_context(request, ScenarioContext).play


def scenario_settings(request: Request) -> ScenarioSettings:
    settings: ScenarioSettings = request.app.state.settings
    return settings


PlayDep = Annotated[ScenarioPlay, Depends(play_service)]
ScenarioSettingsDep = Annotated[ScenarioSettings, Depends(scenario_settings)]


def growth_service(request: Request) -> Growth:
    return service_context(request, ScenarioContext).growth


GrowthDep = Annotated[Growth, Depends(growth_service)]
