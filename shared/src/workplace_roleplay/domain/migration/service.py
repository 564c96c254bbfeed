"""Applies the transform once per legacy session: ``legacy_migrations/{key}`` guards it (ADR 0016).

1. **Claim**: read the record; ``done`` → answer from it (a repeat). Absent → ``create`` it ``running``
   with the user id (the session's, or one generated now and kept for every later attempt); ``create`` is
   atomic, so racing requests all adopt the winner's user id. ``failed`` → a transaction takes it over
   (attempts + 1). Then create or update ``users/{user_id}`` (kind ``legacy``, the carried CSRF token).
2. **Write** the conversations and the progress document with ids derived from the key: racing or
   resumed attempts overwrite the same documents, so nothing is duplicated.
3. **Finish** (one transaction): ``done`` with the counts. A failure marks the record ``failed`` with the
   error; the next attempt starts again at 1 and completes it.

The legacy record itself is never written: sources are read-only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from workplace_roleplay import telemetry
from workplace_roleplay.domain.migration.plan import MODES, MigrationPlan
from workplace_roleplay.domain.migration.transform import TransformOptions, transform
from workplace_roleplay.domain.migration.writer import ConversationWriter, conversation_id_for
from workplace_roleplay.errors import AlreadyExists, Conflict
from workplace_roleplay.ports import Clock, DocumentStore, JsonValue, Transaction
from workplace_roleplay.ports.legacy_session import LegacyRecord

MIGRATIONS = "legacy_migrations"
Status = Literal["migrated", "nothing_to_migrate"]


class UserDataLookup(Protocol):
    async def __call__(self, user_id: str) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class MigrationOutcome:
    """What one session became (the same on every repeat, except ``repeat``)."""

    key: str
    user_id: str
    status: Status
    conversations: dict[str, int]
    messages: int
    repeat: bool = False
    conversation_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Claim:
    user_id: str
    done: dict[str, Any] | None


class MigrationService:
    def __init__(
        self,
        *,
        store: DocumentStore,
        clock: Clock,
        writer: ConversationWriter,
        options: TransformOptions | None = None,
        user_data: UserDataLookup | None = None,
        new_user_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.store = store
        self.clock = clock
        self.writer = writer
        self.options = options or TransformOptions()
        self.user_data = user_data
        self.new_user_id = new_user_id

    async def migrate(self, record: LegacyRecord) -> MigrationOutcome:
        """Migrate ``record`` (idempotent; safe to run concurrently for the same session)."""
        claim = await self._claim(record)
        if claim.done is not None:
            telemetry.LEGACY_MIGRATIONS.labels(result="repeat").inc()
            return _outcome(record.key, claim.done, repeat=True)
        try:
            plan = await self.plan(record, claim.user_id)
            ids = await self._write(record.key, plan)
        except Exception as exc:
            await self.store.set(
                f"{MIGRATIONS}/{record.key}",
                {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:500], "failed_at": self.clock.now()},
                merge=True,
            )
            telemetry.LEGACY_MIGRATIONS.labels(result="failed").inc()
            raise
        doc = await self._finish_once(record.key, plan, ids)
        outcome = _outcome(record.key, doc, repeat=False)
        telemetry.LEGACY_MIGRATIONS.labels(result=outcome.status).inc()
        return outcome

    async def plan(self, record: LegacyRecord, user_id_if_absent: str) -> MigrationPlan:
        """The transform of ``record`` (also what ``--dry-run`` shows); reads the server-side user data."""
        uid = record.data.get("user_id")
        user_data = await self.user_data(uid) if self.user_data and isinstance(uid, str) and uid else None
        options = TransformOptions(self.options.zone, self.options.scenarios, fallback_time=self.clock.now())
        return transform(record.data, user_id_if_absent=user_id_if_absent, user_data=user_data, options=options)

    async def _claim(self, record: LegacyRecord) -> _Claim:
        """The user id this session migrates to; ``done`` set when it was migrated already.

        Creating the record is the atomic step (``create`` fails for every racing request but one); they all
        then use the winner's user id. A ``failed`` record is taken over in a transaction (attempts + 1).
        """
        path = f"{MIGRATIONS}/{record.key}"
        doc = await self.store.get(path)
        if doc is None:
            session_uid = record.data.get("user_id")
            user_id = session_uid if isinstance(session_uid, str) and session_uid else self.new_user_id()
            try:
                await self.store.create(path, self._running(record, user_id))
            except AlreadyExists:
                doc = await self.store.get(path)
        if doc is not None:
            if doc.get("status") == "done":
                return _Claim(str(doc["user_id"]), doc)
            user_id = str(doc["user_id"])
            if doc.get("status") == "failed":
                resumed = await self.store.run_transaction(lambda tx: self._resume(tx, path))
                if resumed is not None:
                    return _Claim(user_id, resumed)
        await self._ensure_user(record, user_id)
        return _Claim(user_id, None)

    def _running(self, record: LegacyRecord, user_id: str) -> dict[str, JsonValue]:
        now = self.clock.now()
        return {
            "status": "running",
            "user_id": user_id,
            "source": record.source,
            "attempts": 1,
            "started_at": now,
            "updated_at": now,
            "legacy_expires_at": record.expires_at,
        }

    async def _resume(self, tx: Transaction, path: str) -> dict[str, Any] | None:
        doc = await tx.get(path)
        if doc is not None and doc.get("status") == "done":
            return doc
        attempts = int((doc or {}).get("attempts", 0)) + 1
        tx.update(path, {"status": "running", "attempts": attempts, "updated_at": self.clock.now()})
        return None

    async def _ensure_user(self, record: LegacyRecord, user_id: str) -> None:
        now = self.clock.now()
        try:
            await self.store.create(f"users/{user_id}", _user_fields(record, user_id, now, exists=False))
        except AlreadyExists:
            await self.store.set(f"users/{user_id}", _user_fields(record, user_id, now, exists=True), merge=True)

    async def _write(self, key: str, plan: MigrationPlan) -> dict[str, str]:
        ids: dict[str, str] = {}
        for planned in plan.conversations:
            ids[planned.key] = conversation_id_for(key, planned.key)
            await self.writer.write(plan.user_id, ids[planned.key], planned)
        if plan.consents:
            await self.store.set(f"users/{plan.user_id}", {"consents": plan.consents}, merge=True)
        if not plan.progress.empty:
            progress = plan.progress
            await self.store.set(
                f"users/{plan.user_id}/progress/legacy-{key[:16]}",
                {
                    "strength_history": progress.strength_history,
                    "quiz_results": progress.quiz_results,
                    "last_quiz": progress.last_quiz,
                    "user_data": progress.user_data,
                    "migration": key,
                },
            )
        return ids

    async def _finish_once(self, key: str, plan: MigrationPlan, ids: dict[str, str]) -> dict[str, Any]:
        path = f"{MIGRATIONS}/{key}"
        current = await self.store.get(path)
        if current is not None and current.get("status") == "done":
            return current  # a racing attempt finished first: its answer is the answer
        try:
            return await self.store.run_transaction(lambda tx: self._finish(tx, key, plan, ids))
        except Conflict:
            # Racing attempts contend on the record. Every one of them computed the same result from the same
            # session, so when none got through, writing it outright is as correct as the transaction.
            current = await self.store.get(path)
            if current is not None and current.get("status") == "done":
                return current
            result = self._done(current, plan, ids)
            await self.store.set(path, result)
            return result

    def _done(self, doc: Mapping[str, Any] | None, plan: MigrationPlan, ids: dict[str, str]) -> dict[str, JsonValue]:
        return {
            **(doc or {}),
            "status": "done",
            "outcome": "migrated" if plan.has_content else "nothing_to_migrate",
            "user_id": plan.user_id,
            "user_id_generated": plan.user_id_generated,
            "conversations": plan.counts(),
            "conversation_ids": ids,
            "messages": plan.message_count,
            "dropped_keys": list(plan.dropped),
            "unknown_keys": sorted(plan.unknown),  # names only: values may retell the learner
            "skipped_empty_scenarios": list(plan.skipped_empty_scenarios),
            "finished_at": self.clock.now(),
            "error": None,
        }

    async def _finish(self, tx: Transaction, key: str, plan: MigrationPlan, ids: dict[str, str]) -> dict[str, Any]:
        path = f"{MIGRATIONS}/{key}"
        doc = await tx.get(path)
        if doc is not None and doc.get("status") == "done":
            return doc  # a racing attempt finished first: its answer is the answer
        result = self._done(doc, plan, ids)
        tx.set(path, result)
        return result


def _user_fields(record: LegacyRecord, user_id: str, now: float, *, exists: bool) -> dict[str, JsonValue]:
    data = record.data
    fields: dict[str, JsonValue] = {"legacy": {"migrated_from": record.key, "source": record.source}}
    if isinstance(data.get("csrf_token"), str):
        fields["legacy"]["csrf_token"] = data["csrf_token"]
    if not exists:
        fields.update({"user_id": user_id, "kind": "legacy", "created_at": now, "last_seen_at": now})
    return fields


def _outcome(key: str, doc: Mapping[str, Any], *, repeat: bool) -> MigrationOutcome:
    counts = doc.get("conversations") or {}
    return MigrationOutcome(
        key=key,
        user_id=str(doc["user_id"]),
        status="migrated" if doc.get("outcome") == "migrated" else "nothing_to_migrate",
        conversations={mode: int(counts.get(mode, 0)) for mode in MODES},
        messages=int(doc.get("messages", 0)),
        repeat=repeat,
        conversation_ids={str(k): str(v) for k, v in (doc.get("conversation_ids") or {}).items()},
    )
