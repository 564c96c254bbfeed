"""Dependencies of the chat routes, defined once as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from workplace_roleplay.bootstrap import Resources
from workplace_roleplay.domain.modes.chat_service import ChatService
from workplace_roleplay.settings import ChatSettings
from workplace_roleplay.web.ratelimit import rate_limit


def resources(request: Request) -> Resources:
    res: Resources = request.app.state.resources
    return res


def chat_service(request: Request) -> ChatService:
    service: ChatService = request.app.state.resources.extras["chat"]
    return service


def chat_settings(request: Request) -> ChatSettings:
    settings: ChatSettings = request.app.state.settings
    return settings


ResourcesDep = Annotated[Resources, Depends(resources)]
ChatDep = Annotated[ChatService, Depends(chat_service)]
SettingsDep = Annotated[ChatSettings, Depends(chat_settings)]
# Routes that call the model spend from the "model" limits (per user and per IP); every other
# authenticated route and page spends from the "default" limits.
ModelCallAllowed = rate_limit("model")
RequestAllowed = rate_limit("default")
