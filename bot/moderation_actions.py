"""Every moderator action on a server's queue, and the one place that writes them.

Each action checks again that its author may moderate (a command's default permissions or a button's
``custom_id`` are no proof), does its effect, stores it with its :class:`~bot.moderation.audit.AuditEntry`,
and tells every :class:`AuditListener` (the log channel). Settings changes of one server are serialised
in this process, so two moderators changing settings together do not undo each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.cancellation import CancelResult
from bot.jobs import Job, JobState
from bot.moderation.audit import MAX_REASON_CHARS, AuditEntry, ModAction, TargetKind
from bot.moderation.moderators import is_moderator
from bot.moderation.server_settings import ServerSettings
from bot.store import JobStore
from bot.transitions import Clock

MAX_BLOCK_HOURS = 24 * 365
DEFAULT_BLOCK_HOURS = 24
CANCELLED = frozenset({CancelResult.CANCELLED_LOCALLY, CancelResult.CANCELLED_AT_RUNCOMFY})


class NotAModeratorError(PermissionError):
    """The member may not moderate this server's queue."""


class AuditListener(Protocol):
    def action_recorded(self, entry: AuditEntry) -> None:
        """Called after ``entry`` was stored; must not block."""


@dataclass(frozen=True, slots=True)
class Moderator:
    """Who acts, as the Discord adapter saw them: the interaction's computed permission bits and roles."""

    guild_id: int
    user_id: int
    permissions: int
    role_ids: frozenset[int]


class QueuePort(Protocol):
    """What actions need of the scheduler."""

    async def cancel(self, job_id: str, by_user_id: int) -> CancelResult: ...

    def wake(self) -> None: ...


SettingsChange = Callable[[ServerSettings], ServerSettings]
MarkWaiting = Callable[[str, int, AuditEntry], Awaitable[None]]
"""A store write that marks a waiting job (by id, in its server) together with its audit record."""


