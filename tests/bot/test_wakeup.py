"""The engine's loop shape: passes until told to stop, and a wake during a pass starts the next at once."""

from __future__ import annotations

import asyncio

from bot.wakeup import Wakeup


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
