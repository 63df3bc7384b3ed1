"""The loop shape the engine's parts share: a pass, then sleep until woken or until the next pass is due."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime


class PassGap:
    """Keeps a loop's passes apart: one starts no sooner than a gap after the one before it ended, so what
    comes within the gap is served by one pass, while a pass after a quiet moment starts at once."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._last_end: datetime | None = None

    async def wait(self, gap_s: float) -> None:
        if self._last_end is None:
            return
        left_s = gap_s - (self._clock() - self._last_end).total_seconds()
        if left_s > 0:
            await asyncio.sleep(min(left_s, gap_s))  # never longer, whatever a stepped wall clock says

    def ended(self) -> None:
        self._last_end = self._clock()


class Wakeup:
    """Wakes a loop that sleeps between passes. A wake during a pass starts another pass right after it;
    :meth:`stop` ends the loop after the pass under way."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.stopped = False

    def __call__(self) -> None:
        self._event.set()

    def stop(self) -> None:
        self.stopped = True
        self._event.set()

    async def run(self, one_pass: Callable[[], Awaitable[float]]) -> None:
        """Run ``one_pass`` until :meth:`stop`; between passes sleep the seconds it returned, or less when
        woken."""
        while not self.stopped:
            self._event.clear()  # before the pass: a wake-up during it must start another one
            sleep_s = await one_pass()
            if self.stopped:
                return
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that arrives as
            # the event is set, and the loop would then outlive its task's cancellation.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(sleep_s):
                    await self._event.wait()
