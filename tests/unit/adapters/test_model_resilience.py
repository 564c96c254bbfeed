"""Circuit breaker states over a hand-moved clock, and backoff that honours Retry-After."""

from __future__ import annotations

from tests.support.clock import ManualClock
from workplace_roleplay.adapters.breaker import BreakerState, CircuitBreaker
from workplace_roleplay.adapters.model_resilience import Backoff


def state(breaker: CircuitBreaker) -> BreakerState:
    # A call, not an attribute: mypy would otherwise narrow the property after the first assert.
    return breaker.state


def test_breaker_opens_after_threshold_and_lets_one_probe_through() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(name="m", announce=False, threshold=3, cooldown_s=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    assert state(breaker) is BreakerState.CLOSED
    breaker.failure()
    assert state(breaker) is BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.remaining_cooldown() == 10
    clock.advance(10)
    assert state(breaker) is BreakerState.HALF_OPEN
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one at a time
    breaker.success()
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.allow()


def test_failed_probe_reopens_for_a_full_cooldown() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(name="m", announce=False, threshold=1, cooldown_s=5, clock=clock)
    breaker.failure()
    clock.advance(5)
    assert breaker.allow()
    breaker.failure()
    assert state(breaker) is BreakerState.OPEN
    clock.advance(4.9)
    assert not breaker.allow()


def test_released_probe_can_be_taken_again() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(name="m", announce=False, threshold=1, cooldown_s=1, clock=clock)
    breaker.failure()
    clock.advance(1)
    assert breaker.allow()
    breaker.release()  # the caller was cancelled: the probe proved nothing
    assert breaker.allow()


def test_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(name="m", announce=False, threshold=2, cooldown_s=1, clock=ManualClock())
    breaker.failure()
    breaker.success()
    breaker.failure()
    assert state(breaker) is BreakerState.CLOSED


def test_backoff_grows_with_jitter_and_obeys_retry_after() -> None:
    low = Backoff(base_s=0.5, max_s=4, jitter=lambda: 0.0)
    high = Backoff(base_s=0.5, max_s=4, jitter=lambda: 1.0)
    assert [low.delay(a) for a in range(5)] == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert [high.delay(a) for a in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert low.delay(0, retry_after=7) == 7  # the server's word, even above max_s
    assert low.delay(3, retry_after=0) == 0
