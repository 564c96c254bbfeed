"""The migration objects this service builds at startup, and how routes reach them."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from starlette.requests import HTTPConnection

from workplace_roleplay.adapters.oidc_tokens import OidcVerifier
from workplace_roleplay.bootstrap import Resources
from workplace_roleplay.domain.conversation.mode import Mode
from workplace_roleplay.domain.conversation.records import Conversation
from workplace_roleplay.domain.migration.bulk import TASK_KIND, migrate_ref
from workplace_roleplay.domain.migration.scenarios import CatalogMapping
from workplace_roleplay.domain.migration.service import MigrationService
from workplace_roleplay.domain.migration.transform import PERSONAS as WATCH_PERSONAS
from workplace_roleplay.domain.migration.transform import TransformOptions
from workplace_roleplay.domain.migration.writer import (
    PLAIN,
    UNKNOWN_COUNTERPART,
    MigratedShape,
    RepositoryConversationWriter,
)
from workplace_roleplay.domain.modes.chat import ChatMode
from workplace_roleplay.domain.scenario.catalog import ScenarioCatalog, load_catalog
from workplace_roleplay.domain.sealing import TextSealer
from workplace_roleplay.errors import LegacySessionNotFound, ScenarioNotFound
from workplace_roleplay.ports import Clock, DocumentStore
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
    service = migration_service(
        res.store, res.clock, res.security.sealer, zone=settings.legacy_zone, user_data=user_data
    )
    return Migration(service, source, build_task_queue(settings, service, source), build_invoker(settings))


def migration_service(
    store: DocumentStore,
    clock: Clock,
    sealer: TextSealer | None = None,
    *,
    zone: ZoneInfo | None = None,
    user_data: LegacyUserData | None = None,
    catalog: ScenarioCatalog | None = None,
) -> MigrationService:
    """The migration over a store, attaching conversations the way the engine shapes them (each mode's
    settings and cast) and legacy scenarios to their v2 scenario through the catalog's legacy map."""
    catalog = catalog or load_catalog()
    return MigrationService(
        store=store,
        clock=clock,
        writer=RepositoryConversationWriter(store, clock, sealer, shapes=migrated_shapes(catalog)),
        options=TransformOptions(zone=zone or ZoneInfo("UTC"), scenarios=CatalogMapping(catalog)),
        user_data=user_data,
    )


def migrated_shapes(catalog: ScenarioCatalog) -> dict[str, MigratedShape]:
    """How each mode shapes a migrated conversation: its settings and its lead character's name."""
    chat = ChatMode()

    def scenario_lead(conv: Conversation) -> str:
        try:
            scenario = catalog.get(conv.settings.get("scenario_id", ""))
        except ScenarioNotFound:
            return UNKNOWN_COUNTERPART  # a legacy id without a v2 scenario keeps its lines, speaker unknown
        return catalog.roster.character(scenario.counterparts[0]).name

    return {
        Mode.CHAT.value: MigratedShape(settings=chat.settings, lead=lambda conv: chat.cast(conv).lead.name),
        Mode.SCENARIO.value: MigratedShape(settings=PLAIN.settings, lead=scenario_lead),
        # Watch lines carry their persona (太郎/花子) from the transform; the lead names any line without one.
        Mode.WATCH.value: MigratedShape(settings=PLAIN.settings, lead=lambda conv: WATCH_PERSONAS["A"]),
    }


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
