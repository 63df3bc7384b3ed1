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


class JobExistsError(ValueError):
    """A job with this id is already stored; the caller should pick a new id and create again."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} already exists")
        self.job_id = job_id


class JobStore(Protocol):
    async def create(self, job: Job) -> Job:
        """Store a new job; returns it with the stored version (1). Raises :class:`JobExistsError` when
        the id is taken."""

    async def get(self, job_id: str) -> Job | None: ...

    async def save(self, job: Job) -> Job:
        """Write ``job`` if the stored version still equals ``job.version``; returns it with the new
        version. Raises :class:`StaleJobError` otherwise, so two writers never overwrite each other."""

    async def find_by_state(self, states: Sequence[JobState]) -> list[Job]:
        """Jobs in any of ``states``, oldest first."""

    async def unfinished(self) -> list[Job]:
        """Every job with something left to do: not terminal, or terminal with ``reply_final`` unset."""

    async def count_in_states(self, states: Sequence[JobState]) -> int: ...

    async def queued_jobs(self, limit: int | None = None) -> list[Job]:
        """Jobs waiting in the bot's own queue, oldest first, at most ``limit`` of them."""

    async def jobs_for_user(self, guild_id: int, user_id: int, states: Sequence[JobState]) -> list[Job]:
        """One member's jobs in one guild that are in any of ``states``, oldest first."""

    async def get_meta(self, key: str) -> str | None:
        """A small process-wide value (for example the hash of the last synced command set)."""

    async def set_meta(self, key: str, value: str) -> None: ...

    async def close(self) -> None: ...
