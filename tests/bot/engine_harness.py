"""The bot's core (store, scheduler, tracker, presenter) running against the RunComfy double, with a
recording stand-in for Discord. Tests await job states through it instead of sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.engine import EnginePace, JobEngine
from bot.jobs import CancelPlace, Job, JobState, ReplyTarget, new_job_id
from bot.presenter import Presenter
from bot.render import Card
from bot.scheduler import Scheduler
from bot.service_health import ServiceHealth
from bot.store import JobStore, open_store
from bot.submission import UrlRefresher
from bot.tracker import Tracker
from bot.transitions import JobWriter, NewJob
from client.api import RunComfyClient
from client.fake import FakeConfig, FakeRunComfy
from tests.store.jobs_for_tests import minimal_job

API_TOKEN = "rc-test-token-0123456789"


@dataclass
class RecordingReplies:
    """Stands in for Discord: remembers every card shown, every delivery and every end notice."""

    shown: list[tuple[str, Card]] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    announced: list[str] = field(default_factory=list)
    fail_shows: int = 0
    fail_deliveries: int = 0
    fail_announces: int = 0
    refuse_all: bool = False
    refused: list[JobState] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def _refuse_if_told(self, job: Job) -> None:
        if self.refuse_all:
            self.refused.append(job.state)
            raise RuntimeError("403 Forbidden: Missing Access")

    async def show(self, job: Job, card: Card) -> ReplyTarget:
        self._refuse_if_told(job)
        if self.fail_shows > 0:
            self.fail_shows -= 1
            await self._signal()
            raise RuntimeError("Discord is having a bad day")
        self.shown.append((job.id, card))
        await self._signal()
        return replace(job.reply, message_id=job.reply.message_id or 4242)

    async def deliver(self, job: Job, card: Card) -> ReplyTarget:
        self._refuse_if_told(job)
        if self.fail_deliveries > 0:
            self.fail_deliveries -= 1
            raise RuntimeError("Discord is having a bad day")
        self.delivered.append(job.id)
        await self._signal()
        return job.reply

    async def announce(self, job: Job) -> None:
        self._refuse_if_told(job)
        if self.fail_announces > 0:
            self.fail_announces -= 1
            raise RuntimeError("Discord is having a bad day")
        self.announced.append(job.id)
        await self._signal()

    def cards(self, job_id: str) -> list[Card]:
        return [card for shown_id, card in self.shown if shown_id == job_id]

    async def _signal(self) -> None:
        async with self.changed:
            self.changed.notify_all()


class WatchingListener:
    """Listens beside the presenter and lets tests await any stored job shape."""

    def __init__(self) -> None:
        self.latest: dict[str, Job] = {}
        self.history: dict[str, list[JobState]] = {}
        self._changed = asyncio.Condition()

    def job_changed(self, job: Job) -> None:
        self.latest[job.id] = job
        states = self.history.setdefault(job.id, [])
        if not states or states[-1] is not job.state:
            states.append(job.state)
        asyncio.get_running_loop().create_task(self._signal())

    def queue_changed(self) -> None:
        """Queue positions are the presenter's to show; tests await job shapes."""

    async def _signal(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)


@dataclass
class Engine:
    store: JobStore
    fake: FakeRunComfy
    api: RunComfyClient
    scheduler: Scheduler
    tracker: Tracker
    presenter: Presenter
    replies: RecordingReplies
    listener: WatchingListener
    health: ServiceHealth
    core: JobEngine

    async def wait_state(self, job_id: str, state: JobState, timeout: float = 5.0) -> Job:  # noqa: ASYNC109
        await self.listener.wait_for(
            lambda: job_id in self.listener.latest and self.listener.latest[job_id].state is state, timeout
        )
        return self.listener.latest[job_id]

    async def wait_final(self, job_id: str, timeout: float = 5.0) -> Job:  # noqa: ASYNC109
        await self.listener.wait_for(
            lambda: job_id in self.listener.latest and self.listener.latest[job_id].reply_final, timeout
        )
        return self.listener.latest[job_id]

    async def stored(self, job_id: str) -> Job:
        job = await self.store.get(job_id)
        assert job is not None
        return job


