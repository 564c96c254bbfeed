"""The chat mode (雑談練習): its settings (partner type, situation, topic), its cast of one counterpart,
the counterpart's brief and the opening line's instruction.

The setting names and codes are the legacy app's API vocabulary (kept so old clients and data still mean the same);
the Japanese descriptions and prompts are ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from workplace_roleplay.domain.conversation.cast import Cast, Part, Participant, cast_of
from workplace_roleplay.domain.conversation.mode import Mode, ModeBase
from workplace_roleplay.domain.conversation.records import Conversation
from workplace_roleplay.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a chat setting (`partner_type` is the API's promised name): UI label and prompt text."""

    label: str
    prompt: str
    rank: str = "peer"
    name: str = ""


PARTNER_TYPES: dict[str, Choice] = {
    "colleague": Choice("同僚", "同じ部署で働く同年代の同僚。気さくでため口まじりに話す", "peer", "佐藤さん"),
    "senior": Choice("先輩", "入社5年目の先輩社員。面倒見がよく、丁寧語で話す", "senior", "鈴木先輩"),
    "junior": Choice("後輩", "入社2年目の後輩社員。少し緊張しながら丁寧語で話す", "junior", "田中さん"),
    "boss": Choice("上司", "40代の課長。落ち着いていて、部下には柔らかい丁寧語で話す", "boss", "高橋課長"),
    "client": Choice("取引先", "取引先の担当者（30代後半）。礼儀正しく、敬語で話す", "client", "山本様"),
}

SITUATIONS: dict[str, Choice] = {
    "lunch": Choice("ランチ", "昼休み、社員食堂で同じテーブルになった"),
    "break": Choice("休憩時間", "午後の休憩時間、休憩スペースのコーヒーマシンの前"),
    "morning": Choice("朝の出社時", "朝、オフィスに着いて席に向かう途中"),
    "evening": Choice("終業後", "終業後、帰り支度をしているとき"),
    "party": Choice("懇親会", "部署の懇親会の席"),
}

TOPICS: dict[str, Choice] = {
    "general": Choice("一般的な話題", "天気や週末の予定など、気軽な話題"),
    "hobby": Choice("趣味", "趣味や休日の過ごし方"),
    "news": Choice("ニュース", "最近のニュースや世の中の出来事（政治・宗教の深入りは避ける）"),
    "food": Choice("食事", "ランチや食事、おすすめのお店"),
    "work": Choice("仕事", "仕事の進め方や職場のこと（機密情報には触れない）"),
}

DEFAULT_SETTINGS = {"partner_type": "colleague", "situation": "break", "topic": "general"}


def chat_settings(
    partner_type: str | None = None, situation: str | None = None, topic: str | None = None
) -> dict[str, str]:
    """Validated chat settings; missing ones take the defaults, unknown codes are refused."""
    values = {
        "partner_type": partner_type or DEFAULT_SETTINGS["partner_type"],
        "situation": situation or DEFAULT_SETTINGS["situation"],
        "topic": topic or DEFAULT_SETTINGS["topic"],
    }
    for name, table in (("partner_type", PARTNER_TYPES), ("situation", SITUATIONS), ("topic", TOPICS)):
        if values[name] not in table:
            raise InvalidInput(f"unknown {name}: {values[name]!r}")
    return values


def _choice(conv: Conversation, name: str, table: Mapping[str, Choice]) -> Choice:
    return table.get(conv.settings.get(name, ""), table[DEFAULT_SETTINGS[name]])


class ChatMode(ModeBase):
    """Free chat: the learner and one counterpart (a colleague, boss, client...) in a casual scene."""

    mode = Mode.CHAT.value

    def settings(self, raw: Mapping[str, str | None]) -> dict[str, str]:
        return chat_settings(raw.get("partner_type"), raw.get("situation"), raw.get("topic"))

    def cast(self, conv: Conversation) -> Cast:
        partner = _choice(conv, "partner_type", PARTNER_TYPES)
        code = conv.settings.get("partner_type", DEFAULT_SETTINGS["partner_type"])
        return cast_of(Participant(key=code, name=partner.name, part=Part.CHARACTER, rank=partner.rank))

    def brief(self, conv: Conversation, speaker: Participant) -> str:
        partner = _choice(conv, "partner_type", PARTNER_TYPES)
        situation = _choice(conv, "situation", SITUATIONS)
        topic = _choice(conv, "topic", TOPICS)
        return (
            f"あなたは「{partner.name}」: {partner.prompt}。\n"
            f"場面: {situation.prompt}。\n"
            f"話題: {topic.prompt}。\n"
            "学習者は雑談の練習をしている社会人です。相手が話しやすいよう、自然なきっかけを作ってください。"
        )

    def opening_instruction(self, conv: Conversation, speaker: Participant) -> str:
        return "この場面で、あなたから学習者に自然に話しかけて雑談を始めてください。最初のひと言だけを返してください。"

    def hints(self, conv: Conversation) -> Mapping[str, str]:
        partner = _choice(conv, "partner_type", PARTNER_TYPES)
        return {
            "mode": self.mode,
            "partner_type": conv.settings.get("partner_type", DEFAULT_SETTINGS["partner_type"]),
            "partner_name": partner.name,
            "situation": conv.settings.get("situation", DEFAULT_SETTINGS["situation"]),
            "topic": conv.settings.get("topic", DEFAULT_SETTINGS["topic"]),
        }
