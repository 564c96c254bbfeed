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
from workplace_roleplay.settings.startup import InvalidSettings, load_settings

__all__ = [
    "SERVICE_SETTINGS",
    "ChatSettings",
    "CoreSettings",
    "Environment",
    "InvalidSettings",
    "MigrateSessionSettings",
    "ScenarioSettings",
    "ServiceSettings",
    "WatchSettings",
    "load_settings",
    "settings_for",
]
