"""The one backoff policy: pure arithmetic, so every wait of the core is checked here without I/O."""

from __future__ import annotations

import itertools
from datetime import timedelta

from bot.backoff import Backoff
from client.api import POLL_GROWTH

POLICY = Backoff(timedelta(seconds=5), timedelta(minutes=2))


def test_each_wait_doubles_from_the_first_and_stops_at_the_cap() -> None:
    assert [POLICY.seconds(n) for n in range(7)] == [5, 10, 20, 40, 80, 120, 120]
    assert POLICY.delay(2) == timedelta(seconds=20)


def test_a_counted_series_yields_that_many_waits() -> None:
    assert list(POLICY.waits(3)) == [5, 10, 20]
    assert list(POLICY.waits(0)) == []


def test_an_endless_series_keeps_waiting_at_the_cap_without_overflowing() -> None:
    endless = POLICY.waits()
    assert list(itertools.islice(endless, 1000))[-1] == 120
    assert POLICY.seconds(10**9) == 120


def test_the_polling_pace_grows_by_the_clients_factor() -> None:
    pace = Backoff(timedelta(seconds=2), timedelta(seconds=15), POLL_GROWTH)
    assert [round(pace.seconds(n), 3) for n in range(6)] == [2, 3, 4.5, 6.75, 10.125, 15]
