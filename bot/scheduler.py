"""The bot's own queue: fills RunComfy's free places with queued jobs, in the order :mod:`bot.queue_policy`
chooses, while :class:`bot.service_health.ServiceHealth` lets submissions out.

Each job is sent by :class:`bot.submission.Submission`; cancels go through
:class:`bot.cancellation.Cancellation` and a restart's leftovers through :func:`bot.recovery.recover`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType

from bot.cancellation import Cancellation, CancelResult
from bot.jobs import ACTIVE_STATES, Job
from bot.moderation.turn_order import ActiveLimits, Member, fair_order, member_of
from bot.queue_policy import free_slots, next_to_submit, server_places
from bot.recovery import recover
from bot.services import JobServices
from bot.submission import Submission, UrlRefresher
from bot.tasks import TaskSet
from bot.transitions import NewJob
from bot.wakeup import Wakeup

log = logging.getLogger(__name__)

IDLE_CHECK_S = 30.0
MIN_WAIT_S = 0.05


class Scheduler:
    def __init__(
        self,
        services: JobServices,
        *,
        max_active: int,
        on_submitted: Callable[[Job], None],
        on_unsaved: Callable[[Job], None] = lambda job: None,
        refresh_urls: UrlRefresher | None = None,
        per_server: int | None = None,
        per_member: int | None = None,
    ) -> None:
        """``on_submitted`` hears of every job RunComfy accepted, ``on_unsaved`` of one accepted that the
        store cannot record yet; ``refresh_urls`` renews signed picture URLs that are about to expire;
        without it, URLs are sent as they were given. ``per_server`` and ``per_member`` cap the jobs one
        server or member has at RunComfy at once (None: no cap)."""
        self._store = services.store
        self._writer = services.writer
        self._health = services.health
        self._clock = services.writer.clock
        self._max_active = max_active
        self._per_server = per_server
        self._per_member = per_member
        self.wake = Wakeup()
        self.cancellation = Cancellation(services.store, services.writer, services.api, on_released=self.wake)
        self._submission = Submission(
            services.store,
            services.writer,
            services.api,
            services.health,
            self.cancellation,
            on_accepted=on_submitted,
            on_unsaved=on_unsaved,
            refresh_urls=refresh_urls,
        )
        self._submissions = TaskSet()
        self._launching: set[str] = set()
        self._last_served: dict[Member, datetime] = {}

    async def enqueue(self, build: NewJob) -> Job:
        """Store ``build(job_id, now)`` in the queue under a freshly minted id."""
        stored = await self._writer.create(build)
        self.wake()
        return stored

    @property
    def last_served(self) -> Mapping[Member, datetime]:
        """When each member's job last started (read-only), for listings in the scheduler's order."""
        return MappingProxyType(self._last_served)

    async def cancel(self, job_id: str, by_user_id: int) -> CancelResult:
        return await self.cancellation.cancel(job_id, by_user_id)

    async def queue_positions(self) -> dict[str, int]:
        """Each queued job's place in its server's line (1 = next), in the order the scheduler will
        submit them."""
        return server_places(await self._turn_order(await self._store.queued_jobs()))

    async def paused_servers(self) -> frozenset[int]:
        """The servers with jobs waiting whose moderators paused their queue."""
        return (await self._limits(await self._store.queued_jobs())).paused_servers

    async def awaiting_approval(self) -> frozenset[str]:
        """Waiting jobs of servers in approval mode that no moderator approved yet: they do not start."""
        return await self._awaiting_approval(await self._store.queued_jobs())

    async def _awaiting_approval(self, queued: list[Job]) -> frozenset[str]:
        settings = await self._store.server_settings({job.guild_id for job in queued})
        gated = [job.id for job in queued if job.guild_id in settings and settings[job.guild_id].approval]
        return frozenset(gated) - await self._store.approved_jobs(gated) if gated else frozenset()

    async def _turn_order(self, queued: list[Job]) -> list[Job]:
        fronts = await self._store.front_requests() if queued else {}
        return fair_order(queued, self._last_served, fronts)

    async def _limits(self, queued: list[Job]) -> ActiveLimits:
        settings = await self._store.server_settings({job.guild_id for job in queued})
        paused = frozenset(guild for guild, kept in settings.items() if kept.paused)
        return ActiveLimits(self._max_active, self._per_server, self._per_member, paused)

    async def recover(self) -> list[Job]:
        """Resolve what an earlier process left half done (see :func:`bot.recovery.recover`)."""
        return await recover(self._store, self._writer, self.cancellation)

    async def run(self) -> None:
        await self.wake.run(self._pass)

    async def stop(self, grace_s: float = 30.0) -> None:
        """Stop taking jobs and let submissions already in flight record their outcome."""
        self.wake.stop()
        await self._submissions.settle(grace_s)
        await self.cancellation.stop()

    async def _pass(self) -> float:
        try:
            await self._fill_slots()
        except Exception:
            log.exception("scheduler pass failed; trying again shortly")
        return self._seconds_to_next_check()

    def _seconds_to_next_check(self) -> float:
        now = self._clock()
        waits = [max((moment - now).total_seconds(), MIN_WAIT_S) for moment in self._health.reopens_at(now)]
        return min([IDLE_CHECK_S, *waits])

    async def _fill_slots(self) -> None:
        now = self._clock()
        if self.wake.stopped or not self._health.may_submit(now):
            return
        active = await self._store.find_by_state(list(ACTIVE_STATES))
        free = free_slots(
            max_active=self._max_active,
            active=len(active),
            launching=len(self._launching),
            probing=self._health.probing,
        )
        if free <= 0:
            return
        queued = await self._store.queued_jobs()
        held = await self._awaiting_approval(queued)
        ordered = [job for job in await self._turn_order(queued) if job.id not in held]
        limits = await self._limits(queued)
        if self.wake.stopped:
            return  # stop() may have returned while the queue was read
        running = [*active, *(job for job in queued if job.id in self._launching)]
        chosen = next_to_submit(ordered, running, limits, free=free, launching=self._launching)
        for job in chosen:
            self._launching.add(job.id)
            self._last_served[member_of(job)] = now
            self._submissions.start(self._submit(job.id), name=f"submit-{job.id}")

    async def _submit(self, job_id: str) -> None:
        try:
            await self._submission.submit(job_id, lambda: self.wake.stopped)
        except Exception:
            log.exception("job %s: submission bookkeeping failed", job_id)
            self._health.hold(self._clock())  # whatever failed, do not spin on the same job
        finally:
            self._launching.discard(job_id)
            self.wake()
