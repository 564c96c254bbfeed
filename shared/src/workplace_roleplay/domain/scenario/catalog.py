"""The scenario catalog: every scenario, validated once, looked up by id or by legacy id, filtered.

``load_catalog`` parses ``data/scenarios/*.yaml`` and validates it with pydantic (ids unique, counterparts
in the roster, every legacy id mapped exactly once). ``load_catalog_cached`` does the same through the
``scenario_cache`` key of the Cache port: an instance that starts after another skips the YAML parse and
validates the cached JSON instead (ADR 0014). Either way a service builds the catalog once, at startup,
and every request reads the same immutable object.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from workplace_roleplay.domain.scenario.model import Category, Difficulty, Scenario, ScenarioFile
from workplace_roleplay.domain.scenario.roster import Roster, load_roster
from workplace_roleplay.errors import ConfigurationError, ScenarioNotFound
from workplace_roleplay.ports import Cache

SCENARIO_DIR = Path(__file__).parent / "data" / "scenarios"
CACHE_PREFIX = "scenario_cache:catalog:"
CACHE_TTL_S = 7 * 24 * 3600
# Every scenario id of the legacy app (legacy.md §4.1): migration attaches their history to a v2 scenario.
LEGACY_SCENARIO_IDS: tuple[str, ...] = (
    *(f"scenario{n}" for n in range(1, 44)),
    *(f"gray_zone_{n:02d}" for n in range(1, 11)),
    "training_01",
)
_CATEGORY_ORDER = {c: i for i, c in enumerate(Category)}
_DIFFICULTY_ORDER = {d: i for i, d in enumerate(Difficulty)}


@dataclass(frozen=True, slots=True)
class ScenarioQuery:
    """List filters; every given one must match (text: title, summary, tags, situation)."""

    category: Category | None = None
    difficulty: Difficulty | None = None
    tag: str | None = None
    text: str | None = None

    def matches(self, s: Scenario) -> bool:
        if self.category is not None and s.category != self.category:
            return False
        if self.difficulty is not None and s.difficulty != self.difficulty:
            return False
        if self.tag and self.tag not in s.tags:
            return False
        if self.text:
            haystack = " ".join((s.title, s.summary, s.situation, *s.tags, s.learner.role)).casefold()
            return all(word in haystack for word in self.text.casefold().split())
        return True


class ScenarioCatalog:
    """The validated catalog (immutable). Order: category, then difficulty, then authoring order."""

    def __init__(self, scenarios: Iterable[Scenario], roster: Roster, *, digest: str = "") -> None:
        ordered = sorted(
            enumerate(scenarios),
            key=lambda p: (_CATEGORY_ORDER[p[1].category], _DIFFICULTY_ORDER[p[1].difficulty], p[0]),
        )
        self.scenarios: tuple[Scenario, ...] = tuple(s for _, s in ordered)
        self.roster = roster
        self.digest = digest
        self._by_id: dict[str, Scenario] = {}
        self.legacy_map: dict[str, str] = {}
        problems: list[str] = []
        for s in self.scenarios:
            if s.id in self._by_id:
                problems.append(f"duplicate scenario id {s.id!r}")
            self._by_id[s.id] = s
            problems += [f"{s.id}: unknown counterpart {c!r}" for c in s.counterparts if c not in roster]
            for legacy in s.legacy_ids:
                if legacy in self.legacy_map:
                    problems.append(f"legacy id {legacy!r} mapped twice ({self.legacy_map[legacy]}, {s.id})")
                self.legacy_map[legacy] = s.id
        problems += [
            f"legacy id {x!r} is not mapped to any scenario" for x in LEGACY_SCENARIO_IDS if x not in self.legacy_map
        ]
        problems += [f"{x!r} is not a legacy scenario id" for x in self.legacy_map if x not in LEGACY_SCENARIO_IDS]
        if problems:
            raise ConfigurationError("invalid scenario catalog:\n- " + "\n- ".join(problems))

    def __len__(self) -> int:
        return len(self.scenarios)

    def get(self, scenario_id: str) -> Scenario:
        """The scenario, or ``ScenarioNotFound``."""
        found = self._by_id.get(scenario_id)
        if found is None:
            raise ScenarioNotFound(f"scenario {scenario_id[:64]!r}")
        return found

    def for_legacy_id(self, legacy_id: str) -> Scenario:
        """The v2 scenario a legacy scenario id maps to (migration), or ``ScenarioNotFound``."""
        target = self.legacy_map.get(legacy_id)
        if target is None:
            raise ScenarioNotFound(f"legacy scenario {legacy_id[:64]!r}")
        return self._by_id[target]

    def search(self, query: ScenarioQuery) -> list[Scenario]:
        return [s for s in self.scenarios if query.matches(s)]

    def tags(self) -> list[str]:
        """Every tag, most used first (then by name)."""
        counts: dict[str, int] = {}
        for s in self.scenarios:
            for t in s.tags:
                counts[t] = counts.get(t, 0) + 1
        return sorted(counts, key=lambda t: (-counts[t], t))


class _Cached(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    scenarios: tuple[Scenario, ...]


def _files(directory: Path) -> list[Path]:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ConfigurationError(f"no scenario files in {directory}")
    return files


def catalog_digest(directory: Path = SCENARIO_DIR) -> str:
    """A content hash of the scenario files and the data model (changes with either)."""
    h = hashlib.sha256(json.dumps(Scenario.model_json_schema(), sort_keys=True).encode())
    for path in _files(directory):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:32]


def parse_scenario_files(paths: Sequence[Path]) -> list[Scenario]:
    """Every scenario of the files, validated; a bad file is named in the error."""
    scenarios: list[Scenario] = []
    for path in paths:
        try:
            with path.open(encoding="utf-8") as fh:
                data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (safe loader)
            scenarios += ScenarioFile.model_validate(data).scenarios
        except (ValidationError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"{path.name}: invalid scenario file:\n{exc}") from exc
    return scenarios


def load_catalog(directory: Path = SCENARIO_DIR, roster: Roster | None = None) -> ScenarioCatalog:
    """The catalog from its YAML files (no cache)."""
    return ScenarioCatalog(
        parse_scenario_files(_files(directory)), roster or load_roster(), digest=catalog_digest(directory)
    )


async def load_catalog_cached(
    cache: Cache, directory: Path = SCENARIO_DIR, roster: Roster | None = None
) -> tuple[ScenarioCatalog, bool]:
    """The catalog through ``scenario_cache:catalog:{digest}``: (catalog, True when read from the cache).

    The key names the content hash, so a deploy with changed scenarios never reads an old entry. A cached
    entry that does not validate is ignored and rewritten (the cache is best effort, ADR 0003).
    """
    roster = roster or load_roster()
    digest = catalog_digest(directory)
    key = CACHE_PREFIX + digest
    blob = await cache.get(key)
    if blob is not None:
        try:
            return ScenarioCatalog(_Cached.model_validate_json(blob).scenarios, roster, digest=digest), True
        except (ValidationError, ConfigurationError):
            pass
    catalog = load_catalog(directory, roster)
    await cache.set(key, _Cached(scenarios=catalog.scenarios).model_dump_json().encode(), ttl=CACHE_TTL_S)
    return catalog, False
