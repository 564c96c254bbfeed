"""Dependencies of the watch routes: the shared aliases of ``web.deps`` plus the runs and this service's settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from workplace_roleplay.domain.modes.watch.run import WatchRuns
from workplace_roleplay.settings import WatchSettings
from workplace_roleplay.web.deps import Conversations, ModelCallAllowed, RequestAllowed, ResourcesDep


def watch_settings(request: Request) -> WatchSettings:
    settings: WatchSettings = request.app.state.settings
    return settings


def watch_runs(request: Request) -> WatchRuns:
    runs: WatchRuns = request.app.state.watch_runs
    return runs


SettingsDep = Annotated[WatchSettings, Depends(watch_settings)]
RunsDep = Annotated[WatchRuns, Depends(watch_runs)]
EngineDep = Conversations

__all__ = ["EngineDep", "ModelCallAllowed", "RequestAllowed", "ResourcesDep", "RunsDep", "SettingsDep"]
