"""The bot's own queue: fills RunComfy's free places with queued jobs, in the order :mod:`bot.queue_policy`
chooses, while :class:`bot.service_health.ServiceHealth` lets submissions out.

Places are claimed in the store (:meth:`bot.store.JobStore.admit`), one claimer at a time across every
process sharing it, so the global limit and the turn order hold however many processes run.

Each job is sent by :class:`bot.submission.Submission`; cancels go through
:class:`bot.cancellation.Cancellation` and a restart's leftovers through :func:`bot.recovery.recover`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from bot.cancellation import Cancellation, CancelResult
from bot.jobs import Job
from bot.moderation.server_settings import ServerSettings
from bot.moderation.turn_order import ActiveLimits, fair_order
from bot.queue_policy import QueueView, admit, places_to_fill, server_places
from bot.recovery import recover
from bot.services import JobServices
from bot.store.base import AdmissionFacts
from bot.submission import Submission, UrlRefresher
from bot.tasks import TaskSet
from bot.transitions import NewJob
from bot.wakeup import PassGap, Wakeup

log = logging.getLogger(__name__)

IDLE_CHECK_S = 30.0
MIN_WAIT_S = 0.05
PASS_GAP_S = 0.05
"""A pass starts no sooner than this long after the one before it ended, so jobs queued within it are claimed
by one pass (a claim of about ten statements per queued job was a large part of the bot's CPU in a burst of
commands), while a job queued after a quiet moment is claimed at once."""


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
        self._gap = PassGap(self._clock)

    async def enqueue(self, build: NewJob) -> Job:
        """Store ``build(job_id, now)`` in the queue under a freshly minted id."""
        stored = await self._writer.create(build)
        self.wake()
        return stored

    async def cancel(self, job_id: str, by_user_id: int) -> CancelResult:
        return await self.cancellation.cancel(job_id, by_user_id)

    async def queue_view(self) -> QueueView:
        """The places, paused servers and approvals of the queue, in the order the scheduler will submit
        its jobs, from one read of it."""
        queued = await self._store.queued_jobs()
        settings = await self._settings(queued)
        return QueueView(
            server_places(await self._turn_order(queued)),
            _paused(settings),
            await self._awaiting_approval(queued, settings),
        )

    async def awaiting_approval(self) -> frozenset[str]:
        """Waiting jobs of servers in approval mode that no moderator approved yet: they do not start."""
        queued = await self._store.queued_jobs()
        return await self._awaiting_approval(queued, await self._settings(queued))

    async def _settings(self, queued: list[Job]) -> Mapping[int, ServerSettings]:
        return await self._store.server_settings({job.guild_id for job in queued}) if queued else {}

    async def _awaiting_approval(
        self, queued: list[Job], settings: Mapping[int, ServerSettings]
    ) -> frozenset[str]:
        gated = [job.id for job in queued if job.guild_id in settings and settings[job.guild_id].approval]
        return frozenset(gated) - await self._store.approved_jobs(gated) if gated else frozenset()

    async def _turn_order(self, queued: list[Job]) -> list[Job]:
        fronts = await self._store.front_requests() if queued else {}
        return fair_order(queued, await self._store.last_served(), fronts)

    def _limits(self, settings: Mapping[int, ServerSettings]) -> ActiveLimits:
        return ActiveLimits(self._max_active, self._per_server, self._per_member, _paused(settings))

    async def recover(self, adopted: Sequence[Job]) -> list[Job]:
        """Resolve what a process that stopped left half done in ``adopted`` (see
        :func:`bot.recovery.recover`)."""
        return await recover(adopted, self._writer, self.cancellation)

    async def run(self) -> None:
        await self.wake.run(self._pass)

    async def stop(self, grace_s: float = 30.0) -> None:
        """Stop taking jobs and let submissions already in flight record their outcome."""
        self.wake.stop()
        await self._submissions.settle(grace_s)
        await self.cancellation.stop()

    async def _pass(self) -> float:
        await self._gap.wait(PASS_GAP_S)
        try:
            await self._fill_slots()
        except Exception:
            log.exception("scheduler pass failed; trying again shortly")
        finally:
            self._gap.ended()
        return self._seconds_to_next_check()

    def _seconds_to_next_check(self) -> float:
        now = self._clock()
        waits = [max((moment - now).total_seconds(), MIN_WAIT_S) for moment in self._health.reopens_at(now)]
        return min([IDLE_CHECK_S, *waits])

    async def _fill_slots(self) -> None:
        now = self._clock()
        if self.wake.stopped or not self._health.may_submit(now):
            return
        probing = self._health.probing
        launching_here = len(self._launching)
        queued = await self._store.queued_jobs()
        if not queued:
            return  # nothing to claim, nor claimed earlier; a job queued meanwhile wakes another pass
        fronts = await self._store.front_requests()
        settings = await self._settings(queued)
        held = await self._awaiting_approval(queued, settings)
        limits = self._limits(settings)

        def rule(facts: AdmissionFacts) -> list[Job]:
            free = places_to_fill(
                max_active=self._max_active,
                in_use=facts.in_use,
                probing=probing,
                launching_here=launching_here,
            )
            return admit(facts, free=free, limits=limits, fronts=fronts, held=held)

        admitted = await self._store.admit(self._writer.lease.at(now), rule)
        if self.wake.stopped or not self._health.may_submit(self._clock()):
            # stop() may have returned, or a submission failed, while the claim ran: the admitted jobs
            # keep their places and go when submissions may.
            return
        to_send = [job for job in admitted if job.id not in self._launching]
        if probing:
            to_send = to_send[: max(1 - launching_here, 0)]
        for job in to_send:
            self._launching.add(job.id)
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


def _paused(settings: Mapping[int, ServerSettings]) -> frozenset[int]:
    return frozenset(guild for guild, kept in settings.items() if kept.paused)
