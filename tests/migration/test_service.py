"""The migration service: once per session, resumable, safe under concurrency, legacy record untouched."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.clock import ManualClock
from tests.support.legacy import realistic_counts, realistic_session
from workplace_roleplay.domain.conversation.records import ConversationRepository, MessageStatus
from workplace_roleplay.domain.migration.plan import PlannedConversation
from workplace_roleplay.domain.migration.service import MigrationService
from workplace_roleplay.domain.migration.writer import RepositoryConversationWriter
from workplace_roleplay.ports import DocumentStore
from workplace_roleplay.ports.legacy_session import LegacyRecord

UID = "ecd0938e-1430-4046-92aa-5385295c708a"


def record(session: dict[str, object], key: str = "a" * 64) -> LegacyRecord:
    return LegacyRecord(key=key, source="filesystem", data=session)


async def conversations(store: DocumentStore, clock: ManualClock, user_id: str) -> dict[str, int]:
    repo = ConversationRepository(store, clock)
    convs = await repo.list_recent(user_id, limit=100)
    return {c.id: len(await repo.messages(c)) for c in convs}


async def test_a_repeat_answers_the_same_and_writes_nothing_new(
    service: MigrationService, store: DocumentStore, clock: ManualClock
) -> None:
    first = await service.migrate(record(realistic_session(user_id=UID)))
    counts, messages = realistic_counts()
    assert (first.user_id, first.status, first.conversations, first.messages) == (UID, "migrated", counts, messages)
    before = await conversations(store, clock, UID)
    again = await service.migrate(record(realistic_session(user_id=UID)))
    assert again.repeat
    assert (again.user_id, again.status, again.conversations, again.messages) == (UID, "migrated", counts, messages)
    assert await conversations(store, clock, UID) == before


async def test_failed_replies_are_stored_failed_not_as_replies(
    service: MigrationService, store: DocumentStore, clock: ManualClock
) -> None:
    outcome = await service.migrate(record(realistic_session(user_id=UID)))
    repo = ConversationRepository(store, clock)
    chat = await repo.get(UID, outcome.conversation_ids["chat"])
    failed = [m for m in await repo.messages(chat) if m.status is MessageStatus.FAILED]
    assert len(failed) == 1
    assert failed[0].notice == "legacy_error"


async def test_a_generated_user_id_is_kept_across_attempts(service: MigrationService) -> None:
    session = realistic_session()  # no user_id: the legacy app would have minted one lazily
    first = await service.migrate(record(session))
    second = await service.migrate(record(session))
    assert first.user_id == second.user_id
    assert len(first.user_id) == 36


async def test_ten_parallel_migrations_make_one_user_and_no_duplicates(
    service: MigrationService, store: DocumentStore, clock: ManualClock
) -> None:
    session = realistic_session()
    outcomes = await asyncio.gather(*(service.migrate(record(session)) for _ in range(10)))
    assert len({o.user_id for o in outcomes}) == 1
    counts, messages = realistic_counts()
    assert all(o.conversations == counts and o.messages == messages for o in outcomes)
    stored = await conversations(store, clock, outcomes[0].user_id)
    assert len(stored) == sum(counts.values())
    assert sum(stored.values()) == messages
    users = await store.query("users")
    assert [u.id for u in users] == [outcomes[0].user_id]


class FailingOnce(RepositoryConversationWriter):
    """Fails on the second conversation of the first attempt (a store outage mid-migration)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.calls = 0

    async def write(self, user_id: str, conversation_id: str, planned: PlannedConversation) -> None:
        self.calls += 1
        if self.calls == 2:
            raise ConnectionError("store went away")
        await super().write(user_id, conversation_id, planned)


async def test_a_partial_failure_is_resumed_to_completion(store: DocumentStore, clock: ManualClock) -> None:
    service = MigrationService(store=store, clock=clock, writer=FailingOnce(store, clock))
    with pytest.raises(ConnectionError):
        await service.migrate(record(realistic_session(user_id=UID)))
    doc = await store.get(f"legacy_migrations/{'a' * 64}")
    assert doc is not None
    assert doc["status"] == "failed"
    assert "store went away" in doc["error"]
    assert len(await conversations(store, clock, UID)) == 1  # the first conversation got written
    outcome = await service.migrate(record(realistic_session(user_id=UID)))
    counts, messages = realistic_counts()
    assert (outcome.status, outcome.conversations, outcome.messages, outcome.repeat) == (
        "migrated",
        counts,
        messages,
        False,
    )
    stored = await conversations(store, clock, UID)
    assert len(stored) == 3
    assert sum(stored.values()) == messages
    done = await store.get(f"legacy_migrations/{'a' * 64}")
    assert done is not None
    assert (done["status"], done["attempts"], done["error"]) == ("done", 2, None)


async def test_two_sessions_of_one_learner_keep_both_histories(
    service: MigrationService, store: DocumentStore, clock: ManualClock
) -> None:
    await service.migrate(record(realistic_session(user_id=UID), key="a" * 64))
    await service.migrate(record(realistic_session(user_id=UID, seed=1), key="b" * 64))
    assert len(await conversations(store, clock, UID)) == 6
