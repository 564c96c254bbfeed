"""👍/👎 on a reply or a report, with an optional short reason (docs/architecture.md, Observability).

The rating is stored on the rated document itself (``rating``: value and time; ``rating_reason``: the reason,
sealed with context ``<path>#rating``) and counted through the product-events port per mode, scenario and
model. Rating again replaces the stored rating; the counters count every rating given (a change of mind counts
twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

from workplace_roleplay.domain.coaching.reports import reports_path
from workplace_roleplay.domain.conversation.records import Conversation, Role
from workplace_roleplay.domain.sealing import TextSealer
from workplace_roleplay.errors import InvalidInput, MessageNotFound, ReportNotFound
from workplace_roleplay.ports import Clock, DocumentStore
from workplace_roleplay.ports.product import RatingTarget, RatingValue
from workplace_roleplay.ports.store import Filter

MAX_REASON_CHARS = 200


@dataclass(frozen=True, slots=True)
class Rating:
    target: RatingTarget
    target_id: str
    value: RatingValue
    reason: str
    model: str
    at: float


def check(value: str, reason: str | None) -> tuple[RatingValue, str]:
    """The value (up/down) and the trimmed reason, or ``InvalidInput``."""
    if value not in get_args(RatingValue):
        raise InvalidInput("value must be 'up' or 'down'")
    text = (reason or "").strip()
    if len(text) > MAX_REASON_CHARS:
        raise InvalidInput(f"reason is limited to {MAX_REASON_CHARS} characters", extra={"max_chars": MAX_REASON_CHARS})
    return value, text  # type: ignore[return-value]


class Ratings:
    def __init__(self, store: DocumentStore, clock: Clock, sealer: TextSealer) -> None:
        self.store, self.clock, self.sealer = store, clock, sealer

    async def _target(self, conv: Conversation, target: RatingTarget, target_id: str) -> tuple[str, Mapping[str, Any]]:
        if target == "reply":
            path = f"{conv.path}/messages/{target_id}"
            doc = await self.store.get(path)
            if doc is None or doc.get("role") == Role.LEARNER.value:
                raise MessageNotFound()
            return path, doc
        path = f"{reports_path(conv.user_id)}/{target_id}"
        doc = await self.store.get(path)
        if doc is None or doc.get("conversation_id") != conv.id:
            raise ReportNotFound()
        return path, doc

    async def rate(
        self, conv: Conversation, target: RatingTarget, target_id: str, value: RatingValue, reason: str
    ) -> Rating:
        path, doc = await self._target(conv, target, target_id)
        at = self.clock.now()
        sealed = self.sealer.seal(reason, context=f"{path}#rating") if reason else ""
        # The sealed reason is a top-level field, so key rotation re-encrypts it (domain/identity/key_rotation.py).
        await self.store.update(path, {"rating": {"value": value, "at": at}, "rating_reason": sealed})
        return Rating(target, target_id, value, reason, str(doc.get("model") or ""), at)

    async def of(self, conv: Conversation) -> list[Rating]:
        """Every rating of the conversation's replies and reports (reasons opened)."""
        found: list[Rating] = []
        for row in await self.store.query(f"{conv.path}/messages"):
            found += self._opened("reply", row.id, row.path, row.data)
        for row in await self.store.query(reports_path(conv.user_id), where=[Filter("conversation_id", "==", conv.id)]):
            found += self._opened("report", row.id, row.path, row.data)
        return sorted(found, key=lambda r: r.at)

    def _opened(self, target: RatingTarget, target_id: str, path: str, doc: Mapping[str, Any]) -> list[Rating]:
        rating = doc.get("rating")
        if not isinstance(rating, dict):
            return []
        sealed = doc.get("rating_reason")
        reason = self.sealer.open(sealed, context=f"{path}#rating") if sealed else ""
        return [Rating(target, target_id, rating["value"], reason, str(doc.get("model") or ""), float(rating["at"]))]
