"""Which model answers which task: Flash-class for turns, Pro-class for reports, and the way down.

The route of a task is an ordered list of model names: the chosen model first, then the other class
as the fallback (Pro falls back to Flash when overloaded, Flash to Pro). The simple-response mode is
not part of the route; it is the resilience layer's last resort.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from workplace_roleplay.errors import ConfigurationError
from workplace_roleplay.ports.model import ModelTask


class ModelClass(StrEnum):
    FLASH = "flash"
    PRO = "pro"


# Fast, cheap model where a learner waits for every line; the stronger one where quality matters more
# than latency and the learner reads the result once (docs/architecture.md, Model).
DEFAULT_CLASS_BY_TASK: Mapping[ModelTask, ModelClass] = {
    ModelTask.OPENING: ModelClass.FLASH,
    ModelTask.CONVERSATION_TURN: ModelClass.FLASH,
    ModelTask.WATCH_LINE: ModelClass.FLASH,
    ModelTask.TURN_ANALYSIS: ModelClass.FLASH,
    ModelTask.FEEDBACK_REPORT: ModelClass.PRO,
    ModelTask.SUMMARY: ModelClass.PRO,
    ModelTask.QUIZ: ModelClass.PRO,
    ModelTask.MEMORY_EXTRACTION: ModelClass.FLASH,
}


@dataclass(frozen=True, slots=True)
class ModelRoute:
    """The models to try for one task, best first."""

    task: ModelTask
    primary: str
    fallback: str | None

    @property
    def models(self) -> tuple[str, ...]:
        return (self.primary,) if self.fallback is None else (self.primary, self.fallback)


class ModelRouter:
    """Maps tasks to models from the two class names and per-task overrides."""

    def __init__(self, *, flash: str, pro: str, overrides: Mapping[str, str] | None = None) -> None:
        self.models = {ModelClass.FLASH: flash, ModelClass.PRO: pro}
        self._chosen: dict[ModelTask, str] = {}
        known = {task.value for task in ModelTask}
        for task_name, target in (overrides or {}).items():
            if task_name not in known:
                raise ConfigurationError(
                    f"MODEL_TASK_OVERRIDES: unknown task {task_name!r} (known: {', '.join(sorted(known))})"
                )
            if not target.strip():
                raise ConfigurationError(f"MODEL_TASK_OVERRIDES: empty model for task {task_name!r}")
            self._chosen[ModelTask(task_name)] = self._resolve(target.strip())

    def _resolve(self, target: str) -> str:
        try:
            return self.models[ModelClass(target.lower())]
        except ValueError:
            return target  # an explicit model name

    def route(self, task: ModelTask) -> ModelRoute:
        """The model for ``task`` and the other class as its fallback."""
        primary = self._chosen.get(task) or self.models[DEFAULT_CLASS_BY_TASK[task]]
        flash, pro = self.models[ModelClass.FLASH], self.models[ModelClass.PRO]
        other = flash if primary != flash else pro
        return ModelRoute(task=task, primary=primary, fallback=other if other != primary else None)

    def model_class(self, model: str) -> ModelClass | None:
        """The class a model name belongs to (None for an explicit override outside both classes)."""
        for cls, name in self.models.items():
            if name == model:
                return cls
        return None
