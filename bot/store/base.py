"""The one persistence interface the core uses; SQLite and PostgreSQL both implement it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from bot.jobs import Job, JobState
from bot.moderation.audit import AuditEntry
from bot.moderation.server_settings import ServerSettings


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

    async def guild_jobs(self, guild_id: int, since: datetime) -> list[Job]:
        """One server's jobs created after ``since`` and every unfinished one of it, oldest first."""

    # Moderation. Each write that records a moderator's action stores its AuditEntry in the same
    # transaction, so an action is never done without its record.

    async def server_settings(self, guild_ids: Collection[int]) -> dict[int, ServerSettings]:
        """The stored settings of those of ``guild_ids`` that have any (the others use the defaults)."""

    async def save_server_settings(
        self, guild_id: int, settings: ServerSettings, entry: AuditEntry
    ) -> None: ...

    async def blocked_until(self, guild_id: int, user_id: int) -> datetime | None:
        """When the member's block in that server ends, if one was set (it may be over)."""

    async def block_member(self, guild_id: int, user_id: int, until: datetime, entry: AuditEntry) -> None: ...

    async def unblock_member(self, guild_id: int, user_id: int, entry: AuditEntry) -> bool:
        """Lift the block; False (and nothing recorded) when the member was not blocked."""

    async def front_requests(self) -> dict[str, datetime]:
        """When a moderator moved each job still waiting in the queue to its front, by job id."""

    async def request_front(self, job_id: str, guild_id: int, entry: AuditEntry) -> None:
        """Move the job to the front (again, if it was already: the latest request goes first)."""

    async def approve_job(self, job_id: str, guild_id: int, entry: AuditEntry) -> None:
        """Let a job of a server in approval mode run (approving it again changes nothing more)."""

    async def approved_jobs(self, job_ids: Collection[str]) -> set[str]:
        """Those of ``job_ids`` a moderator approved."""

    async def record_action(self, entry: AuditEntry) -> None:
        """Store an action whose effect was written elsewhere (a cancel goes through the job writer)."""

    async def audit_entries(self, guild_id: int, limit: int = 50) -> list[AuditEntry]:
        """The server's latest recorded actions, newest first."""

    async def get_meta(self, key: str) -> str | None:
        """A small process-wide value (for example the hash of the last synced command set)."""

    async def set_meta(self, key: str, value: str) -> None: ...

    async def close(self) -> None: ...
