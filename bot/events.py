"""How the core tells the outside world that a job changed, without knowing who listens."""

from __future__ import annotations

import asyncio
from typing import Protocol

from bot.jobs import Job


class JobListener(Protocol):
    def job_changed(self, job: Job) -> None:
        """Called after ``job`` was saved in a new shape; must not block."""

    def queue_changed(self) -> None:
        """Called when jobs entered or left the bot's own queue, so positions may have moved."""


class JobLocks:
    """One asyncio lock per job id, so a cancel and a submission never interleave inside one process."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def __call__(self, job_id: str) -> asyncio.Lock:
        lock = self._locks.get(job_id)
        if lock is None:
            lock = self._locks[job_id] = asyncio.Lock()
        return lock

    def forget(self, job_id: str) -> None:
        lock = self._locks.get(job_id)
        if lock is not None and not lock.locked():
            del self._locks[job_id]
