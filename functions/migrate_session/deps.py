"""The migration objects this service builds at startup, and how routes reach them."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from workplace_roleplay.adapters.oidc_tokens import OidcVerifier
from workplace_roleplay.bootstrap import Resources
from workplace_roleplay.domain.migration.bulk import TASK_KIND, migrate_ref
from workplace_roleplay.domain.migration.service import MigrationService
from workplace_roleplay.domain.migration.transform import TransformOptions
from workplace_roleplay.domain.migration.writer import RepositoryConversationWriter
from workplace_roleplay.errors import LegacySessionNotFound
from workplace_roleplay.ports.legacy_session import LegacySessionSource, LegacyUserData
from workplace_roleplay.ports.tasks import Task, TaskQueue
from workplace_roleplay.settings import ServiceSettings
from workplace_roleplay.web.service_context import service_context


@dataclass(frozen=True)
class Migration:
    service: MigrationService
    source: LegacySessionSource
    queue: TaskQueue
    invoker: OidcVerifier | None  # None: no worker configured, every task call is refused


def build_migration(settings: ServiceSettings, res: Resources) -> Migration | None:
    """The migration over this service's resources; None when ``LEGACY_SESSION_SOURCE`` is unset."""
    source = res.legacy_source
    if source is None:
        return None
    user_data: LegacyUserData | None = None
    if settings.LEGACY_USER_DATA_DIR is not None:
        from workplace_roleplay.adapters.legacy_filesystem import FilesystemUserData

        user_data = FilesystemUserData(settings.LEGACY_USER_DATA_DIR)
    service = MigrationService(
        store=res.store,
        clock=res.clock,
        writer=RepositoryConversationWriter(res.store, res.clock, res.security.sealer),
        options=TransformOptions(zone=settings.legacy_zone),
        user_data=user_data,
    )
    return Migration(service, source, build_task_queue(settings, service, source), build_invoker(settings))


def build_task_queue(settings: ServiceSettings, service: MigrationService, source: LegacySessionSource) -> TaskQueue:
    if settings.TASKS_BACKEND == "cloud_tasks":
        from workplace_roleplay.adapters.cloud_tasks import CloudTasksQueue

        return CloudTasksQueue.build(
            queue=settings.TASKS_QUEUE, worker_url=settings.TASKS_WORKER_URL, invoker_email=settings.TASKS_INVOKER_EMAIL
        )
    from workplace_roleplay.adapters.inline_tasks import InlineTaskQueue

    async def session_task(task: Task) -> str:
        result, _ = await migrate_ref(service, source, str(task.payload["ref"]))
        return result

    return InlineTaskQueue({TASK_KIND: session_task})


def build_invoker(settings: ServiceSettings) -> OidcVerifier | None:
    if not (settings.TASKS_WORKER_URL and settings.TASKS_INVOKER_EMAIL):
        return None
    return OidcVerifier(
        jwks_url=settings.TASKS_OIDC_JWKS_URL,
        audience=settings.TASKS_WORKER_URL,
        issuers=settings.oidc_issuers,
        email=settings.TASKS_INVOKER_EMAIL,
    )


@dataclass(frozen=True)
class MigrateSessionContext:
    """What this service builds at startup: the migration, None when no legacy source is configured."""

    migration: Migration | None


def migration_of(request: HTTPConnection) -> Migration:
    migration = optional_migration(request)
    if migration is None:
        raise LegacySessionNotFound("no legacy session source is configured (LEGACY_SESSION_SOURCE)")
    return migration


def optional_migration(request: HTTPConnection) -> Migration | None:
    return service_context(request, MigrateSessionContext).migration
