"""After-conversation reports: the summary and the six-axis feedback report.

Both come from temperature-0 structured generations, are cached in ``ai_cache`` by a hash of the
transcript (the same conversation is never graded twice) and stored: the summary on the conversation,
the report under ``users/{uid}/reports/{id}`` with its text sealed. In the simple-response mode the
rubric is judged by rules over the learner's lines and the result is labelled as simplified.

The cache key is scoped to the learner and the conversation: two learners with the same transcript
(the offline opening is deterministic) must never share an entry, since the cached value carries the
conversation and report ids. The cached value is sealed like the stored report (it quotes the learner).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from typing import Any

from workplace_roleplay import telemetry
from workplace_roleplay.domain.coaching import rubric
from workplace_roleplay.domain.coaching.report_content import (
    ConversationSummary,
    FeedbackDraft,
    report_body,
    simple_advice,
    simple_summary,
)
from workplace_roleplay.domain.conversation.records import Conversation, ConversationRepository, Message, Role
from workplace_roleplay.domain.sealing import PlainSealer, TextSealer
from workplace_roleplay.errors import EncryptionError, InvalidInput
from workplace_roleplay.ports import Cache, Clock, DocumentSnapshot, DocumentStore, Filter
from workplace_roleplay.ports.model import ChatMessage, GenerationMode, GenerationRequest, LanguageModel, ModelTask

CACHE_TTL_S = 7 * 24 * 3600
SCHEMA_VERSION = "v1"
SIMPLE_LABEL = "簡易モード: AIを使わずに、発言の特徴から作成した簡易版です。"


SUMMARY_SYSTEM = """\
職場の雑談練習の会話を振り返ります。user が学習者、model が会話相手です。
summary: 会話の流れを200文字以内で。key_points: 話題や出来事を3つまで。
learning_points: 学習者が次に活かせる点を3つまで。JSONのみ。"""

FEEDBACK_SYSTEM = """\
あなたは職場コミュニケーションの評価者です。user が学習者、model が会話相手（{rank}）です。
次の各チェック項目について、学習者の発言だけを根拠に yes(passed=true)/no を判定してください。
passed=true の場合は evidence に学習者の発言をそのまま引用すること（引用できない場合は false）。
{checks}
strengths: 良かった点を2つ、growth_points: 伸ばせる点を2つ、
tomorrow_action: 明日の職場で試せる具体的な行動を1つ。JSONのみ。"""


def transcript_hash(kind: str, conv: Conversation, messages: Sequence[Message]) -> str:
    body = json.dumps(
        [
            kind,
            SCHEMA_VERSION,
            conv.user_id,
            conv.id,
            conv.mode,
            conv.settings,
            [(m.role.value, m.text) for m in messages],
        ],
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def cache_key(kind: str, conv: Conversation, messages: Sequence[Message]) -> str:
    """``ai_cache:{kind}:{hash}`` of this learner's conversation as it stands."""
    return f"ai_cache:{kind}:{transcript_hash(kind, conv, messages)}"


def reports_path(user_id: str) -> str:
    return f"users/{user_id}/reports"


