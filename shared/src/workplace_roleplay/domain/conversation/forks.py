"""Branching: fork a conversation at a learner turn, and read a fork family's reports side by side."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from workplace_roleplay.domain.coaching.reports import Reports
from workplace_roleplay.domain.conversation.records import Conversation, ConversationRepository, Message, Role
from workplace_roleplay.errors import ConversationNotFound, InvalidInput


@dataclass(frozen=True, slots=True)
class FamilyMember:
    """One conversation of a fork family with its newest stored feedback report (None if none yet)."""

    conversation: Conversation
    feedback: dict[str, Any] | None


def history_before_turn(messages: list[Message], turn: int) -> list[Message]:
    """Every message before the learner's ``turn``-th line (1-based): what a fork at that turn keeps."""
    learner_lines = [m for m in messages if m.role is Role.LEARNER]
    if not 1 <= turn <= len(learner_lines):
        raise InvalidInput(f"turn must be between 1 and {len(learner_lines)}")
    cut = messages.index(learner_lines[turn - 1])
    return messages[:cut]


async def fork(repo: ConversationRepository, parent: Conversation, *, at_turn: int) -> Conversation:
    """A new conversation with ``parent``'s history up to (not including) learner turn ``at_turn``;
    the learner says that turn again from there. The copy keeps message ids, speakers and analyses."""
    kept = history_before_turn(await repo.messages(parent), at_turn)
    child = await repo.create(
        parent.user_id,
        mode=parent.mode,
        settings=parent.settings,
        coaching=parent.coaching,
        title=parent.title,
        parent=parent,
        at_turn=at_turn,
    )
    for message in kept:
        await repo.save(child, replace(message))
    await repo.update(child, turn_count=at_turn - 1)
    return child


async def family(repo: ConversationRepository, reports: Reports, conv: Conversation) -> list[FamilyMember]:
    """The root of ``conv``'s family and every fork of it (oldest first), each with its stored report."""
    root_id = conv.root_id or conv.id
    try:
        root = await repo.get(conv.user_id, root_id, mode=conv.mode)
    except ConversationNotFound:
        root = None  # the original was deleted; its forks still compare with each other
    members = await repo.list_recent(conv.user_id, limit=100, mode=conv.mode, root_id=root_id)
    found = {m.id: m for m in members}
    if root is not None:
        found[root.id] = root
    ordered = sorted(found.values(), key=lambda c: c.created_at)
    return [FamilyMember(c, await reports.stored_feedback(c)) for c in ordered]
