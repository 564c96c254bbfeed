"""``make ops ARGS="migrate-sessions --source … --env …"``: migrate every stored legacy session.

``--env local``: embedded, the inline queue migrates each session in this process into the store the
service settings select (``DATA_DIR``'s SQLite, or ``FIRESTORE_EMULATOR_HOST``). ``--env dev|staging|prod``:
one Cloud Tasks task per session (``TASKS_QUEUE``, ``TASKS_WORKER_URL``, ``TASKS_INVOKER_EMAIL`` and
Google credentials in the environment); the private worker, whose own ``LEGACY_SESSION_SOURCE`` reads the
same files, migrates them. ``--dry-run`` reads and transforms every session and writes nothing.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable

from workplace_roleplay.adapters.inline_tasks import InlineTaskQueue
from workplace_roleplay.bootstrap import build_legacy_source, open_resources
from workplace_roleplay.domain.migration.bulk import BulkReport, dry_run, enqueue_all
from workplace_roleplay.settings import MigrateSessionSettings

Printer = Callable[[str], None]


def _progress(out: Printer) -> Callable[[BulkReport], None]:
    def show(report: BulkReport) -> None:
        out(f"  … {report.listed} sessions, {report.rate:.0f}/s, {dict(report.results)}")

    return show


def trace_headers() -> dict[str, str]:
    """A W3C trace context for this run; every task carries it, so the worker's spans join one trace."""
    trace, span = secrets.token_hex(16), secrets.token_hex(8)
    return {"traceparent": f"00-{trace}-{span}-01", "X-Cloud-Trace-Context": f"{trace}/{int(span, 16)};o=1"}


def summary(report: BulkReport, results: Counter[str], *, label: str) -> str:
    by = ", ".join(f"{k}={v}" for k, v in sorted(results.items())) or "nothing"
    return f"{label}: {report.listed} session(s) in {report.seconds:.2f} s ({report.rate:.1f}/s); {by}"


async def migrate_sessions(source: str, *, env: str, dry: bool, out: Printer = print) -> BulkReport:
    if env == "local":
        settings = MigrateSessionSettings(LEGACY_SESSION_SOURCE=source, TASKS_BACKEND="inline")
        return await migrate_embedded(settings, dry=dry, out=out)
    settings = MigrateSessionSettings(ENV="local", LEGACY_SESSION_SOURCE=source, TASKS_BACKEND="cloud_tasks")
    legacy = build_legacy_source(settings)
    assert legacy is not None
    from workplace_roleplay.adapters.cloud_tasks import CloudTasksQueue

    queue = CloudTasksQueue.build(
        queue=settings.TASKS_QUEUE, worker_url=settings.TASKS_WORKER_URL, invoker_email=settings.TASKS_INVOKER_EMAIL
    )
    try:
        report = await enqueue_all(legacy, queue, headers=trace_headers(), progress=_progress(out))
    finally:
        await queue.close()
        await legacy.close()
    out(summary(report, report.results, label=f"enqueued on {settings.TASKS_QUEUE}"))
    out("outcomes: legacy_sessions_migrated_total{result} on the dashboard (panel 'Legacy sessions migrated')")
    return report


async def migrate_embedded(settings: MigrateSessionSettings, *, dry: bool, out: Printer) -> BulkReport:
    from functions.migrate_session.deps import build_migration

    async with open_resources(settings) as res:
        migration = build_migration(settings, res)
        assert migration is not None
        if dry:
            report = await dry_run(migration.service, migration.source, res.clock, progress=_progress(out))
            out(summary(report, report.results, label="dry run (nothing written)"))
            return report
        report = await enqueue_all(migration.source, migration.queue, progress=_progress(out))
        results = migration.queue.results if isinstance(migration.queue, InlineTaskQueue) else report.results
        report.results = Counter(results)
        out(summary(report, report.results, label=f"migrated into {settings.STORE_BACKEND}"))
        return report
