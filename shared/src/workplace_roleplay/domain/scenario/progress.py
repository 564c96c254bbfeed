"""The learner's status per scenario (shown in the list): not started, in progress, completed.

Stored at ``users/{uid}/scenario_progress/{scenario_id}``; the play use cases (built on the conversation
engine) call ``started`` when a session starts and ``completed`` when its report is made. The list
reads all of a learner's entries with one query.
"""

from __future__ import annotations

from enum import StrEnum

from workplace_roleplay.ports import Clock, DocumentStore, Transaction

PROGRESS = "scenario_progress"
MAX_ENTRIES = 500


class ScenarioStatus(StrEnum):
    LOCKED = "locked"  # needs consent first (the list shows title and category only)
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"  # at least one session finished with a report


STATUS_LABELS = {
    ScenarioStatus.LOCKED: "同意が必要",
    ScenarioStatus.NOT_STARTED: "未挑戦",
    ScenarioStatus.IN_PROGRESS: "練習中",
    ScenarioStatus.COMPLETED: "完了",
}


class ScenarioProgress:
    """Per-learner scenario status."""

    def __init__(self, store: DocumentStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def _path(self, user_id: str, scenario_id: str) -> str:
        return f"users/{user_id}/{PROGRESS}/{scenario_id}"

    async def statuses(self, user_id: str) -> dict[str, ScenarioStatus]:
        """Every scenario this learner has touched and its status (others are not started)."""
        docs = await self.store.query(f"users/{user_id}/{PROGRESS}", limit=MAX_ENTRIES)
        found: dict[str, ScenarioStatus] = {}
        for doc in docs:
            try:
                found[doc.id] = ScenarioStatus(str(doc.data.get("status")))
            except ValueError:
                continue
        return found

    async def started(self, user_id: str, scenario_id: str) -> None:
        await self._bump(user_id, scenario_id, "started")

    async def completed(self, user_id: str, scenario_id: str) -> None:
        await self._bump(user_id, scenario_id, "completed")

    async def _bump(self, user_id: str, scenario_id: str, event: str) -> None:
        path, now = self._path(user_id, scenario_id), self.clock.now()

        async def apply(tx: Transaction) -> None:
            doc = await tx.get(path) or {"scenario_id": scenario_id, "started": 0, "completed": 0}
            doc[event] = int(doc.get(event) or 0) + 1
            done = int(doc.get("completed") or 0) > 0
            doc["status"] = (ScenarioStatus.COMPLETED if done else ScenarioStatus.IN_PROGRESS).value
            doc["updated_at"] = now
            tx.set(path, doc)

        await self.store.run_transaction(apply)
