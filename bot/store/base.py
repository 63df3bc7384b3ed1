"""The one persistence interface the core uses; SQLite and PostgreSQL both implement it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.jobs import Job, JobState


class StaleJobError(RuntimeError):
    """A save was made against an older version of the job than the one stored."""

    def __init__(self, job_id: str, version: int) -> None:
        super().__init__(f"job {job_id} changed since version {version}")
        self.job_id = job_id
        self.version = version


class JobStore(Protocol):
    async def create(self, job: Job) -> Job:
        """Store a new job; returns it with the stored version."""

    async def get(self, job_id: str) -> Job | None: ...

    async def save(self, job: Job) -> Job:
        """Write ``job`` if the stored version still equals ``job.version``; returns it with the new
        version. Raises :class:`StaleJobError` otherwise, so two writers never overwrite each other."""

    async def find_by_state(self, states: Sequence[JobState]) -> list[Job]:
        """Jobs in any of ``states``, oldest first."""

    async def unfinished(self) -> list[Job]:
        """Every job with something left to do: not terminal, or terminal with ``reply_final`` unset."""

    async def count_in_states(self, states: Sequence[JobState]) -> int: ...

    async def get_meta(self, key: str) -> str | None:
        """A small process-wide value (for example the hash of the last synced command set)."""

    async def set_meta(self, key: str, value: str) -> None: ...

    async def close(self) -> None: ...
