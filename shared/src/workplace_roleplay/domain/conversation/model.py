"""A conversation and its messages as the engine holds them, and the ids a turn's messages derive from.

A turn's messages get ids derived from the turn id (``{turn}-l`` learner, ``{turn}-r``, ``-r2``... the
characters), and the turn id is derived from the client's ``client_message_id``: storing the learner
line with ``create`` is therefore the idempotency check itself (docs/architecture.md, Data).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    LEARNER = "learner"
    COUNTERPART = "counterpart"


class MessageStatus(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"  # the stream broke off (disconnect or model failure); the text is what arrived
    FAILED = "failed"  # nothing usable arrived


@dataclass
class Conversation:
    """One practice conversation (chat, scenario or watch) of one learner."""

    id: str
    user_id: str
    mode: str
    settings: dict[str, str]
    created_at: float
    updated_at: float
    coaching: bool = True
    turn_count: int = 0
    title: str = ""
    rolling_summary: str = ""
    summary_through: float = 0.0  # created_at of the newest message the rolling summary covers
    extra: dict[str, Any] = field(default_factory=dict)
    # Branching: a fork records the conversation it was forked from, the family's root and the learner
    # turn (1-based) it was forked at; empty/0 for an original.
    parent_id: str = ""
    root_id: str = ""
    forked_at_turn: int = 0

    @property
    def path(self) -> str:
        return conversation_path(self.user_id, self.id)


@dataclass
class Message:
    """One line of a conversation as stored."""

    id: str
    role: Role
    text: str
    created_at: float
    turn_id: str
    speaker: str = ""
    status: MessageStatus = MessageStatus.COMPLETE
    client_message_id: str = ""
    model: str = ""
    simple_mode: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    analysis: dict[str, Any] | None = None
    notice: str = ""


def conversation_path(user_id: str, conversation_id: str) -> str:
    return f"users/{user_id}/conversations/{conversation_id}"


def turn_id_for(conversation_id: str, client_message_id: str) -> str:
    """The turn id a client message id maps to (stable, so a retry finds the stored turn)."""
    if not client_message_id:
        return "t" + secrets.token_hex(12)
    digest = hashlib.sha256(f"{conversation_id}\x00{client_message_id}".encode()).hexdigest()
    return "t" + digest[:24]


def learner_message_id(turn_id: str) -> str:
    return f"{turn_id}-l"


def reply_message_id(turn_id: str, index: int = 0) -> str:
    """The id of a turn's ``index``-th character line (``-r``, then ``-r2``, ``-r3``...)."""
    return f"{turn_id}-r" if index == 0 else f"{turn_id}-r{index + 1}"
