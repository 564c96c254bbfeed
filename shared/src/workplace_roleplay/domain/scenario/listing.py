"""What a learner sees of the catalog: the filtered list with their status, locked entries, the detail.

A consent-gated scenario the learner has not agreed to is listed *locked*: id, title and category only.
Filters that would reveal its hidden fields (difficulty, tag) leave it out, and text search matches only
its title. The detail of such a scenario goes through ``ScenarioAccess.open`` and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from workplace_roleplay.domain.scenario.catalog import ScenarioCatalog, ScenarioQuery
from workplace_roleplay.domain.scenario.consent import ConsentService, ScenarioAccess
from workplace_roleplay.domain.scenario.model import Scenario
from workplace_roleplay.domain.scenario.progress import ScenarioProgress, ScenarioStatus
from workplace_roleplay.domain.scenario.roster import Character


@dataclass(frozen=True, slots=True)
class ListedScenario:
    """One list entry; ``scenario`` is None when the entry is locked (only the public fields are shown)."""

    id: str
    title: str
    category: str
    requires_consent: bool
    status: ScenarioStatus
    scenario: Scenario | None

    @property
    def locked(self) -> bool:
        return self.scenario is None


@dataclass(frozen=True, slots=True)
class ScenarioDetail:
    scenario: Scenario
    counterparts: tuple[Character, ...]
    status: ScenarioStatus


class ScenarioCatalogService:
    """The catalog as one learner sees it (list with status, detail behind the consent gate)."""

    def __init__(
        self, catalog: ScenarioCatalog, consent: ConsentService, progress: ScenarioProgress, *, from_cache: bool = False
    ) -> None:
        self.catalog = catalog
        self.from_cache = from_cache  # the catalog came from scenario_cache (not parsed from YAML)
        self.consent = consent
        self.progress = progress
        self.access = ScenarioAccess(catalog, consent)

    async def listing(self, user_id: str, query: ScenarioQuery) -> tuple[list[ListedScenario], bool]:
        """Matching entries in catalog order, and whether the learner has consented."""
        consented = await self.consent.has_consent(user_id)
        statuses = await self.progress.statuses(user_id)
        items: list[ListedScenario] = []
        for s in self.catalog.scenarios:
            locked = s.requires_consent and not consented
            if locked and not _matches_locked(s, query):
                continue
            if not locked and not query.matches(s):
                continue
            status = ScenarioStatus.LOCKED if locked else statuses.get(s.id, ScenarioStatus.NOT_STARTED)
            items.append(
                ListedScenario(s.id, s.title, s.category.value, s.requires_consent, status, None if locked else s)
            )
        return items, consented

    async def detail(self, user_id: str, scenario_id: str, *, next_path: str | None = None) -> ScenarioDetail:
        """The scenario behind the consent gate (``ScenarioAccess.open``), with its cast and the learner's status."""
        return await self.describe(user_id, await self.access.open(user_id, scenario_id, next_path=next_path))

    async def describe(self, user_id: str, scenario: Scenario) -> ScenarioDetail:
        """Cast and status of a scenario the caller already opened through ``ScenarioAccess.open``."""
        statuses = await self.progress.statuses(user_id)
        cast = tuple(self.catalog.roster.character(c) for c in scenario.counterparts)
        return ScenarioDetail(scenario, cast, statuses.get(scenario.id, ScenarioStatus.NOT_STARTED))


def _matches_locked(s: Scenario, query: ScenarioQuery) -> bool:
    if query.difficulty is not None or query.tag:
        return False
    if query.category is not None and s.category != query.category:
        return False
    if query.text:
        title = s.title.casefold()
        return all(word in title for word in query.text.casefold().split())
    return True
