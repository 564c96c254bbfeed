"""The one character roster: the people who appear in chat, scenarios and watch mode.

A character is data (``data/roster.yaml``): who they are, how they speak, what they want, and what makes
them trust or resist the learner. Scenarios name their counterparts by roster id; chat partner types map
onto roster ids (``CHAT_PARTNER_CHARACTERS``); watch mode's 太郎 and 花子 are roster entries too. Memory per
character (a later step of the engine) keys on the roster id, so 高橋課長 is the same person everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from workplace_roleplay.errors import ConfigurationError, NotFound

ROSTER_FILE = Path(__file__).parent / "data" / "roster.yaml"
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class Rank(StrEnum):
    """The character's position relative to a typical learner (drives keigo and simple-mode wording)."""

    EXECUTIVE = "executive"
    BOSS = "boss"
    SENIOR = "senior"
    PEER = "peer"
    JUNIOR = "junior"
    CLIENT = "client"
    STAFF = "staff"  # HR or a trainer: polite, neutral
    FRIEND = "friend"


class Character(BaseModel):
    """One person of the roster."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
    name: Short  # how the learner addresses them, e.g. 高橋課長
    full_name: Short
    reading: Short  # hiragana reading of the full name
    position: Short
    rank: Rank
    personality: Text
    speaking_style: Text
    wants: Text
    trust_builders: tuple[Text, ...] = Field(min_length=1, max_length=5)
    resistance_triggers: tuple[Text, ...] = Field(min_length=1, max_length=5)

    def persona_prompt(self) -> str:
        """The character as a prompt section (Japanese), for the engine's counterpart prompt."""
        return (
            f"あなたは{self.full_name}（{self.reading}、{self.position}）です。\n"
            f"性格: {self.personality}\n話し方: {self.speaking_style}\n望んでいること: {self.wants}\n"
            f"信頼が高まること: {'、'.join(self.trust_builders)}\n"
            f"反発を招くこと: {'、'.join(self.resistance_triggers)}"
        )


class Roster(Mapping[str, Character]):
    """Characters by id (immutable once loaded)."""

    def __init__(self, characters: tuple[Character, ...]) -> None:
        self._by_id: dict[str, Character] = {}
        for character in characters:
            if character.id in self._by_id:
                raise ConfigurationError(f"roster: duplicate character id {character.id!r}")
            self._by_id[character.id] = character

    def __getitem__(self, key: str) -> Character:
        return self._by_id[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def character(self, character_id: str) -> Character:
        """The character, or ``NotFound``."""
        found = self._by_id.get(character_id)
        if found is None:
            raise NotFound(f"character {character_id!r}")
        return found


class _RosterFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    characters: tuple[Character, ...] = Field(min_length=1)


def parse_roster(data: object, *, source: str = "roster") -> Roster:
    try:
        parsed = _RosterFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigurationError(f"{source}: invalid roster:\n{exc}") from exc
    return Roster(parsed.characters)


@cache
def load_roster(path: Path = ROSTER_FILE) -> Roster:
    """The roster from its YAML file, validated (read once per process)."""
    with path.open(encoding="utf-8") as fh:
        return parse_roster(yaml.safe_load(fh), source=str(path))


# Chat partner types (domain/modes/chat.py codes) → the roster character who plays them.
CHAT_PARTNER_CHARACTERS: dict[str, str] = {
    "colleague": "sato_kenta",
    "senior": "suzuki_misaki",
    "junior": "tanaka_yui",
    "boss": "takahashi_makoto",
    "client": "yamamoto_ryo",
}
# Watch mode's two speakers.
WATCH_CHARACTERS: tuple[str, str] = ("taro", "hanako")
