"""Typed settings: one class per service, composed from per-concern mixins.

Nothing outside this package reads ``os.environ``.
"""

from workplace_roleplay.settings.base import CoreSettings, Environment
from workplace_roleplay.settings.services import (
    SERVICE_SETTINGS,
    ChatSettings,
    MigrateSessionSettings,
    ScenarioSettings,
    ServiceSettings,
    WatchSettings,
    settings_for,
)

__all__ = [
    "SERVICE_SETTINGS",
    "ChatSettings",
    "CoreSettings",
    "Environment",
    "MigrateSessionSettings",
    "ScenarioSettings",
    "ServiceSettings",
    "WatchSettings",
    "settings_for",
]
