"""The product-events port: what learners do, counted on the server (docs/architecture.md, Observability).

No third-party analytics and no personal data: every call carries only bounded labels (mode, scenario
category, scenario id, model name, outcome). The engine calls it for what every mode does (sessions, turns,
reports, forks, ratings); a mode calls ``hint_used`` and ``quiz_answered`` for its own features through
``ConversationService.count_hint`` / ``count_quiz_answer``. ``telemetry.PrometheusProductEvents`` is the
implementation every service uses; tests may pass their own.
"""

from __future__ import annotations

from typing import Literal, Protocol

RatingTarget = Literal["reply", "report"]
RatingValue = Literal["up", "down"]
ReportKind = Literal["summary", "feedback"]


class ProductEvents(Protocol):
    def session_started(self, *, mode: str, category: str) -> None:
        """A new conversation (forks are counted by ``fork``, not here)."""

    def session_completed(self, *, mode: str, category: str, turns: int) -> None:
        """A conversation's first fresh feedback report: the learner finished and asked for a review."""

    def turn(self, *, mode: str, category: str, simple: bool) -> None:
        """A turn answered to its end (``simple``: by the simple-response mode)."""

    def report_requested(self, *, mode: str, kind: ReportKind) -> None: ...

    def hint_used(self, *, mode: str, category: str) -> None: ...

    def quiz_answered(self, *, mode: str, category: str, correct: bool) -> None: ...

    def fork(self, *, mode: str) -> None: ...

    def rating(
        self, *, mode: str, category: str, scenario: str, model: str, target: RatingTarget, value: RatingValue
    ) -> None:
        """A 👍/👎 on a reply or a report."""
