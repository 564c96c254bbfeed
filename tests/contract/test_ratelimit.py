"""The ``RateLimiter`` port contract (GCRA) on the in-process limiter, a real Redis and a real Redis Cluster."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from tests.support.clock import ManualClock
from tests.support.redis_topologies import TOPOLOGIES, redis_target
from workplace_roleplay.adapters.memory_ratelimit import MemoryRateLimiter
from workplace_roleplay.adapters.redis_connection import RedisConnection
from workplace_roleplay.adapters.redis_ratelimit import RedisRateLimiter
from workplace_roleplay.ports import RateLimiter, SystemClock

# Redis decides on its own clock while the test runs, so timings are compared with this slack.
SLACK_S = 0.05
FLOAT_NOISE = 1e-6


@dataclass
class LimiterCase:
    limiter: RateLimiter
    wait: Callable[[float], Awaitable[None]]


@pytest.fixture(params=TOPOLOGIES)
async def case(request: pytest.FixtureRequest) -> AsyncIterator[LimiterCase]:
    if request.param == "memory":
        clock = ManualClock()

        async def advance(seconds: float) -> None:
            clock.advance(seconds)

        yield LimiterCase(MemoryRateLimiter(clock), advance)
        return
    for url, mode, namespace in redis_target(request):
        connection = RedisConnection.from_url(url, timeout_s=1.0, clock=SystemClock(), mode=mode)
        yield LimiterCase(RedisRateLimiter(connection, namespace=namespace), asyncio.sleep)
        await connection.close()


@pytest.fixture
def key() -> str:
    return f"user:{uuid.uuid4().hex}:chat"


async def test_a_burst_up_to_the_limit_is_allowed_then_denied(case: LimiterCase, key: str) -> None:
    decisions = [await case.limiter.hit(key, limit=5, period_s=1.0) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    assert all(d.retry_after_s == 0 for d in decisions[:5])
    denied = decisions[-1]
    # One more hit is earned every period/limit = 0.2 s.
    assert 0.2 - SLACK_S <= denied.retry_after_s <= 0.2 + FLOAT_NOISE
    assert denied.retry_after_header == 1
    assert 1.0 - SLACK_S <= denied.reset_after_s <= 1.0 + FLOAT_NOISE


async def test_capacity_comes_back_at_the_steady_rate(case: LimiterCase, key: str) -> None:
    for _ in range(5):
        assert (await case.limiter.hit(key, limit=5, period_s=1.0)).allowed
    denied = await case.limiter.hit(key, limit=5, period_s=1.0)
    await case.wait(denied.retry_after_s + 0.01)
    assert (await case.limiter.hit(key, limit=5, period_s=1.0)).allowed
    assert not (await case.limiter.hit(key, limit=5, period_s=1.0)).allowed


async def test_denied_hits_spend_nothing(case: LimiterCase, key: str) -> None:
    for _ in range(3):
        await case.limiter.hit(key, limit=3, period_s=0.6)
    for _ in range(10):
        assert not (await case.limiter.hit(key, limit=3, period_s=0.6)).allowed
    await case.wait(0.65)
    assert all([(await case.limiter.hit(key, limit=3, period_s=0.6)).allowed for _ in range(3)])


async def test_cost_spends_several_units_and_zero_cost_peeks(case: LimiterCase, key: str) -> None:
    first = await case.limiter.hit(key, limit=10, period_s=10.0, cost=4)
    assert first.allowed
    assert first.remaining == 6
    peek = await case.limiter.hit(key, limit=10, period_s=10.0, cost=0)
    assert peek.allowed
    assert peek.remaining == 6
    assert (await case.limiter.hit(key, limit=10, period_s=10.0, cost=6)).allowed
    too_much = await case.limiter.hit(key, limit=10, period_s=10.0, cost=2)
    assert not too_much.allowed
    assert 2.0 - SLACK_S <= too_much.retry_after_s <= 2.0 + FLOAT_NOISE


async def test_keys_are_independent(case: LimiterCase, key: str) -> None:
    assert (await case.limiter.hit(key, limit=1, period_s=60)).allowed
    assert not (await case.limiter.hit(key, limit=1, period_s=60)).allowed
    assert (await case.limiter.hit(key + ":other", limit=1, period_s=60)).allowed


@pytest.mark.parametrize(
    ("limit", "period_s", "cost"),
    [(0, 1.0, 1), (5, 0.0, 1), (5, -1.0, 1), (5, 1.0, -1), (5, 1.0, 6)],
)
async def test_impossible_arguments_are_refused(
    case: LimiterCase, key: str, limit: int, period_s: float, cost: int
) -> None:
    with pytest.raises(ValueError, match=r"limit|period|cost"):
        await case.limiter.hit(key, limit=limit, period_s=period_s, cost=cost)
