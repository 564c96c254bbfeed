"""The daily model budget over the in-process cache: counts per learner and Asia/Tokyo day, refuses with the
time it resets, starts again after Tokyo midnight, and is off at 0."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.clock import ManualClock
from workplace_roleplay.adapters.memory_cache import MemoryCache
from workplace_roleplay.domain.model_budget import JST, DailyModelBudget
from workplace_roleplay.errors import DailyBudgetExceeded, RateLimited

# 2026-12-03 23:59:00 in Tokyo (14:59 UTC): one minute before the reset.
LATE = dt.datetime(2026, 12, 3, 23, 59, tzinfo=JST).timestamp()


async def test_the_budget_counts_calls_per_learner_and_refuses_with_the_reset_time() -> None:
    clock = ManualClock(now=LATE)
    budget = DailyModelBudget(MemoryCache(clock), clock, per_user=2)
    await budget.spend("u1")
    await budget.spend("u1")
    await budget.spend("u2")  # another learner has their own budget
    with pytest.raises(DailyBudgetExceeded) as refused:
        await budget.spend("u1")
    assert isinstance(refused.value, RateLimited)  # 429 through the one error map
    assert refused.value.extra["resets_at"] == "2026-12-04T00:00:00+09:00"
    assert refused.value.extra["limit"] == 2
    assert 60 <= refused.value.retry_after <= 61
    with pytest.raises(DailyBudgetExceeded):
        await budget.spend("u1")  # still refused, however often it is asked


async def test_the_budget_starts_again_after_tokyo_midnight_not_utc_midnight() -> None:
    clock = ManualClock(now=LATE)
    budget = DailyModelBudget(MemoryCache(clock), clock, per_user=1)
    await budget.spend("u1")
    with pytest.raises(DailyBudgetExceeded):
        await budget.spend("u1")
    clock.advance(61)  # 00:00:01 in Tokyo, 15:00 UTC of the same UTC day
    assert dt.datetime.fromtimestamp(clock.now(), dt.UTC).day == 3
    await budget.spend("u1")
    assert budget.key("u1").endswith("budget20261204")
    assert budget.key("u1").startswith("ratelimit:{user:u1}:")  # the learner's rate-limit slot on a cluster


async def test_a_zero_budget_is_off() -> None:
    clock = ManualClock(now=LATE)
    budget = DailyModelBudget(MemoryCache(clock), clock, per_user=0)
    for _ in range(50):
        await budget.spend("u1")
