"""How conversations and messages are laid out in documents, and which of their fields are sealed.

Everything that retells what the learner said is sealed at rest (ADR 0006): message content, each
message's coaching analysis, the conversation's title and rolling summary, each bound to its document
path and field. ``key_rotation.py`` lists the same fields and contexts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from workplace_roleplay.domain.conversation.model import Conversation, Message, MessageStatus, Role, conversation_path
from workplace_roleplay.domain.sealing import TextSealer
from workplace_roleplay.ports import JsonValue


class DocumentCodec:
    """Conversation and message records to and from their (sealed) documents."""

    def __init__(self, sealer: TextSealer) -> None:
        self.sealer = sealer

    def seal_analysis(self, path: str, analysis: Mapping[str, Any] | None) -> JsonValue:
        if analysis is None:
            return None
        return self.sealer.seal(json.dumps(dict(analysis), ensure_ascii=False), context=f"{path}#analysis")

    def open_analysis(self, path: str, value: JsonValue) -> dict[str, Any] | None:
        if value is None:
            return None
        opened = json.loads(self.sealer.open(value, context=f"{path}#analysis"))
        return opened if isinstance(opened, dict) else None

    def message_doc(self, conv: Conversation, m: Message) -> dict[str, JsonValue]:
        path = f"{conv.path}/messages/{m.id}"
        return {
            "role": m.role.value,
            "speaker": m.speaker,
            "content": self.sealer.seal(m.text, context=path),
            "created_at": m.created_at,
            "turn_id": m.turn_id,
            "status": m.status.value,
            "client_message_id": m.client_message_id,
            "model": m.model,
            "simple_mode": m.simple_mode,
            "usage": {"input_tokens": m.input_tokens, "output_tokens": m.output_tokens},
            "analysis": self.seal_analysis(path, m.analysis),
            "notice": m.notice,
        }

    def message_from(self, conv: Conversation, message_id: str, d: Mapping[str, Any]) -> Message:
        usage = d.get("usage") or {}
        path = f"{conv.path}/messages/{message_id}"
        return Message(
            id=message_id,
            role=Role(d.get("role", Role.LEARNER.value)),
            text=self.sealer.open(d.get("content", ""), context=path),
            created_at=float(d.get("created_at", 0.0)),
            turn_id=str(d.get("turn_id", "")),
            speaker=str(d.get("speaker", "")),
            status=MessageStatus(d.get("status", MessageStatus.COMPLETE.value)),
            client_message_id=str(d.get("client_message_id", "")),
            model=str(d.get("model", "")),
            simple_mode=bool(d.get("simple_mode", False)),
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            analysis=self.open_analysis(path, d.get("analysis")),
            notice=str(d.get("notice", "")),
        )

    def conversation_doc(self, c: Conversation) -> dict[str, JsonValue]:
        return {
            "mode": c.mode,
            "settings": dict(c.settings),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "coaching": c.coaching,
            "turn_count": c.turn_count,
            "title": self.sealer.seal(c.title, context=f"{c.path}#title"),
            "rolling_summary": self.sealer.seal(c.rolling_summary, context=f"{c.path}#summary"),
            "summary_through": c.summary_through,
            "extra": dict(c.extra),
            "parent_id": c.parent_id,
            "root_id": c.root_id or c.id,
            "forked_at_turn": c.forked_at_turn,
        }

    def conversation_from(self, user_id: str, conversation_id: str, d: Mapping[str, Any]) -> Conversation:
        path = conversation_path(user_id, conversation_id)
        return Conversation(
            id=conversation_id,
            user_id=user_id,
            mode=str(d.get("mode", "chat")),
            settings={str(k): str(v) for k, v in (d.get("settings") or {}).items()},
            created_at=float(d.get("created_at", 0.0)),
            updated_at=float(d.get("updated_at", 0.0)),
            coaching=bool(d.get("coaching", True)),
            turn_count=int(d.get("turn_count", 0)),
            title=self.sealer.open(d.get("title", ""), context=f"{path}#title"),
            rolling_summary=self.sealer.open(d.get("rolling_summary", ""), context=f"{path}#summary"),
            summary_through=float(d.get("summary_through", 0.0)),
            extra=dict(d.get("extra") or {}),
            parent_id=str(d.get("parent_id", "")),
            root_id=str(d.get("root_id", "") or conversation_id),
            forked_at_turn=int(d.get("forked_at_turn", 0)),
        )
