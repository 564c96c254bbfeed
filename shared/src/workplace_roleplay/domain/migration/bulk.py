"""Migrating one stored session by reference (the task handler), and the bulk run that enqueues them all.

A bulk run lists the source's stored sessions and enqueues one task per session, named from its
migration key so a re-run does not queue duplicates; the worker (or the inline queue in embedded mode)
calls ``migrate_ref``. Outcomes are counted in ``legacy_sessions_migrated_total{result}``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from workplace_roleplay import telemetry
from workplace_roleplay.domain.migration.service import MigrationOutcome, MigrationService
from workplace_roleplay.errors import LegacySessionInvalid, LegacySessionNotFound
from workplace_roleplay.ports import Clock
from workplace_roleplay.ports.legacy_session import LegacySessionSource
from workplace_roleplay.ports.tasks import Task, TaskQueue

Result = Literal["migrated", "nothing_to_migrate", "repeat", "not_found", "invalid", "failed"]
TASK_KIND = "session"


def _count(result: Result) -> Result:
    telemetry.LEGACY_MIGRATIONS.labels(result=result).inc()
    return result


async def migrate_cookie(service: MigrationService, source: LegacySessionSource, value: str) -> MigrationOutcome:
    """Migrate the session a browser's ``session`` cookie names (raises for absent, expired or invalid)."""
    try:
        record = await source.read(value, now=service.clock.now())
    except LegacySessionInvalid:
        _count("invalid")
        raise
    if record is None:
        _count("not_found")
        raise LegacySessionNotFound()
    return await service.migrate(record)


async def migrate_ref(
    service: MigrationService, source: LegacySessionSource, ref: str
) -> tuple[Result, MigrationOutcome | None]:
    """Migrate the session stored under ``ref`` (what a bulk task carries)."""
    try:
        record = await source.read_ref(ref, now=service.clock.now())
    except LegacySessionInvalid:
        return _count("invalid"), None
    if record is None:
        return _count("not_found"), None
    outcome = await service.migrate(record)  # counts migrated / nothing_to_migrate / repeat / failed itself
    return ("repeat" if outcome.repeat else outcome.status), outcome


def task_for(source: LegacySessionSource, ref: str, headers: Mapping[str, str]) -> Task:
    """The task migrating ``ref``; its name is derived from the session's migration key (de-duplication)."""
    return Task(name=f"legacy-{source.key_of(ref)}", kind=TASK_KIND, payload={"ref": ref}, headers=dict(headers))


@dataclass
class BulkReport:
    """The summary a bulk run prints."""

    listed: int = 0
    results: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.listed / self.seconds if self.seconds > 0 else 0.0


Progress = Callable[[BulkReport], None]


async def enqueue_all(
    source: LegacySessionSource,
    queue: TaskQueue,
    *,
    headers: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    every: int = 50,
) -> BulkReport:
    """One task per stored session; ``results`` counts ``enqueued`` and ``duplicate`` (already queued)."""
    report = BulkReport()
    started = time.perf_counter()
    async for ref in source.refs():
        report.listed += 1
        fresh = await queue.enqueue(task_for(source, ref, headers or {}))
        report.results["enqueued" if fresh else "duplicate"] += 1
        if progress and report.listed % every == 0:
            report.seconds = time.perf_counter() - started
            progress(report)
    report.seconds = time.perf_counter() - started
    return report


async def dry_run(
    service: MigrationService, source: LegacySessionSource, clock: Clock, *, progress: Progress | None = None
) -> BulkReport:
    """Read and transform every stored session, write nothing; ``results`` by what would happen."""
    report = BulkReport()
    started = time.perf_counter()
    async for ref in source.refs():
        report.listed += 1
        try:
            record = await source.read_ref(ref, now=clock.now())
        except LegacySessionInvalid:
            report.results["invalid"] += 1
            continue
        if record is None:
            report.results["not_found"] += 1
            continue
        plan = await service.plan(record, "(generated at migration)")
        report.results["migrated" if plan.has_content else "nothing_to_migrate"] += 1
        report.results["messages"] += plan.message_count
        if progress and report.listed % 50 == 0:
            report.seconds = time.perf_counter() - started
            progress(report)
    report.seconds = time.perf_counter() - started
    return report