def make_job(user_id: int = 7, *, guild_id: int = 1, prompt: str = "the cat yawns", minute: int = 0) -> Job:
    """A job as the engine takes it: a picture on an unreachable loopback address, a fresh id."""
    created = datetime.now(UTC) + timedelta(milliseconds=minute)
    job = minimal_job(new_job_id(), created_at=created, guild_id=guild_id, channel_id=100, user_id=user_id)
    image = replace(
        job.request.image,
        url="http://127.0.0.1:9/cat.png",
        content_type="image/png",
        width=640,
        height=480,
        size=50_000,
    )
    return replace(
        job,
        request=replace(job.request, prompt=prompt, image=image),
        reply=ReplyTarget(
            application_id=1, interaction_token="interaction-token-abc", token_expires_at=created
        ),
    )


def new_job(user_id: int = 7, **kwargs: Any) -> NewJob:
    """What :meth:`Scheduler.enqueue` takes: :func:`make_job` under the id the write path mints."""
    job = make_job(user_id, **kwargs)
    return lambda job_id, _now: replace(job, id=job_id)


async def cancel_and_wait_final(writer: JobWriter, listener: WatchingListener, job_id: str) -> None:
    """A member cancels the job in the bot's queue; returns once its end is shown and the member told."""
    await writer.apply(
        job_id,
        lambda j, now: j.moved_to(JobState.CANCELLED, at=now, cancelled_by=7, cancel_place=CancelPlace.LOCAL),
    )
    async with asyncio.timeout(30):
        await listener.wait_for(lambda: listener.latest[job_id].reply_final)


@asynccontextmanager
async def running_engine(
    tmp_path: Path,
    *,
    config: FakeConfig | None = None,
    max_active: int = 4,
    job_max_s: float = 600.0,
    store: JobStore | None = None,
    start_loops: bool = True,
    service_cooldown_s: float = 60.0,
    first_pause_s: float = 0.05,
    refresh_urls: UrlRefresher | None = None,
    api_base_suffix: str = "",
    new_id: Callable[[], str] = new_job_id,
    per_member: int | None = None,
) -> AsyncIterator[Engine]:
    fake = FakeRunComfy(API_TOKEN, config or FakeConfig(manual=True, check_images=False))
    base_url = await fake.start()
    own_store = store is None
    store = store or await open_store(f"sqlite+aiosqlite:///{tmp_path / 'jobs.sqlite3'}")
    api = RunComfyClient(
        API_TOKEN,
        base_url + api_base_suffix,
        timeout_s=2,
        max_attempts=3,
        backoff_base_s=0.01,
        backoff_cap_s=0.05,
    )
    listener, replies = WatchingListener(), RecordingReplies()
    health = ServiceHealth(
        cooldown=timedelta(seconds=service_cooldown_s), first_hold=timedelta(seconds=first_pause_s)
    )
    core = JobEngine(
        store,
        api,
        replies,
        EnginePace(
            max_active=max_active,
            poll_min_s=0.02,
            poll_max_s=0.1,
            job_max_s=job_max_s,
            edit_interval_s=0.0,
            refresh_running_s=60,
            retry_base_s=0.01,
            max_active_per_member=per_member,
        ),
        writer=JobWriter(store, listeners=[listener], new_id=new_id),
        health=health,
        refresh_urls=refresh_urls,
    )
    engine = Engine(
        store, fake, api, core.scheduler, core.tracker, core.presenter, replies, listener, health, core
    )
    tasks: list[asyncio.Task[None]] = []
    try:
        async with api:
            if start_loops:
                tasks = [asyncio.create_task(loop()) for loop in core.loops().values()]
            try:
                yield engine
            finally:
                # Stop everything that may still call RunComfy before the client closes.
                await core.stop(grace_s=2)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        if own_store:
            await store.close()
        await fake.stop()
