"""The watch mode (会話観戦): two roster characters (太郎 and 花子) talk on chat settings or a catalog scenario;
the learner may join with a line (both characters react) or take over one character's role.

Run state (lines spoken, whose line is next, paused...) lives in ``conv.extra["watch"]`` (``run.py``), so any
instance can continue a run; the mode reads only whose line is next from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from workplace_roleplay.domain.conversation.cast import Cast, Part, Participant, cast_of
from workplace_roleplay.domain.conversation.mode import Mode, ModeBase
from workplace_roleplay.domain.conversation.records import Conversation
from workplace_roleplay.domain.scenario.catalog import ScenarioCatalog, load_catalog
from workplace_roleplay.domain.scenario.roster import WATCH_CHARACTERS, Character, load_roster
from workplace_roleplay.errors import InvalidInput, ScenarioNotFound

# The chat settings' codes (the legacy API vocabulary); watch describes the scene for two colleagues.
SITUATIONS: dict[str, str] = {
    "lunch": "昼休み、社員食堂で同じテーブルになった",
    "break": "午後の休憩時間、休憩スペースのコーヒーマシンの前",
    "morning": "朝、オフィスに着いて席に向かう途中",
    "evening": "終業後、帰り支度をしているとき",
    "party": "部署の懇親会の席",
}
TOPICS: dict[str, str] = {
    "general": "天気や週末の予定など、気軽な話題",
    "hobby": "趣味や休日の過ごし方",
    "news": "最近のニュースや世の中の出来事（政治・宗教の深入りは避ける）",
    "food": "ランチや食事、おすすめのお店",
    "work": "仕事の進め方や職場のこと（機密情報には触れない）",
}
DEFAULTS = {"situation": "break", "topic": "work"}
WATCH_RULES = (
    "これは学習者が観察する、職場の二人の会話です。相手の直前の発言に具体的に反応し、"
    "自分の人物像（性格・話し方・望み）を保って、1〜2文で自然に話してください。"
)


@cache
def _catalog() -> ScenarioCatalog:
    return load_catalog()


@dataclass(frozen=True, slots=True)
class Scene:
    """Where the pair is and what they talk about (from chat settings or a scenario)."""

    situation: str
    topic: str


def scene_of(settings: Mapping[str, str]) -> Scene:
    scenario_id = settings.get("scenario_id", "")
    if scenario_id:
        scenario = _catalog().get(scenario_id)
        return Scene(f"{scenario.title}: {scenario.situation}", scenario.summary)
    return Scene(
        SITUATIONS.get(settings.get("situation", ""), SITUATIONS[DEFAULTS["situation"]]),
        TOPICS.get(settings.get("topic", ""), TOPICS[DEFAULTS["topic"]]),
    )


def pair() -> tuple[Character, Character]:
    roster = load_roster()
    return roster.character(WATCH_CHARACTERS[0]), roster.character(WATCH_CHARACTERS[1])


def participant(character: Character) -> Participant:
    return Participant(key=character.id, name=character.name, part=Part.CHARACTER, rank=character.rank.value)


def watch_settings(raw: Mapping[str, str | None]) -> dict[str, str]:
    """Validated settings: chat's situation/topic codes or a catalog scenario; ``learner_role`` for a takeover."""
    scenario_id = raw.get("scenario_id") or ""
    learner_role = raw.get("learner_role") or ""
    if learner_role and learner_role not in WATCH_CHARACTERS:
        raise InvalidInput(f"unknown learner_role: {learner_role!r}")
    if scenario_id:
        try:
            _catalog().get(scenario_id)
        except ScenarioNotFound:
            raise InvalidInput(f"unknown scenario_id: {scenario_id!r}") from None
        return {"scenario_id": scenario_id, "learner_role": learner_role}
    values = {
        "situation": raw.get("situation") or DEFAULTS["situation"],
        "topic": raw.get("topic") or DEFAULTS["topic"],
    }
    for name, table in (("situation", SITUATIONS), ("topic", TOPICS)):
        if values[name] not in table:
            raise InvalidInput(f"unknown {name}: {values[name]!r}")
    return {**values, "learner_role": learner_role}


def next_index(conv: Conversation) -> int:
    """Whose line is next among the speaking characters (kept by the run in ``extra``)."""
    state = conv.extra.get("watch") or {}
    value = state.get("next", 0) if isinstance(state, dict) else 0
    return value if isinstance(value, int) and value >= 0 else 0


class WatchMode(ModeBase):
    """Two characters talk; the learner watches, joins in, or plays one of them."""

    mode = Mode.WATCH.value

    def settings(self, raw: Mapping[str, str | None]) -> dict[str, str]:
        return watch_settings(raw)

    def cast(self, conv: Conversation) -> Cast:
        played = conv.settings.get("learner_role", "")
        return cast_of(*(participant(c) for c in pair() if c.id != played))

    def played_character(self, conv: Conversation) -> Character | None:
        """The character the learner took over, if any."""
        played = conv.settings.get("learner_role", "")
        return next((c for c in pair() if c.id == played), None)

    def brief(self, conv: Conversation, speaker: Participant) -> str:
        me = next(c for c in pair() if c.id == speaker.key)
        other = next(c for c in pair() if c.id != speaker.key)
        scene = scene_of(conv.settings)
        parts = [me.persona_prompt(), f"場面: {scene.situation}。", f"話題: {scene.topic}。", WATCH_RULES]
        if self.played_character(conv) is not None:
            parts.append(
                f"「{other.name}」の役は学習者が演じています。学習者の発言を{other.name}の発言として受け止めてください。"
            )
        else:
            parts.append(
                f"会話の相手は「{other.name}」（{other.position}）。学習者が途中で会話に加わることがあります。"
            )
        return "\n".join(parts)

    def opening_instruction(self, conv: Conversation, speaker: Participant) -> str:
        other = next(c for c in pair() if c.id != speaker.key)
        return (
            f"この場面で、あなたから{other.name}に自然に話しかけて会話を始めてください。"
            "最初のひと言だけを返してください。"
        )

    def responders(self, conv: Conversation, *, learner_spoke: bool) -> tuple[Participant, ...]:
        speakers = self.cast(conv).characters
        first = next_index(conv) % len(speakers)
        if learner_spoke:
            # Everyone reacts to the learner's line, starting with whoever was due next.
            return speakers[first:] + speakers[:first]
        return (speakers[first],)

    def hints(self, conv: Conversation) -> Mapping[str, str]:
        names = ",".join(c.name for c in self.cast(conv).characters)
        scenario_id = conv.settings.get("scenario_id", "")
        # The simple-response mode reads codes (situation, topic) or a short free-text topic (a scenario's title).
        topic = _catalog().get(scenario_id).title if scenario_id else conv.settings.get("topic", DEFAULTS["topic"])
        situation = "" if scenario_id else conv.settings.get("situation", DEFAULTS["situation"])
        return {"mode": self.mode, "situation": situation, "topic": topic, "watch_speakers": names}
