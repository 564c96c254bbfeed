"""One settings class per service, each the core plus the concerns that service needs."""

from __future__ import annotations

from workplace_roleplay.settings.auth import AuthSettings
from workplace_roleplay.settings.base import CoreSettings
from workplace_roleplay.settings.conversation import ConversationSettings
from workplace_roleplay.settings.migration import MigrationSettings
from workplace_roleplay.settings.model import ModelSettings
from workplace_roleplay.settings.startup import load_settings
from workplace_roleplay.settings.tracing import TracingSettings


class ServiceSettings(CoreSettings, AuthSettings, ModelSettings, MigrationSettings, TracingSettings):
    """Settings shared by every service (identity verification, model access, security)."""

    required_in_cloud = (*CoreSettings.required_in_cloud, *AuthSettings.auth_required_in_cloud)


class ChatSettings(ServiceSettings, ConversationSettings):
    """Settings of the chat service."""


class ScenarioSettings(ServiceSettings, ConversationSettings):
    """Settings of the scenario service (it plays scenarios on the conversation engine)."""


class WatchSettings(ServiceSettings):
    """Settings of the watch service."""


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
