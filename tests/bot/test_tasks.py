"""The tasks an engine part settles when it stops: a grace period for some, a cancel for others."""

from __future__ import annotations

import asyncio

from bot.tasks import TaskSet


async def test_a_finished_task_leaves_the_set() -> None:
    tasks = TaskSet()
    done = asyncio.Event()

    async def work() -> None:
        done.set()

    tasks.start(work(), name="quick")
    assert len(tasks) == 1
    await asyncio.gather(*tasks)
    await done.wait()
    assert len(tasks) == 0


async def test_settle_waits_for_the_grace_and_leaves_the_rest_running() -> None:
    tasks = TaskSet()
    release = asyncio.Event()
    finished: list[str] = []

    async def work(name: str, gate: asyncio.Event | None) -> None:
        if gate is not None:
            await gate.wait()
        finished.append(name)

    tasks.start(work("quick", None), name="quick")
    tasks.start(work("slow", release), name="slow")
    await tasks.settle(0.05)
    assert finished == ["quick"]
    [slow] = list(tasks)
    assert not slow.done()
    release.set()
    await slow
    assert finished == ["quick", "slow"]


async def test_cancel_ends_every_task() -> None:
    tasks = TaskSet()
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    tasks.start(forever(), name="forever")
    [task] = list(tasks)
    await started.wait()
    await tasks.cancel()
    assert task.cancelled()
    assert len(tasks) == 0
