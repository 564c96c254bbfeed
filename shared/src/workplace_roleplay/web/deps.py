"""Every route dependency of every service, defined once as ``Annotated`` aliases.

``CurrentUser``/``PageUser`` (who is calling), ``ResourcesDep`` (the service's ports),
``SecurityDep`` (identity, tokens, sealing, all typed by ports) and ``Conversations`` (the
conversation engine of the service's mode); ``ModelCallAllowed``/``RequestAllowed`` spend the rate
limits of routes that call the model or not.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from workplace_roleplay.bootstrap import Resources, Security
from workplace_roleplay.domain.conversation.service import ConversationService
from workplace_roleplay.errors import ConfigurationError
from workplace_roleplay.web.auth import CurrentUser, PageUser, SocketUser
from workplace_roleplay.web.ratelimit import rate_limit


def resources(request: Request) -> Resources:
    res: Resources = request.app.state.resources
    return res


def security(request: Request) -> Security:
    return resources(request).security


def conversations(request: Request) -> ConversationService:
    service = resources(request).conversations
    if service is None:
        raise ConfigurationError("this service has no conversation engine")
    return service


ResourcesDep = Annotated[Resources, Depends(resources)]
SecurityDep = Annotated[Security, Depends(security)]
Conversations = Annotated[ConversationService, Depends(conversations)]
# Routes that call the model spend from the "model" limits (per user and per IP); every other
# authenticated route and page spends from the "default" limits.
ModelCallAllowed = rate_limit("model")
RequestAllowed = rate_limit("default")

__all__ = [
    "Conversations",
    "CurrentUser",
    "ModelCallAllowed",
    "PageUser",
    "RequestAllowed",
    "ResourcesDep",
    "SecurityDep",
    "SocketUser",
]
