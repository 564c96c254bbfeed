"""Which v2 scenario a legacy scenario id becomes.

The v2 scenario catalog brings its own legacy-id → v2-id table; until it is wired in, ``IdentityMapping``
keeps the legacy id as the scenario id (the legacy id is stored on every migrated scenario conversation
either way, so the mapping can be applied later).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


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
