"""One settings class per service, each the core plus the concerns that service needs."""

from __future__ import annotations

from pydantic import Field

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


class WatchSettings(ServiceSettings, ConversationSettings):
    """Settings of the watch service."""

    WATCH_LINE_BUDGET: int = Field(
        12, ge=1, le=200, description="Character lines a watch run speaks before it pauses and asks to continue."
    )
    WATCH_QUIZ_EVERY: int = Field(
        4, ge=0, le=100, description="A watch run pauses with a quiz every N character lines (0: on demand only)."
    )
    WATCH_MAX_PLAYING: int = Field(
        3, ge=1, le=50, description="Watch runs one learner may have playing at once (one more: 409)."
    )
    WATCH_LINE_PAUSE_S: float = Field(
        1.5, ge=0, le=30, description="Silence between two lines of a playing watch run at speed 1 (divided by speed)."
    )
    WATCH_LOG_TTL_S: int = Field(3600, ge=60, le=86400, description="TTL of a watch run's event log in Redis.")
    WATCH_SOCKET_IDLE_S: float = Field(
        90.0, gt=0, le=3600, description="A watch WebSocket with no client message (ping) for this long is closed."
    )
    WATCH_SOCKET_MAX_MESSAGE_BYTES: int = Field(
        8192, ge=256, le=65536, description="Largest client message on the watch WebSocket (larger: close 1009)."
    )
    WATCH_SEND_QUEUE: int = Field(
        512, ge=16, le=100000, description="Events queued in the process for one watch client (more wait in the log)."
    )
    WATCH_SOCKET_STALL_S: float = Field(
        10.0,
        gt=0,
        le=600,
        description="A watch client whose socket takes no data for this long while events wait is closed (1013).",
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
