"""The learner's consent to sensitive training content, and the one access check every scenario route uses.

Consent is recorded on the user document (``users/{uid}``, field ``consents.scenario_training``): the
version of the consent text the learner read, when they agreed, and when they revoked it. A consent
counts only for the current text version, so changing the text asks everyone again (ADR 0015).

``ScenarioAccess.open`` is the single gate: it finds the scenario and refuses a consent-gated one with
``ConsentRequired`` (403 ``consent_required`` and the consent page's URL). List, detail, and later
start, turn, stream resume, hint, report and fork all go through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from workplace_roleplay.domain.scenario.catalog import ScenarioCatalog
from workplace_roleplay.domain.scenario.model import Scenario
from workplace_roleplay.errors import ConsentRequired, InvalidInput
from workplace_roleplay.ports import Clock, DocumentStore

CONSENT_VERSION = "2026-12-v1"
CONSENT_FIELD = "scenario_training"
CONSENT_PAGE = "/scenarios/consent"


def consent_url(next_path: str | None = None) -> str:
    """The consent page, coming back to ``next_path`` (a same-site path) after agreeing."""
    if next_path and next_path.startswith("/") and not next_path.startswith("//"):
        return f"{CONSENT_PAGE}?next={quote(next_path, safe='/')}"
    return CONSENT_PAGE


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """What the learner agreed to and when (``revoked_at`` set once they withdrew it)."""

    version: str
    given_at: float
    revoked_at: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.version == CONSENT_VERSION


class ConsentService:
    """Record, read and revoke the learner's consent (stored on ``users/{uid}``)."""

    def __init__(self, store: DocumentStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def record(self, user_id: str) -> ConsentRecord | None:
        doc = await self.store.get(f"users/{user_id}")
        raw = ((doc or {}).get("consents") or {}).get(CONSENT_FIELD)
        if not isinstance(raw, dict) or not raw.get("version"):
            return None
        revoked = raw.get("revoked_at")
        return ConsentRecord(str(raw["version"]), float(raw.get("given_at") or 0), float(revoked) if revoked else None)

    async def has_consent(self, user_id: str) -> bool:
        found = await self.record(user_id)
        return found is not None and found.active

    async def give(self, user_id: str, version: str) -> ConsentRecord:
        """Record consent to the text of ``version`` (only the current text can be agreed to)."""
        if version != CONSENT_VERSION:
            raise InvalidInput(f"consent version {version[:32]!r} is not the current text ({CONSENT_VERSION})")
        record = ConsentRecord(CONSENT_VERSION, self.clock.now())
        await self._write(user_id, {"version": record.version, "given_at": record.given_at, "revoked_at": None})
        return record

    async def revoke(self, user_id: str) -> ConsentRecord | None:
        """Withdraw consent (idempotent); the record keeps when it was given, for the learner's history."""
        found = await self.record(user_id)
        if found is None or found.revoked_at is not None:
            return found
        revoked = ConsentRecord(found.version, found.given_at, self.clock.now())
        await self._write(
            user_id, {"version": revoked.version, "given_at": revoked.given_at, "revoked_at": revoked.revoked_at}
        )
        return revoked

    async def _write(self, user_id: str, value: dict[str, object]) -> None:
        await self.store.set(f"users/{user_id}", {"consents": {CONSENT_FIELD: value}}, merge=True)


class ScenarioAccess:
    """The one place that decides whether a learner may open a scenario."""

    def __init__(self, catalog: ScenarioCatalog, consent: ConsentService) -> None:
        self.catalog = catalog
        self.consent = consent

    async def open(self, user_id: str, scenario_id: str, *, next_path: str | None = None) -> Scenario:
        """The scenario, when this learner may see and play it.

        Raises ``ScenarioNotFound`` for an unknown id and ``ConsentRequired`` (with the consent page, coming
        back to ``next_path``) for a consent-gated scenario the learner has not agreed to.
        """
        scenario = self.catalog.get(scenario_id)
        await self.require_consent(user_id, scenario, next_path=next_path)
        return scenario

    async def require_consent(self, user_id: str, scenario: Scenario, *, next_path: str | None = None) -> None:
        """Raise ``ConsentRequired`` when ``scenario`` needs consent this learner has not given."""
        if scenario.requires_consent and not await self.consent.has_consent(user_id):
            raise ConsentRequired(consent_url(next_path), detail=f"scenario {scenario.id} needs consent")
