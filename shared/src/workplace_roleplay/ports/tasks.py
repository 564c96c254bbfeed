"""The task-queue port: background work handed to a worker (Cloud Tasks in the cloud, inline embedded)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Task:
    """One unit of background work.

    ``name`` de-duplicates (Cloud Tasks refuses a second task with the same name for about an hour); ``kind``
    selects the handler (the worker route ``/api/v2/migrate/tasks/{kind}``); ``payload`` is its JSON body;
    ``headers`` carry the trace context.
    """

    name: str
    kind: str
    payload: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


class TaskQueue(Protocol):
    """Enqueues tasks. ``enqueue`` returns False when a task of that name already exists (a duplicate)."""

    async def enqueue(self, task: Task) -> bool: ...

    async def close(self) -> None: ...
