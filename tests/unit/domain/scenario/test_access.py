"""Consent (recorded on the user, versioned, revocable), the one access gate, the learner's list with
locked entries that reveal nothing, and the per-learner status."""

from __future__ import annotations

import pytest

from tests.support.clock import ManualClock
from tests.support.fakes import FakeStore
from workplace_roleplay.domain.scenario import consent as consent_module
from workplace_roleplay.domain.scenario.catalog import ScenarioQuery, load_catalog
from workplace_roleplay.domain.scenario.consent import CONSENT_VERSION, ConsentService, ScenarioAccess
from workplace_roleplay.domain.scenario.listing import ScenarioCatalogService
from workplace_roleplay.domain.scenario.model import Category, Difficulty
from workplace_roleplay.domain.scenario.progress import ScenarioProgress, ScenarioStatus
from workplace_roleplay.errors import ConsentRequired, InvalidInput, ScenarioNotFound

CATALOG = load_catalog()
GATED = "harassment_basics"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def service(clock: ManualClock) -> ScenarioCatalogService:
    store = FakeStore()
    return ScenarioCatalogService(CATALOG, ConsentService(store, clock), ScenarioProgress(store, clock))


async def test_the_gate_refuses_gated_scenarios_until_consent_and_after_revocation(
    service: ScenarioCatalogService, clock: ManualClock
) -> None:
    access: ScenarioAccess = service.access
    assert (await access.open("u1", "report_own_mistake")).id == "report_own_mistake"
    with pytest.raises(ConsentRequired) as refused:
        await access.open("u1", GATED, next_path=f"/scenarios/{GATED}")
    assert refused.value.consent_url == f"/scenarios/consent?next=/scenarios/{GATED}"
    assert refused.value.extra == {"consent_url": refused.value.consent_url}
    with pytest.raises(ScenarioNotFound):
        await access.open("u1", "nope")
    record = await service.consent.give("u1", CONSENT_VERSION)
    assert record.given_at == clock.now()
    assert (await access.open("u1", GATED)).id == GATED
    with pytest.raises(ConsentRequired):
        await access.open("u2", GATED)  # per learner
    clock.advance(60)
    revoked = await service.consent.revoke("u1")
    assert revoked is not None
    assert revoked.revoked_at == clock.now()
    assert revoked.given_at == record.given_at
    with pytest.raises(ConsentRequired):
        await access.open("u1", GATED)


async def test_only_the_current_consent_text_counts(
    service: ScenarioCatalogService, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InvalidInput):
        await service.consent.give("u1", "1999-old")
    await service.consent.give("u1", CONSENT_VERSION)
    assert await service.consent.has_consent("u1")
    monkeypatch.setattr(consent_module, "CONSENT_VERSION", "2099-new")  # the text changed after agreeing
    assert not await service.consent.has_consent("u1")


async def test_locked_entries_show_only_title_and_category_and_hide_from_revealing_filters(
    service: ScenarioCatalogService,
) -> None:
    items, consented = await service.listing("u1", ScenarioQuery())
    assert not consented
    assert len(items) == len(CATALOG)
    locked = [i for i in items if i.locked]
    assert locked
    assert all(i.scenario is None and i.status is ScenarioStatus.LOCKED for i in locked)
    assert {i.category for i in locked} == {"gray_zone", "harassment_prevention"}
    beginners, _ = await service.listing("u1", ScenarioQuery(difficulty=Difficulty.BEGINNER))
    assert not any(i.locked for i in beginners)  # would reveal a hidden difficulty
    hidden, _ = await service.listing("u1", ScenarioQuery(text="人事部の藤田さん"))  # a locked situation's words
    assert hidden == []
    by_title, _ = await service.listing("u1", ScenarioQuery(text="パワーハラスメント防止"))
    assert [i.id for i in by_title] == [GATED]
    await service.consent.give("u1", CONSENT_VERSION)
    found, _ = await service.listing("u1", ScenarioQuery(text="人事部の藤田さん"))
    assert [i.id for i in found] == [GATED]
    gray, consented = await service.listing("u1", ScenarioQuery(category=Category.GRAY_ZONE))
    assert consented
    assert len(gray) == 10
    assert all(not i.locked and i.status is ScenarioStatus.NOT_STARTED for i in gray)


async def test_status_follows_the_learners_sessions(service: ScenarioCatalogService) -> None:
    await service.progress.started("u1", "report_own_mistake")
    await service.progress.started("u1", "vague_request_from_boss")
    await service.progress.completed("u1", "vague_request_from_boss")
    await service.progress.started("u1", "vague_request_from_boss")  # another try keeps it completed
    items, _ = await service.listing("u1", ScenarioQuery(category=Category.REGULAR))
    status = {i.id: i.status for i in items}
    assert status["report_own_mistake"] is ScenarioStatus.IN_PROGRESS
    assert status["vague_request_from_boss"] is ScenarioStatus.COMPLETED
    assert status["orphan_task"] is ScenarioStatus.NOT_STARTED
    detail = await service.detail("u1", "vague_request_from_boss")
    assert detail.status is ScenarioStatus.COMPLETED
    assert [c.id for c in detail.counterparts] == ["takahashi_makoto"]
    other, _ = await service.listing("u2", ScenarioQuery(category=Category.REGULAR))
    assert {i.status for i in other} == {ScenarioStatus.NOT_STARTED}
