"""The one persistence interface the core uses; SQLite and PostgreSQL both implement it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.jobs import Job, JobState
from bot.moderation.audit import AuditEntry
from bot.moderation.server_settings import ServerSettings
from bot.moderation.turn_order import Member


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


class LeaseHeldError(StaleJobError):
    """The job is leased to another process whose lease has not expired: only that process may write it."""

    def __init__(self, job_id: str, version: int, owner: str) -> None:
        super().__init__(job_id, version)
        self.owner = owner


@dataclass(frozen=True, slots=True)
class Lease:
    """What a write or claim by ``owner`` at ``now`` holds: the job is this owner's until ``expires_at``."""

    owner: str
    now: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AdmissionFacts:
    """What the admission claim read, inside its serialised transaction."""

    waiting: Sequence[Job]
    """Queued jobs not yet admitted, oldest first."""
    claimable: frozenset[str]
    """Ids among ``waiting`` the claimer may take: its own, or with an expired lease."""
    in_use: int
    """Places taken across every process: jobs at or being sent to RunComfy, and admitted ones."""
    last_served: Mapping[Member, datetime]
    in_use_by_guild: Mapping[int, int] = field(default_factory=dict)
    """``in_use`` by server, for per-server limits."""
    in_use_by_member: Mapping[Member, int] = field(default_factory=dict)
    """``in_use`` by member, for per-member limits."""


AdmissionRule = Callable[[AdmissionFacts], Sequence[Job]]
"""Pure: the jobs to admit now, given what the claim read."""

Notice = Callable[[], None]


class JobStore(Protocol):
    async def create(self, job: Job, lease: Lease | None = None) -> Job:
        """Store a new job (leased to ``lease.owner`` when given); returns it with the stored version (1).
        Raises :class:`JobExistsError` when the id is taken."""

    async def get(self, job_id: str) -> Job | None: ...

    async def save(self, job: Job, lease: Lease | None = None) -> Job:
        """Write ``job`` if the stored version still equals ``job.version``; returns it with the new
        version. Raises :class:`StaleJobError` otherwise, so two writers never overwrite each other.

        With ``lease``, the write also needs the job unleased, leased to ``lease.owner`` or expired
        (:class:`LeaseHeldError` otherwise) and renews the lease, or drops it once the job is done."""

    async def admit(self, lease: Lease, rule: AdmissionRule) -> list[Job]:
        """Claim places for the jobs ``rule`` picks, one claimer at a time across every process; returns
        every admitted, still queued job ``lease.owner`` holds (newly or earlier admitted)."""

    async def last_served(self) -> dict[Member, datetime]:
        """When each member with a queued job last had one admitted."""

    async def renew_leases(self, lease: Lease) -> dict[str, int]:
        """Extend every lease ``lease.owner`` holds to ``lease.expires_at`` (never shortening one); returns
        the version of each of those jobs, by id."""

    async def adopt(self, lease: Lease, *, at_start: bool) -> list[tuple[Job, str | None]]:
        """Take the lease of every unfinished job whose lease expired (and, ``at_start``, of those
        unleased or held by an earlier life of ``lease.owner``); returns each with its previous owner."""

    async def next_lease_expiry(self, owner: str) -> datetime | None:
        """The earliest expiry among unfinished jobs leased to someone else."""

    async def tally(self) -> tuple[dict[JobState, int], dict[int, int]]:
        """Jobs by state, and queued jobs by guild."""

    async def announce(self) -> None:
        """Tell every other process sharing the store that the queue or its places changed."""

    async def listen(self, notice: Notice) -> Callable[[], Awaitable[None]]:
        """Call ``notice`` when another process announces; returns how to stop listening."""

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

    async def member_standing(self, guild_id: int, user_id: int) -> tuple[ServerSettings, datetime | None]:
        """The server's settings (the defaults when it has none) and :meth:`blocked_until`, read at once."""

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
