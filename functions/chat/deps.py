"""Dependencies of the chat routes: the shared aliases of ``web.deps`` plus this service's settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from workplace_roleplay.settings import ChatSettings
from workplace_roleplay.web.deps import Conversations, ModelCallAllowed, RequestAllowed, ResourcesDep


def chat_settings(request: Request) -> ChatSettings:
    settings: ChatSettings = request.app.state.settings
    return settings


ChatDep = Conversations  # the conversation engine in chat mode
SettingsDep = Annotated[ChatSettings, Depends(chat_settings)]

__all__ = ["ChatDep", "ModelCallAllowed", "RequestAllowed", "ResourcesDep", "SettingsDep"]