class ModerationActions:
    def __init__(
        self,
        store: JobStore,
        queue: QueuePort,
        clock: Clock,
        *,
        on_queue_changed: Callable[[], None],
        listeners: Iterable[AuditListener] = (),
    ) -> None:
        """``on_queue_changed`` is told when waiting jobs may read differently (a pause, a front)."""
        self._store = store
        self._queue = queue
        self._clock = clock
        self._on_queue_changed = on_queue_changed
        self._listeners = list(listeners)
        self._locks: dict[int, asyncio.Lock] = {}

    def add_listener(self, listener: AuditListener) -> None:
        self._listeners.append(listener)

    async def settings(self, guild_id: int) -> ServerSettings:
        return (await self._store.server_settings([guild_id])).get(guild_id, ServerSettings())

    async def may_moderate(self, moderator: Moderator) -> bool:
        settings = await self.settings(moderator.guild_id)
        return is_moderator(moderator.permissions, moderator.role_ids, settings.moderator_role)

    async def change_settings(
        self,
        moderator: Moderator,
        change: SettingsChange,
        action: ModAction,
        kind: TargetKind = TargetKind.NONE,
        target: str = "",
        detail: str = "",
        reason: str | None = None,
    ) -> AuditEntry:
        """Apply ``change`` to the server's settings and record it; ``change`` may raise
        :class:`~bot.moderation.server_settings.SettingError`, and then nothing is stored."""
        await self._check(moderator)
        async with self._lock(moderator.guild_id):
            changed = change(await self.settings(moderator.guild_id))
            entry = self._entry(moderator, action, kind, target, detail, reason)
            await self._store.save_server_settings(moderator.guild_id, changed, entry)
        self._tell(entry)
        self._queue.wake()
        self._on_queue_changed()
        return entry

    async def pause(self, moderator: Moderator, reason: str | None) -> AuditEntry:
        return await self.change_settings(
            moderator, lambda s: s.paused_for(reason), ModAction.PAUSE, reason=reason
        )

    async def resume(self, moderator: Moderator) -> AuditEntry:
        return await self.change_settings(moderator, lambda s: s.resumed(), ModAction.RESUME)

    async def block(
        self, moderator: Moderator, user_id: int, hours: int | None, reason: str | None
    ) -> tuple[AuditEntry, datetime]:
        """Keep the member from queueing in this server for ``hours`` (a day by default); returns the
        record and when the block ends."""
        await self._check(moderator)
        length = min(max(hours or DEFAULT_BLOCK_HOURS, 1), MAX_BLOCK_HOURS)
        entry = self._entry(
            moderator, ModAction.BLOCK, TargetKind.MEMBER, str(user_id), f"{length} h", reason
        )
        until = entry.at + timedelta(hours=length)
        await self._store.block_member(moderator.guild_id, user_id, until, entry)
        self._tell(entry)
        return entry, until

    async def unblock(self, moderator: Moderator, user_id: int) -> AuditEntry | None:
        """Lift the member's block; None when there was none."""
        await self._check(moderator)
        entry = self._entry(moderator, ModAction.UNBLOCK, TargetKind.MEMBER, str(user_id))
        lifted = await self._store.unblock_member(moderator.guild_id, user_id, entry)
        if not lifted:
            return None
        self._tell(entry)
        return entry

    async def front(self, moderator: Moderator, job_id: str) -> AuditEntry | None:
        """Move a job waiting in this server's queue to its front; None when there is no such job."""
        return await self._mark_waiting(moderator, job_id, ModAction.FRONT, self._store.request_front)

    async def cancel(
        self, moderator: Moderator, job_id: str, reason: str | None
    ) -> tuple[CancelResult, AuditEntry | None]:
        """Cancel one of this server's jobs (another server's is not found); recorded when it was."""
        await self._check(moderator)
        job = await self._store.get(job_id)
        if job is None or job.guild_id != moderator.guild_id:
            return CancelResult.NOT_FOUND, None
        result = await self._queue.cancel(job.id, moderator.user_id)
        if result not in CANCELLED and result is not CancelResult.WILL_CANCEL:
            return result, None
        entry = self._entry(moderator, ModAction.CANCEL, TargetKind.JOB, job.id, reason=reason)
        await self._record(entry)
        return result, entry

    async def clear(self, moderator: Moderator, reason: str | None) -> AuditEntry:
        """Cancel every job waiting in this server's queue (those at RunComfy go on); the record's
        detail says how many."""
        await self._check(moderator)
        waiting = [job for job in await self._store.queued_jobs() if job.guild_id == moderator.guild_id]
        results = [await self._queue.cancel(job.id, moderator.user_id) for job in waiting]
        cleared = sum(1 for result in results if result in CANCELLED)
        entry = self._entry(moderator, ModAction.CLEAR, detail=str(cleared), reason=reason)
        await self._record(entry)
        return entry

    async def approve(self, moderator: Moderator, job_id: str) -> AuditEntry | None:
        """Let a waiting job of this server run; None when it is not waiting here."""
        return await self._mark_waiting(moderator, job_id, ModAction.APPROVE, self._store.approve_job)

    async def _mark_waiting(
        self, moderator: Moderator, job_id: str, action: ModAction, write: MarkWaiting
    ) -> AuditEntry | None:
        """Store ``action`` on a job waiting in this server's queue through ``write``, with its record;
        None when there is no such job. Either mark may change which job starts next."""
        await self._check(moderator)
        job = await self._waiting_job(moderator.guild_id, job_id)
        if job is None:
            return None
        entry = self._entry(moderator, action, TargetKind.JOB, job.id)
        await write(job.id, job.guild_id, entry)
        self._tell(entry)
        self._queue.wake()
        self._on_queue_changed()
        return entry

    async def deny(
        self, moderator: Moderator, job_id: str, reason: str | None
    ) -> tuple[AuditEntry, Job] | None:
        """Cancel a waiting job of this server for ``reason``; None when it is not waiting here."""
        await self._check(moderator)
        job = await self._waiting_job(moderator.guild_id, job_id)
        if job is None or await self._queue.cancel(job.id, moderator.user_id) not in CANCELLED:
            return None
        entry = self._entry(moderator, ModAction.DENY, TargetKind.JOB, job.id, reason=reason)
        await self._record(entry)
        return entry, job

    async def reported_video(self, guild_id: int, job_id: str) -> tuple[Job, int | None] | None:
        """The delivered job a member of ``guild_id`` reports, and the server's log channel (None: none
        set); None when there is no such video in that server."""
        job = await self._store.get(job_id)
        shown = job is not None and job.state in (JobState.COMPLETED, JobState.DELIVERED)
        if job is None or job.guild_id != guild_id or not shown:
            return None
        return job, (await self.settings(guild_id)).log_channel

    async def remove_video(
        self, moderator: Moderator, job_id: str, delete: Callable[[Job], Awaitable[bool]]
    ) -> AuditEntry | None:
        """Delete a reported video's message with ``delete`` (False: it was already gone) and record who
        did; None when the server has no such video."""
        await self._check(moderator)
        found = await self.reported_video(moderator.guild_id, job_id)
        if found is None or not await delete(found[0]):
            return None
        entry = self._entry(moderator, ModAction.REMOVE_VIDEO, TargetKind.JOB, job_id)
        await self._record(entry)
        return entry

    async def waiting_jobs(self, guild_id: int) -> list[Job]:
        return [job for job in await self._store.queued_jobs() if job.guild_id == guild_id]

    async def _waiting_job(self, guild_id: int, job_id: str) -> Job | None:
        job = await self._store.get(job_id)
        if job is None or job.guild_id != guild_id or job.state is not JobState.QUEUED:
            return None
        return job

    async def _check(self, moderator: Moderator) -> None:
        if not await self.may_moderate(moderator):
            raise NotAModeratorError(f"user {moderator.user_id} may not moderate guild {moderator.guild_id}")

    async def _record(self, entry: AuditEntry) -> None:
        await self._store.record_action(entry)
        self._tell(entry)

    def _entry(
        self,
        moderator: Moderator,
        action: ModAction,
        kind: TargetKind = TargetKind.NONE,
        target: str = "",
        detail: str = "",
        reason: str | None = None,
    ) -> AuditEntry:
        kept = reason.strip()[:MAX_REASON_CHARS] if reason else None
        return AuditEntry(
            moderator.guild_id, moderator.user_id, action, self._clock(), kind, target, detail, kept or None
        )

    def _tell(self, entry: AuditEntry) -> None:
        for listener in self._listeners:
            listener.action_recorded(entry)

    def _lock(self, guild_id: int) -> asyncio.Lock:
        lock = self._locks.get(guild_id)
        if lock is None:
            lock = self._locks[guild_id] = asyncio.Lock()
        return lock
