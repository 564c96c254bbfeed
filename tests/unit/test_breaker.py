"""CircuitBreaker: skip a dead backend for a cool-down, one probe at a time, log transitions once."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY

from tests.support.clock import ManualClock
from workplace_roleplay.adapters.breaker import CircuitBreaker


def _up(name: str) -> float | None:
    return REGISTRY.get_sample_value("cache_up", {"backend": name})


def test_closed_breaker_lets_every_call_through() -> None:
    breaker = CircuitBreaker(name="b-closed", clock=ManualClock())
    assert all(breaker.allow() for _ in range(5))
    assert not breaker.is_open
    assert _up("b-closed") == 1


def test_failure_opens_for_the_cooldown_then_allows_one_probe() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(name="b-probe", clock=clock, cooldown_s=2.0)
    breaker.failure(ConnectionRefusedError("refused"))
    assert breaker.is_open
    assert _up("b-probe") == 0
    assert not breaker.allow()
    assert breaker.remaining_cooldown() == pytest.approx(2.0)
    clock.advance(2.0)
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # nobody else while it runs
    breaker.success()
    assert not breaker.is_open
    assert breaker.allow()
    assert _up("b-probe") == 1


def test_failed_probe_reopens_and_a_cancelled_probe_frees_the_slot() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(name="b-reopen", clock=clock, cooldown_s=1.0)
    breaker.failure(TimeoutError())
    clock.advance(1.0)
    assert breaker.allow()
    breaker.failure(TimeoutError())
    assert not breaker.allow()
    clock.advance(1.0)
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()
    assert "TimeoutError" in breaker.last_error


def test_outage_and_recovery_are_logged_once_each(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(name="b-log", clock=clock, cooldown_s=1.0)
    with caplog.at_level(logging.WARNING, logger="workplace_roleplay.adapters.breaker"):
        for _ in range(5):
            clock.advance(1.0)
            breaker.allow()
            breaker.failure(ConnectionRefusedError())
        breaker.success()
        breaker.success()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "unreachable" in messages[0]
    assert "reachable again" in messages[1]


def test_cooldown_must_be_positive() -> None:
    with pytest.raises(ValueError, match="cooldown"):
        CircuitBreaker(name="b-bad", clock=ManualClock(), cooldown_s=0)
