"""The core assembled once: the write path, the breaker, the scheduler, the tracker and the presenter wired to
each other. The Discord side hands it a store, a RunComfy client and a :class:`bot.presenter.ReplyPort`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from bot.admission_desk import AdmissionDesk
from bot.jobs import Job, JobState
from bot.leases import LeaseKeeper
from bot.moderation_actions import ModerationActions
from bot.presenter import Presenter, ReplyPort
from bot.scheduler import Scheduler
from bot.service_health import ServiceHealth
from bot.services import JobServices
from bot.store import JobStore
from bot.submission import UrlRefresher
from bot.tracker import Tracker
from bot.transitions import JobWriter
from client.api import RunComfyClient

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EnginePace:
    """How much the engine does at once and how often."""

    max_active: int
    poll_min_s: float
    poll_max_s: float
    job_max_s: float
    edit_interval_s: float
    refresh_running_s: float = 10.0
    retry_base_s: float = 5.0
    max_active_per_server: int | None = None
    max_active_per_member: int | None = None


class JobEngine:
    def __init__(
        self,
        store: JobStore,
        api: RunComfyClient,
        port: ReplyPort,
        pace: EnginePace,
        *,
        writer: JobWriter | None = None,
        health: ServiceHealth | None = None,
        refresh_urls: UrlRefresher | None = None,
        on_takeover: Callable[[int], None] = lambda _count: None,
    ) -> None:
        """``on_takeover`` counts the jobs taken over from processes whose leases expired."""
        self.store = store
        self.writer = writer or JobWriter(store)
        self.health = health or ServiceHealth()
        self.presenter = Presenter(
            self.writer,
            port,
            self.health,
            edit_interval_s=pace.edit_interval_s,
            refresh_running_s=pace.refresh_running_s,
            retry_base_s=pace.retry_base_s,
            queue_view=lambda: self.scheduler.queue_view(),
        )
        services = JobServices(store, self.writer, api, self.health)
        self.tracker = Tracker(
            services,
            poll_min_s=pace.poll_min_s,
            poll_max_s=pace.poll_max_s,
            job_max_s=pace.job_max_s,
            on_released=lambda: self.scheduler.wake(),
        )
        self.scheduler = Scheduler(
            services,
            max_active=pace.max_active,
            on_submitted=self.tracker.submitted,
            on_unsaved=self.presenter.job_changed,
            refresh_urls=refresh_urls,
            per_server=pace.max_active_per_server,
            per_member=pace.max_active_per_member,
        )
        self.admission = AdmissionDesk(store, self.scheduler.enqueue, self.writer.clock)
        self.moderation = ModerationActions(
            store, self.scheduler, self.writer.clock, on_queue_changed=self.writer.queue_changed
        )
        self.leases = LeaseKeeper(
            store,
            self.writer.lease,
            self.writer.clock,
            adopt=self._adopt,
            on_takeover=on_takeover,
            on_renewed=self.writer.renewed,
        )
        self._stop_listening: Callable[[], Awaitable[None]] | None = None

    def loops(self) -> dict[str, Callable[[], Coroutine[Any, Any, None]]]:
        """The engine's loops by name; each runs until :meth:`stop`."""
        return {
            "scheduler": self.scheduler.run,
            "tracker": self.tracker.run,
            "presenter": self.presenter.run,
            "leases": self.leases.run,
        }

    async def resume(self) -> list[Job]:
        """Pick up every unfinished job no live process holds (this process's own from before a restart
        included) where it was left, and start hearing other processes; returns the jobs resumed."""
        adopted = await self.leases.adopt_at_start()
        self._stop_listening = await self.store.listen(self._heard_from_another_process)
        queued = sum(1 for job in adopted if job.state is JobState.QUEUED)
        log.info("resumed %d unfinished jobs (%d waiting in the queue)", len(adopted), queued)
        return adopted

    async def _adopt(self, adopted: Sequence[Job]) -> None:
        await self.scheduler.recover(adopted)
        for job in adopted:
            latest = await self.store.get(job.id) or job
            if latest.state.is_at_runcomfy:
                self.tracker.track(latest)
            self.presenter.job_changed(latest)
        self.scheduler.wake()

    def _heard_from_another_process(self) -> None:
        """Another process queued a job or freed a place: claim places again, and show new places."""
        self.scheduler.wake()
        self.writer.queue_changed()

    async def stop(self, grace_s: float = 30.0) -> None:
        """Stop taking jobs, let a submission in flight record its answer (up to ``grace_s``), then stop
        following and showing jobs."""
        self.leases.stop()
        if self._stop_listening is not None:
            await self._stop_listening()
        await self.scheduler.stop(grace_s)
        await self.tracker.stop()
        await self.presenter.stop()
