"""Which v2 scenario a legacy scenario id becomes.

The v2 scenario catalog maps every legacy id (``ScenarioCatalog.for_legacy_id``); the service wiring
injects it as a ``CatalogMapping``. ``IdentityMapping`` (no catalog: unit tests of the transform) keeps
the legacy id as the scenario id with ``scenario_mapped`` false. The legacy id is stored on every
migrated scenario conversation either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from workplace_roleplay.errors import ScenarioNotFound


class ScenarioMapping(Protocol):
    def v2_id(self, legacy_id: str) -> str | None:
        """The v2 scenario id for a legacy id, or None when it has no v2 counterpart (yet)."""
        ...


class IdentityMapping:
    """No table yet: the legacy id is used as the v2 scenario id (``scenario_mapped`` stays False)."""

    def v2_id(self, legacy_id: str) -> str | None:
        return None


class TableMapping:
    """A mapping from a plain table (the scenario catalog's legacy-id table plugs in here)."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self.table = dict(table)

    def v2_id(self, legacy_id: str) -> str | None:
        return self.table.get(legacy_id)


class LegacyLookup(Protocol):
    """The scenario catalog as the migration sees it."""

    def for_legacy_id(self, legacy_id: str) -> _HasId: ...


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


class CatalogMapping:
    """The scenario catalog's legacy map (``load_catalog().for_legacy_id``)."""

    def __init__(self, catalog: LegacyLookup) -> None:
        self.catalog = catalog

    def v2_id(self, legacy_id: str) -> str | None:
        try:
            return self.catalog.for_legacy_id(legacy_id).id
        except ScenarioNotFound:
            return None
