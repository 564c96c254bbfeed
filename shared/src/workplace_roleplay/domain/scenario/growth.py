"""Progress over time: each axis over the learner's feedback reports (chat and scenario), best and latest per
scenario, and what to practise next. Real numbers from stored reports only (the clear ``scores`` fields);
no model call, nothing random (replaces the legacy strength analysis and journal pages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workplace_roleplay.domain.coaching import rubric
from workplace_roleplay.domain.scenario.catalog import ScenarioCatalog
from workplace_roleplay.domain.scenario.model import Category, Difficulty
from workplace_roleplay.ports import DocumentStore

MAX_REPORTS = 200
RECENT = 5
MODE_LABELS = {"chat": "雑談", "scenario": "シナリオ", "watch": "観察"}


@dataclass(frozen=True, slots=True)
class ReportRow:
    at: float
    mode: str
    scores: dict[str, int]
    scenario_id: str = ""


def _scores(raw: Any) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        return {}
    return {axis: int(raw[axis]) for axis in rubric.AXES if isinstance(raw.get(axis), int | float)}


def overall(scores: Mapping[str, int]) -> int:
    return round(sum(scores.values()) / len(scores)) if scores else 0


class Growth:
    """Reads the learner's stored reports and turns them into series, per-scenario bests and a next step."""

    def __init__(self, store: DocumentStore, catalog: ScenarioCatalog) -> None:
        self.store = store
        self.catalog = catalog

    async def rows(self, user_id: str) -> tuple[list[ReportRow], list[ReportRow]]:
        """Every feedback report (oldest first) and every scenario report (oldest first)."""
        feedback = await self.store.query(f"users/{user_id}/reports", limit=MAX_REPORTS)
        scenario = await self.store.query(f"users/{user_id}/scenario_reports", limit=MAX_REPORTS)
        reports = [
            ReportRow(
                float(str(d.data.get("created_at") or 0)), str(d.data.get("mode") or ""), _scores(d.data.get("scores"))
            )
            for d in feedback
        ]
        played = [
            ReportRow(
                float(str(d.data.get("created_at") or 0)),
                "scenario",
                _scores(d.data.get("scores")),
                str(d.data.get("scenario_id") or ""),
            )
            for d in scenario
        ]
        return sorted((r for r in reports if r.scores), key=lambda r: r.at), sorted(
            (r for r in played if r.scores), key=lambda r: r.at
        )

    async def overview(self, user_id: str) -> dict[str, Any]:
        reports, played = await self.rows(user_id)
        return {
            "reports": len(reports),
            "axes": _axes(reports),
            "scenarios": self._per_scenario(played),
            "next": self._next(reports, played),
        }

    def _per_scenario(self, played: Sequence[ReportRow]) -> list[dict[str, Any]]:
        by_id: dict[str, list[ReportRow]] = {}
        for row in played:
            by_id.setdefault(row.scenario_id, []).append(row)
        out = []
        for scenario_id, rows in by_id.items():
            title = self.catalog.get(scenario_id).title if _known(self.catalog, scenario_id) else scenario_id
            best = max(rows, key=lambda r: overall(r.scores))
            out.append(
                {
                    "scenario_id": scenario_id,
                    "title": title,
                    "sessions": len(rows),
                    "best": overall(best.scores),
                    "best_scores": best.scores,
                    "latest": overall(rows[-1].scores),
                    "latest_scores": rows[-1].scores,
                    "latest_at": rows[-1].at,
                }
            )
        return sorted(out, key=lambda s: -float(s["latest_at"]))

    def _next(self, reports: Sequence[ReportRow], played: Sequence[ReportRow]) -> dict[str, Any] | None:
        """The weakest axis over the recent reports, its tips, and an unplayed open scenario to try."""
        recent = reports[-RECENT:]
        if not recent:
            return None
        averages = {axis: sum(r.scores.get(axis, 0) for r in recent) / len(recent) for axis in rubric.AXES}
        weakest = min(rubric.AXES, key=lambda axis: (averages[axis], list(rubric.AXES).index(axis)))
        tips = [c.tip for c in rubric.CHECKS if c.axis == weakest]
        done = {r.scenario_id for r in played}
        candidates = [s for s in self.catalog.scenarios if s.category is Category.REGULAR and s.id not in done]
        order = {Difficulty.BEGINNER: 0, Difficulty.INTERMEDIATE: 1, Difficulty.ADVANCED: 2}
        pick = min(candidates, key=lambda s: order[s.difficulty], default=None)
        return {
            "axis": weakest,
            "label": rubric.AXES[weakest],
            "average": round(averages[weakest]),
            "based_on": len(recent),
            "tips": tips,
            "scenario_id": pick.id if pick else None,
            "scenario_title": pick.title if pick else None,
        }


def _known(catalog: ScenarioCatalog, scenario_id: str) -> bool:
    return any(s.id == scenario_id for s in catalog.scenarios)


def _axes(reports: Sequence[ReportRow]) -> list[dict[str, Any]]:
    out = []
    for axis, label in rubric.AXES.items():
        points = [{"at": r.at, "mode": r.mode, "score": r.scores[axis]} for r in reports if axis in r.scores]
        values = [r.scores[axis] for r in reports if axis in r.scores]
        out.append(
            {
                "axis": axis,
                "label": label,
                "points": points,
                "latest": values[-1] if values else None,
                "best": max(values) if values else None,
                "average": round(sum(values) / len(values)) if values else None,
                "change": values[-1] - values[0] if len(values) > 1 else None,
            }
        )
    return out
