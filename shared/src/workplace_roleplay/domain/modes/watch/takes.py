"""Good and bad takes (同じ場面を2通りで): the pair plays the next moment twice from the same brief and dialogue,
once prompted clumsy and once skilled; the learner says which take is skilled and marks what differs, then sees
the differences explained with quotes from both takes.

Which take is skilled and the explanation are sealed at rest and leave the server only in the graded take, after
the learner answered (like a quiz's answer). In the simple-response mode takes and explanation are deterministic
and quote the dialogue.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from workplace_roleplay.domain.conversation.records import Conversation, Message, Role
from workplace_roleplay.domain.sealing import TextSealer
from workplace_roleplay.errors import InvalidInput, TakesAlreadyAnswered, TakesNotFound
from workplace_roleplay.ports import Clock, DocumentStore
from workplace_roleplay.ports.model import ChatMessage, GenerationMode, GenerationRequest, LanguageModel, ModelTask

# What a learner may mark as different (codes are the API's; labels are shown as they are).
ASPECTS: dict[str, str] = {
    "conclusion_first": "結論から話す",
    "consideration": "相手への配慮",
    "specificity": "具体性",
    "listening": "相手の話を受け止める",
    "wording": "言葉づかい",
    "next_step": "次の行動を示す",
}
AspectCode = Literal["conclusion_first", "consideration", "specificity", "listening", "wording", "next_step"]
Manner = Literal["clumsy", "skilled"]
MAX_NOTE_CHARS = 200

MANNER_RULES: dict[str, str] = {
    "clumsy": (
        "この一度だけ、あえて不器用な話し方をしてください（学習用の悪い例）。結論を後回しにする、あいまいで具体性がない、"
        "相手の話を受け止めない、配慮に欠ける、などの改善点がはっきり分かる言い方にします。失礼・攻撃的にはしないこと。"
    ),
    "skilled": (
        "この一度だけ、模範的な話し方をしてください（学習用の良い例）。結論から話し、具体的で、相手の話を受け止め、"
        "相手への配慮を示し、次の行動をはっきりさせます。"
    ),
}
TAKE_FORMAT = (
    "次のひと言（line）と、それに対する{other}の短い反応（reaction）をJSONで返してください。"
    "どちらも1〜2文の自然な話し言葉にします。"
)
DIFF_SYSTEM = (
    "あなたは職場コミュニケーションの講師です。同じ場面を演じた2通りのやり取り（不器用な版と上手な版）を比べ、"
    "違いを2〜4点挙げてください。各点は aspect（{codes} のいずれか）、両方の版からの短い引用（clumsy, skilled: "
    "それぞれの版の発言からそのまま引用）、explanation（なぜ上手な版が良いか）で書き、"
    "最後に summary で全体をまとめます。"
)


class TakeDraft(BaseModel):
    """One take as the model returns it."""

    line: str = Field(min_length=1, max_length=240)
    reaction: str = Field(min_length=1, max_length=240)


class DifferenceDraft(BaseModel):
    aspect: AspectCode
    clumsy: str = Field(min_length=1, max_length=160)
    skilled: str = Field(min_length=1, max_length=160)
    explanation: str = Field(min_length=1, max_length=400)


class DifferencesDraft(BaseModel):
    """The explanation as the model returns it."""

    differences: list[DifferenceDraft] = Field(min_length=1, max_length=4)
    summary: str = Field(min_length=1, max_length=400)


@dataclass(frozen=True, slots=True)
class TakesAnswer:
    skilled: str
    aspects: tuple[str, ...]
    note: str = ""

    def public(self) -> dict[str, Any]:
        return {"skilled": self.skilled, "aspects": list(self.aspects), "note": self.note}


def takes_answer(skilled: Any, aspects: Any, note: Any = "") -> TakesAnswer:
    """A validated answer (InvalidInput with a reason the learner can act on)."""
    if skilled not in ("A", "B"):
        raise InvalidInput("skilled must be 'A' or 'B'")
    if not isinstance(aspects, list) or not all(isinstance(a, str) for a in aspects):
        raise InvalidInput("aspects must be a list of aspect codes")
    unknown = [a for a in aspects if a not in ASPECTS]
    if unknown:
        raise InvalidInput(f"unknown aspects: {unknown!r}")
    if len(set(aspects)) != len(aspects):
        raise InvalidInput("aspects must not repeat")
    if note is None:
        note = ""
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"note must be text of at most {MAX_NOTE_CHARS} characters")
    return TakesAnswer(skilled, tuple(aspects), note.strip())


@dataclass(frozen=True, slots=True)
class Takes:
    id: str
    after_line: int
    speaker: str
    takes: list[dict[str, Any]]  # [{"key": "A"|"B", "lines": [{"speaker", "text"}]}]
    skilled: str  # "A" or "B": secret until answered
    differences: list[dict[str, str]] = field(default_factory=list)
    summary: str = ""
    answer: TakesAnswer | None = None

    def public(self) -> dict[str, Any]:
        """What the learner may see before answering: never which take is skilled or the explanation."""
        return {
            "take_id": self.id,
            "after_line": self.after_line,
            "speaker": self.speaker,
            "takes": [{"key": t["key"], "lines": [dict(x) for x in t["lines"]]} for t in self.takes],
            "aspects": [{"code": code, "label": label} for code, label in ASPECTS.items()],
        }

    @property
    def correct(self) -> bool:
        return self.answer is not None and self.answer.skilled == self.skilled

    def graded(self) -> dict[str, Any]:
        explained = [d["aspect"] for d in self.differences]
        marked = list(self.answer.aspects) if self.answer else []
        return {
            **self.public(),
            "answer": self.answer.public() if self.answer else None,
            "skilled": self.skilled,
            "correct": self.correct,
            "differences": [{**d, "label": ASPECTS.get(d["aspect"], d["aspect"])} for d in self.differences],
            "matched": [a for a in marked if a in explained],
            "missed": [a for a in dict.fromkeys(explained) if a not in marked],
            "summary": self.summary,
        }


@dataclass(frozen=True, slots=True)
class Moment:
    """Who speaks the moment played twice, who reacts, their briefs and the dialogue so far."""

    speaker: str
    other: str
    speaker_brief: str
    lines: Sequence[Message]


def _transcript(lines: Sequence[Message]) -> str:
    return "\n".join(f"{'学習者' if m.role is Role.LEARNER else m.speaker}: {m.text}" for m in lines if m.text)


def _take_text(draft: TakeDraft) -> str:
    return f"{draft.line}\n{draft.reaction}"


def simple_takes(moment: Moment) -> tuple[TakeDraft, TakeDraft, DifferencesDraft]:
    """Deterministic takes about the dialogue (the last line is what both versions answer)."""
    last = next((m.text for m in reversed(moment.lines) if m.text), "")
    topic = f"「{last[:24]}」の件" if last else "この件"
    clumsy = TakeDraft(
        line=f"{topic}ですか…。まあ、そのうちなんとかしますよ。",
        reaction="え、いつ頃になりそうですか…？ 何をすればいいのか分からなくて。",
    )
    skilled = TakeDraft(
        line=f"{topic}ですね。結論から言うと、今日の17時までに私が案をまとめて共有します。{moment.other}のご都合も伺えますか。",
        reaction="ありがとうございます。それなら明日の朝に確認できます。",
    )
    differences = DifferencesDraft(
        differences=[
            DifferenceDraft(
                aspect="conclusion_first",
                clumsy="まあ、そのうちなんとかしますよ",
                skilled="結論から言うと、今日の17時までに私が案をまとめて共有します",
                explanation="上手な版は最初に何をするかを言い切るので、相手はすぐに次の動きを決められます。",
            ),
            DifferenceDraft(
                aspect="specificity",
                clumsy="そのうち",
                skilled="今日の17時までに",
                explanation="期限と担当が具体的なので、相手が「いつ頃？」と聞き返す必要がありません。",
            ),
            DifferenceDraft(
                aspect="consideration",
                clumsy="なんとかしますよ",
                skilled=f"{moment.other}のご都合も伺えますか",
                explanation="相手の都合を尋ねることで、一方的にならず相手を尊重していることが伝わります。",
            ),
        ],
        summary="不器用な版はあいまいで相手を困らせ、上手な版は結論・期限・相手への確認がそろっていて、反応も前向きになりました。",
    )
    return clumsy, skilled, differences


class TakesBook:
    """Makes, stores and grades the good and bad takes of watch runs (``{conversation}/takes/{id}``)."""

    def __init__(self, store: DocumentStore, model: LanguageModel, clock: Clock, sealer: TextSealer) -> None:
        self.store, self.model, self.clock, self.sealer = store, model, clock, sealer

    async def _take(self, conv: Conversation, moment: Moment, manner: Manner) -> tuple[TakeDraft, bool]:
        system = "\n".join([moment.speaker_brief, MANNER_RULES[manner], TAKE_FORMAT.format(other=moment.other)])
        transcript = _transcript(moment.lines[-16:]) or "（まだ誰も話していません）"
        request = GenerationRequest(
            task=ModelTask.WATCH_LINE,
            system=system,
            messages=[ChatMessage(role="user", text=f"これまでの会話:\n{transcript}\n\n{moment.speaker}の次のひと言:")],
            hints={"mode": "watch", "takes": manner},
            user_id=conv.user_id,
        )
        result = await self.model.generate_structured(request, TakeDraft)
        return result.value, result.completion.mode is GenerationMode.SIMPLE

    async def make(self, conv: Conversation, moment: Moment, number: int) -> Takes:
        """Both takes (two calls with the same brief and dialogue) and the explained differences (one call)."""
        clumsy, clumsy_simple = await self._take(conv, moment, "clumsy")
        skilled, skilled_simple = await self._take(conv, moment, "skilled")
        if clumsy_simple or skilled_simple:
            clumsy, skilled, differences = simple_takes(moment)
        else:
            request = GenerationRequest(
                task=ModelTask.QUIZ,
                system=DIFF_SYSTEM.format(codes=", ".join(ASPECTS)),
                messages=[
                    ChatMessage(
                        role="user",
                        text=f"不器用な版:\n{_take_text(clumsy)}\n\n上手な版:\n{_take_text(skilled)}",
                    )
                ],
                hints={"mode": "watch", "takes": "differences"},
                user_id=conv.user_id,
            )
            result = await self.model.generate_structured(request, DifferencesDraft)
            differences = result.value
            if result.completion.mode is GenerationMode.SIMPLE:
                clumsy, skilled, differences = simple_takes(moment)
        skilled_key = "A" if secrets.randbelow(2) == 0 else "B"
        clumsy_key = "B" if skilled_key == "A" else "A"

        def exchange(key: str, draft: TakeDraft) -> dict[str, Any]:
            return {
                "key": key,
                "lines": [
                    {"speaker": moment.speaker, "text": draft.line},
                    {"speaker": moment.other, "text": draft.reaction},
                ],
            }

        shown = sorted([exchange(skilled_key, skilled), exchange(clumsy_key, clumsy)], key=lambda t: str(t["key"]))
        takes = Takes(
            id=f"t{number}",
            after_line=len(moment.lines),
            speaker=moment.speaker,
            takes=shown,
            skilled=skilled_key,
            differences=[d.model_dump() for d in differences.differences],
            summary=differences.summary,
        )
        await self._save(conv, takes)
        return takes

    def _path(self, conv: Conversation, take_id: str) -> str:
        return f"{conv.path}/takes/{take_id}"

    async def _save(self, conv: Conversation, takes: Takes) -> None:
        path = self._path(conv, takes.id)
        body = json.dumps(
            {
                "speaker": takes.speaker,
                "takes": takes.takes,
                "skilled": takes.skilled,
                "differences": takes.differences,
                "summary": takes.summary,
            },
            ensure_ascii=False,
        )
        await self.store.set(
            path,
            {
                "takes": self.sealer.seal(body, context=f"{path}#takes"),
                "after_line": takes.after_line,
                "answer": None,
                "created_at": self.clock.now(),
            },
        )

    async def get(self, conv: Conversation, take_id: str) -> Takes:
        path = self._path(conv, take_id)
        doc = await self.store.get(path) if take_id.isascii() and take_id[1:].isdigit() else None
        if doc is None:
            raise TakesNotFound()
        try:
            body = json.loads(self.sealer.open(doc["takes"], context=f"{path}#takes"))
            note = doc.get("note")
            opened = self.sealer.open(note, context=f"{path}#note") if note else ""
            answer = _answer_of(doc.get("answer"), opened)
            return Takes(id=take_id, after_line=int(doc.get("after_line", 0)), answer=answer, **body)
        except (KeyError, ValueError, TypeError, ValidationError) as exc:
            raise TakesNotFound() from exc

    async def answer(self, conv: Conversation, take_id: str, answer: TakesAnswer) -> Takes:
        takes = await self.get(conv, take_id)
        if takes.answer is not None:
            raise TakesAlreadyAnswered()
        path = self._path(conv, take_id)
        # The learner's free text is theirs: sealed like every stored learner text.
        note = self.sealer.seal(answer.note, context=f"{path}#note") if answer.note else ""
        stored = {"skilled": answer.skilled, "aspects": list(answer.aspects)}
        await self.store.update(path, {"answer": stored, "note": note, "answered_at": self.clock.now()})
        return replace(takes, answer=answer)

    async def all(self, conv: Conversation) -> list[Takes]:
        rows = await self.store.query(f"{conv.path}/takes", order_by="created_at")
        return [await self.get(conv, row.id) for row in rows]

    async def delete_all(self, conv: Conversation) -> None:
        for row in await self.store.query(f"{conv.path}/takes"):
            await self.store.delete(f"{conv.path}/takes/{row.id}")


def _answer_of(raw: Any, note: str) -> TakesAnswer | None:
    if not isinstance(raw, Mapping):
        return None
    return TakesAnswer(str(raw.get("skilled", "")), tuple(str(a) for a in raw.get("aspects") or ()), note)
