"""The one policy layer a new ``/animate`` passes: it gathers the facts from the store, asks
:func:`bot.moderation.admission.decide_admission`, and queues the job only when it is admitted.

Admission and queueing happen under one lock per server, so two requests of one server arriving together
are counted one after the other (across processes, a claim in the database has to do that job).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.jobs import Job
from bot.moderation.admission import DAY, AdmissionFacts, Admitted, Refused, decide_admission
from bot.moderation.automod import PromptRules
from bot.moderation.job_history import JobHistory, job_history
from bot.moderation.queue_listing import MemberUsage, QueueRow, member_usage, queue_rows
from bot.moderation.server_settings import ServerSettings
from bot.store import JobStore
from bot.transitions import Clock, NewJob


@dataclass(frozen=True, slots=True)
class MemberRequest:
    """A member's ``/animate`` as plain facts (its input already passed :mod:`bot.input_check`)."""

    guild_id: int
    channel_id: int
    member_id: int
    role_ids: frozenset[int]
    prompt: str
    resolution: str
    duration: int
    automod: PromptRules | None = None


@dataclass(frozen=True, slots=True)
class Queued:
    job: Job
    admitted: Admitted


Enqueue = Callable[[NewJob], Awaitable[Job]]
NO_HISTORY = JobHistory(0, (), None, 0, ())
"""What admission is given when no setting of the server looks at history."""


class AdmissionDesk:
    def __init__(self, store: JobStore, enqueue: Enqueue, clock: Clock) -> None:
        self._store = store
        self._enqueue = enqueue
        self._clock = clock
        self._locks: dict[int, asyncio.Lock] = {}

    async def settings(self, guild_id: int) -> ServerSettings:
        return (await self._store.server_settings([guild_id])).get(guild_id, ServerSettings())

    async def history(self, guild_id: int, user_id: int, now: datetime) -> JobHistory:
        return job_history(await self._store.guild_jobs(guild_id, since=now - DAY), user_id, now)

    async def facts(self, request: MemberRequest, now: datetime) -> AdmissionFacts:
        settings, blocked_until = await self._store.member_standing(request.guild_id, request.member_id)
        # Reading a busy server's recent jobs for every command is what a burst would pay for most.
        history = (
            await self.history(request.guild_id, request.member_id, now)
            if settings.limits_by_history
            else NO_HISTORY
        )
        return AdmissionFacts(
            member_id=request.member_id,
            role_ids=request.role_ids,
            channel_id=request.channel_id,
            prompt=request.prompt,
            resolution=request.resolution,
            duration=request.duration,
            settings=settings,
            now=now,
            blocked_until=blocked_until,
            unfinished_jobs=history.unfinished_jobs,
            member_jobs_last_day=history.member_jobs_last_day,
            last_submission_at=history.last_submission_at,
            queue_length=history.queue_length,
            server_spent_last_day=history.server_spent_last_day,
            automod=request.automod,
        )

    async def check(self, request: MemberRequest) -> Admitted | Refused:
        """What :meth:`submit` would answer now, without queueing (to refuse before a public reply)."""
        return decide_admission(await self.facts(request, self._clock()))

    async def submit(self, request: MemberRequest, build: NewJob) -> Queued | Refused:
        """Queue ``build``'s job if the server's rules admit it; otherwise nothing is stored."""
        async with self._lock(request.guild_id):
            decision = decide_admission(await self.facts(request, self._clock()))
            if isinstance(decision, Refused):
                return decision
            return Queued(await self._enqueue(build), decision)

    async def queue_of(self, guild_id: int, viewer_id: int) -> tuple[list[QueueRow], MemberUsage]:
        """The server's unfinished jobs in the order they run, and the viewer's usage of its limits."""
        now = self._clock()
        jobs = await self._store.guild_jobs(guild_id, since=now - DAY)
        fronts = await self._store.front_requests()
        rows = queue_rows(jobs, viewer_id, now, await self._store.last_served(), fronts)
        history = job_history(jobs, viewer_id, now)
        usage = member_usage(
            await self.settings(guild_id),
            now,
            history.unfinished_jobs,
            history.member_jobs_last_day,
            history.last_submission_at,
            history.server_spent_last_day,
        )
        return rows, usage

    def _lock(self, guild_id: int) -> asyncio.Lock:
        lock = self._locks.get(guild_id)
        if lock is None:
            lock = self._locks[guild_id] = asyncio.Lock()
        return lock
