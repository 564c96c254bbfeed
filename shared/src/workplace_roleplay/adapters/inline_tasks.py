"""The embedded-mode ``TaskQueue``: runs each task's handler in-process, at once (no worker, no HTTP).

Names de-duplicate within the process like Cloud Tasks' task names do; ``results`` counts what each
handler returned (the summary of an embedded bulk run).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping

from workplace_roleplay.ports.tasks import Task

Handler = Callable[[Task], Awaitable[str]]


class InlineTaskQueue:
    def __init__(self, handlers: Mapping[str, Handler]) -> None:
        self.handlers = dict(handlers)
        self.seen: set[str] = set()
        self.results: Counter[str] = Counter()

    async def enqueue(self, task: Task) -> bool:
        if task.name in self.seen:
            return False
        self.seen.add(task.name)
        try:
            result = await self.handlers[task.kind](task)
        except Exception:
            self.results["failed"] += 1
            raise
        self.results[result] += 1
        return True

    async def close(self) -> None:
        return None
