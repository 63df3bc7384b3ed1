"""The tasks an engine part starts from its loop and must settle when it stops.

Not an ``asyncio.TaskGroup``: these tasks are started by a loop pass and settled by ``stop()``, which another
task calls, with a grace period (let a paid POST record its answer) or a cancel (polls, promised cancels).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any


class TaskSet:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def __iter__(self) -> Iterator[asyncio.Task[None]]:
        return iter(list(self._tasks))

    def __len__(self) -> int:
        return len(self._tasks)

    async def settle(self, grace_s: float) -> None:
        """Let the tasks finish for up to ``grace_s``; those still running are left running."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace_s)

    async def cancel(self) -> None:
        """Cancel every task and wait until each has ended."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
