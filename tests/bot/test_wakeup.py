"""The engine's loop shape: passes until told to stop, and a wake during a pass starts the next at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.wakeup import PassGap, Wakeup


async def test_a_wake_during_a_pass_starts_another_without_waiting() -> None:
    wake = Wakeup()
    passes = 0

    async def one_pass() -> float:
        nonlocal passes
        passes += 1
        if passes == 1:
            wake()
            return 60.0
        wake.stop()
        return 60.0

    async with asyncio.timeout(5):
        await wake.run(one_pass)
    assert passes == 2


async def test_a_wake_from_outside_ends_the_sleep() -> None:
    wake = Wakeup()
    sleeping = asyncio.Event()
    passes = 0

    async def one_pass() -> float:
        nonlocal passes
        passes += 1
        if passes == 1:
            sleeping.set()
            return 60.0
        wake.stop()
        return 60.0

    loop = asyncio.create_task(wake.run(one_pass))
    await sleeping.wait()
    wake()
    async with asyncio.timeout(5):
        await loop
    assert passes == 2


async def test_a_pass_gap_never_waits_longer_than_the_gap_when_the_wall_clock_is_stepped_back() -> None:
    now = [datetime(2026, 1, 1, 12, tzinfo=UTC)]
    gap = PassGap(lambda: now[0])
    gap.ended()
    now[0] -= timedelta(hours=1)
    async with asyncio.timeout(5):
        await gap.wait(0.01)


async def test_a_pass_after_a_quiet_moment_does_not_wait() -> None:
    now = [datetime(2026, 1, 1, 12, tzinfo=UTC)]
    gap = PassGap(lambda: now[0])
    async with asyncio.timeout(5):
        await gap.wait(3600)  # no pass yet
        gap.ended()
        now[0] += timedelta(hours=2)
        await gap.wait(3600)
