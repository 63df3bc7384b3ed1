"""The one breaker between the queue and RunComfy: outages and holds, each growing while it repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.service_health import ServiceHealth

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def test_an_outage_closes_submissions_for_a_cooldown_that_doubles_to_its_cap() -> None:
    health = ServiceHealth(cooldown=seconds(60), max_cooldown=seconds(200))
    health.trip("AuthenticationError", T0)
    assert health.degraded
    assert health.problem == "AuthenticationError"
    assert not health.may_submit(T0 + seconds(59))
    assert health.may_submit(T0 + seconds(60))
    health.trip("AuthenticationError", T0)
    assert health.retry_at == T0 + seconds(120)
    health.trip("AuthenticationError", T0)
    assert health.retry_at == T0 + seconds(200)


def test_a_hold_grows_and_honours_retry_after() -> None:
    health = ServiceHealth(first_hold=seconds(5), max_hold=seconds(300))
    health.hold(T0)
    assert health.not_before == T0 + seconds(5)
    assert health.probing
    assert not health.degraded
    health.hold(T0)
    assert health.not_before == T0 + seconds(10)
    health.hold(T0, retry_after_s=90)
    assert health.not_before == T0 + seconds(90)


def test_a_past_hold_no_longer_counts_but_the_probe_goes_on() -> None:
    health = ServiceHealth()
    health.hold(T0)
    assert health.reopens_at(T0) == [T0 + seconds(5)]
    assert health.may_submit(T0 + seconds(6))
    assert health.not_before is None
    assert health.reopens_at(T0 + seconds(6)) == []
    assert health.probing


def test_an_accepted_submission_closes_both_and_says_whether_an_outage_ended() -> None:
    health = ServiceHealth()
    health.hold(T0)
    assert health.accepted() is False
    assert not health.probing
    health.trip("PaymentRequiredError", T0)
    health.hold(T0)
    assert health.accepted() is True
    assert not health.degraded
    assert not health.probing
    health.trip("PaymentRequiredError", T0)
    assert health.retry_at == T0 + health.cooldown  # the cooldown starts over after a recovery