class Reports:
    """Builds, caches and stores summaries and feedback reports of conversations."""

    def __init__(
        self,
        *,
        store: DocumentStore,
        cache: Cache,
        model: LanguageModel,
        repo: ConversationRepository,
        clock: Clock,
        sealer: TextSealer | None = None,
    ) -> None:
        self.store, self.cache, self.model, self.repo, self.clock = store, cache, model, repo, clock
        self.sealer: TextSealer = sealer or PlainSealer()

    async def _transcript(self, conv: Conversation, *, learner_needed: bool = True) -> list[Message]:
        messages = [m for m in await self.repo.messages(conv) if m.text]
        if not any(m.role is Role.LEARNER for m in messages) if learner_needed else not messages:
            raise InvalidInput("nothing to review yet")
        return messages

    async def _cached(self, key: str) -> dict[str, Any] | None:
        raw = await self.cache.get(key)
        if raw is None:
            return None
        try:
            value = json.loads(self.sealer.open(json.loads(raw), context=key))
        except (ValueError, EncryptionError):
            # An entry of an older shape, or sealed under a retired key: a miss, overwritten below.
            return None
        return value if isinstance(value, dict) else None

    async def _remember(self, key: str, value: dict[str, Any]) -> None:
        sealed = self.sealer.seal(json.dumps(value, ensure_ascii=False), context=key)
        await self.cache.set(key, json.dumps(sealed).encode(), ttl=CACHE_TTL_S)

    def _request(
        self, task: ModelTask, system: str, conv: Conversation, messages: Sequence[Message]
    ) -> GenerationRequest:
        return GenerationRequest(
            task=task,
            system=system,
            messages=[ChatMessage(role="user" if m.role is Role.LEARNER else "model", text=m.text) for m in messages],
            temperature=0.0,
            hints={"mode": conv.mode, **conv.settings},
            user_id=conv.user_id,
        )

    async def summary(self, conv: Conversation, *, rank: str, learner_needed: bool = True) -> dict[str, Any]:
        """Summary, key points and learning points of a conversation (of a watched one: ``learner_needed``
        false, as the learner may only have watched)."""
        messages = await self._transcript(conv, learner_needed=learner_needed)
        key = cache_key("summary", conv, messages)
        cached = await self._cached(key)
        if cached is None:
            result = await self.model.generate_structured(
                self._request(ModelTask.SUMMARY, SUMMARY_SYSTEM, conv, messages), ConversationSummary
            )
            simple = result.completion.mode is GenerationMode.SIMPLE
            value = simple_summary(messages, rank) if simple else result.value
            cached = {
                **value.model_dump(),
                "simple_mode": simple,
                "notice": SIMPLE_LABEL if simple else "",
                "model": result.completion.model,
                "created_at": self.clock.now(),
            }
            telemetry.CONVERSATION_REPORTS.labels("summary", "simple" if simple else "model").inc()
            await self._remember(key, cached)
            await self.store.update(
                conv.path,
                {
                    "summary_report": self.sealer.seal(
                        json.dumps(cached, ensure_ascii=False), context=f"{conv.path}#report"
                    )
                },
            )
            return {**cached, "conversation_id": conv.id, "cached": False}
        telemetry.CONVERSATION_REPORTS.labels("summary", "cache").inc()
        return {**cached, "conversation_id": conv.id, "cached": True}

    async def feedback(self, conv: Conversation, *, rank: str) -> dict[str, Any]:
        """The six-axis report: checks with quoted evidence, scores derived from them, advice."""
        messages = await self._transcript(conv)
        key = cache_key("feedback", conv, messages)
        cached = await self._cached(key)
        if cached is not None:
            telemetry.CONVERSATION_REPORTS.labels("feedback", "cache").inc()
            return {**cached, "cached": True}
        learner_lines = [m.text for m in messages if m.role is Role.LEARNER]
        checks_text = "\n".join(f"- {c.id} [{rubric.AXES[c.axis]}] {c.question}" for c in rubric.CHECKS)
        system = FEEDBACK_SYSTEM.format(rank=rank, checks=checks_text)
        result = await self.model.generate_structured(
            self._request(ModelTask.FEEDBACK_REPORT, system, conv, messages), FeedbackDraft
        )
        simple = result.completion.mode is GenerationMode.SIMPLE
        telemetry.CONVERSATION_REPORTS.labels("feedback", "simple" if simple else "model").inc()
        if simple:
            counterpart_lines = [m.text for m in messages if m.role is Role.COUNTERPART]
            judgements = rubric.rule_based_judgements(learner_lines, counterpart_lines, rank)
            strengths, growth, action = simple_advice(judgements)
        else:
            by_id = {v.id: v for v in result.value.checks}
            judgements = [
                rubric.Judgement(c.id, by_id[c.id].passed, by_id[c.id].evidence)
                if c.id in by_id
                else rubric.Judgement(c.id, False, "")
                for c in rubric.CHECKS
            ]
            strengths, growth = result.value.strengths[:2], result.value.growth_points[:2]
            action = result.value.tomorrow_action
        report = report_body(conv, judgements, learner_lines, strengths, growth, action)
        report.update(
            simple_mode=simple,
            notice=SIMPLE_LABEL if simple else "",
            model=result.completion.model,
            created_at=self.clock.now(),
            report_id="r" + secrets.token_hex(8),
        )
        await self._save_report(conv, report)
        await self._remember(key, report)
        return {**report, "cached": False}

    async def _save_report(self, conv: Conversation, report: dict[str, Any]) -> None:
        path = f"{reports_path(conv.user_id)}/{report['report_id']}"
        fields = {k: report[k] for k in ("scores", "simple_mode", "model", "created_at")}
        sealed = self.sealer.seal(json.dumps(report, ensure_ascii=False), context=path)
        await self.store.set(path, {"conversation_id": conv.id, "mode": conv.mode, **fields, "report": sealed})

    async def stored_summary(self, conv: Conversation) -> dict[str, Any] | None:
        """The summary last stored on the conversation (no model call), or None."""
        doc = await self.store.get(conv.path) or {}
        sealed = doc.get("summary_report")
        if not sealed:
            return None
        value: dict[str, Any] = json.loads(self.sealer.open(sealed, context=f"{conv.path}#report"))
        return {**value, "conversation_id": conv.id, "cached": True}

    async def stored_feedback(self, conv: Conversation) -> dict[str, Any] | None:
        """The newest stored feedback report of the conversation (no model call), or None."""
        rows = await self._reports_of(conv)
        if not rows:
            return None
        newest = max(rows, key=lambda row: float(str(row.data.get("created_at") or 0)))
        value: dict[str, Any] = json.loads(self.sealer.open(newest.data.get("report"), context=newest.path))
        return {**value, "cached": True}

    async def forget(self, conv: Conversation, messages: Sequence[Message]) -> None:
        """Delete the conversation's stored reports and the cache entries of its current transcript.

        Entries cached at earlier points of the conversation are keyed by transcripts that no longer
        exist: they are sealed, unreachable (the conversation id is gone) and expire with their TTL.
        """
        for row in await self._reports_of(conv):
            await self.store.delete(row.path)
        reviewable = [m for m in messages if m.text]
        await self.cache.delete(cache_key("summary", conv, reviewable), cache_key("feedback", conv, reviewable))

    async def _reports_of(self, conv: Conversation) -> list[DocumentSnapshot]:
        return await self.store.query(reports_path(conv.user_id), where=[Filter("conversation_id", "==", conv.id)])


# The drafts' schemas live in report_content.py; importing them from here keeps working.
__all__ = ["ConversationSummary", "FeedbackDraft", "Reports", "cache_key", "reports_path", "transcript_hash"]
