"""One module per mode; modes use the conversation engine, never each other (import-linter enforces it).

``MODES`` is the registry a service looks its mode up in; watch adds itself here.
"""

from __future__ import annotations

from collections.abc import Callable

from workplace_roleplay.domain.conversation.mode import ConversationMode, Mode
from workplace_roleplay.domain.modes.chat import ChatMode
from workplace_roleplay.domain.modes.scenario import ScenarioMode
from workplace_roleplay.domain.modes.watch import WatchMode

MODES: dict[Mode, Callable[[], ConversationMode]] = {
    Mode.CHAT: ChatMode,
    Mode.SCENARIO: ScenarioMode,
    Mode.WATCH: WatchMode,
}


def mode_for(mode: Mode) -> ConversationMode:
    """The rules of a registered mode (``KeyError`` for one not built yet)."""
    return MODES[mode]()
