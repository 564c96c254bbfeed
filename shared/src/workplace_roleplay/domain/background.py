"""Work that runs after a turn without holding up the learner (rolling summary, memory extraction).

Inline asyncio tasks, tracked so shutdown (and tests) can wait for them; a failure is logged, never
raised into a request that has already been answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("workplace_roleplay.background")


class BackgroundWork:
    """A set of fire-and-forget tasks that can be drained."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        """Start ``work``; the task is kept referenced until it ends (and can be cancelled)."""
        task = asyncio.create_task(self._guarded(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guarded(self, work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except Exception:
            log.exception("background work failed", extra={"work": name})

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, within_s: float = 30.0) -> None:
        """Wait for the running tasks (and any they spawn) up to ``within_s`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while self._tasks and loop.time() < deadline:
            await asyncio.wait(set(self._tasks), timeout=max(0.0, deadline - loop.time()))
