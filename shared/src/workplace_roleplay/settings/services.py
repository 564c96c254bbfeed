"""One settings class per service, each the core plus the concerns that service needs."""

from __future__ import annotations

from pydantic import Field

from workplace_roleplay.settings.auth import AuthSettings
from workplace_roleplay.settings.base import CoreSettings
from workplace_roleplay.settings.conversation import ConversationSettings
from workplace_roleplay.settings.migration import MigrationSettings
from workplace_roleplay.settings.model import ModelSettings
from workplace_roleplay.settings.startup import load_settings


class ServiceSettings(CoreSettings, AuthSettings, ModelSettings, MigrationSettings):
    """Settings shared by every service (identity verification, model access, security)."""

    required_in_cloud = (*CoreSettings.required_in_cloud, *AuthSettings.auth_required_in_cloud)


class ChatSettings(ServiceSettings, ConversationSettings):
    """Settings of the chat service."""


class ScenarioSettings(ServiceSettings):
    """Settings of the scenario service."""


class WatchSettings(ServiceSettings, ConversationSettings):
    """Settings of the watch service."""

    WATCH_LINE_BUDGET: int = Field(
        12, ge=1, le=200, description="Character lines a watch run speaks before it pauses and asks to continue."
    )
    WATCH_QUIZ_EVERY: int = Field(
        4, ge=0, le=100, description="A watch run pauses with a quiz every N character lines (0: on demand only)."
    )


class MigrateSessionSettings(ServiceSettings):
    """Settings of the identity and legacy-migration service."""


SERVICE_SETTINGS: dict[str, type[ServiceSettings]] = {
    "chat": ChatSettings,
    "scenario": ScenarioSettings,
    "watch": WatchSettings,
    "migrate_session": MigrateSessionSettings,
}


def settings_for(service: str) -> ServiceSettings:
    """Build and validate the settings of one service from the environment."""
    return load_settings(SERVICE_SETTINGS[service])
