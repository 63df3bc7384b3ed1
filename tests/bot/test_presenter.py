"""Keeping replies in step: retries, no repeated cards, and bounded tries for an end Discord refuses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import presenter as presenter_module
from bot.jobs import FailureReason, Job, JobState
from bot.presenter import GIVE_UP_AFTER, Presenter
from bot.queue_policy import QueueView
from bot.service_health import ServiceHealth
from bot.store import JobStore
from bot.transitions import JobWriter
from client.fake import FakeConfig
from tests.bot.engine_harness import (
    RecordingReplies,
    WatchingListener,
    cancel_and_wait_final,
    new_job,
    running_engine,
)


async def test_the_presenter_alone_shows_a_job_and_its_end_and_every_listener_hears_its_saves(
    store: JobStore,
) -> None:
    listener, replies = WatchingListener(), RecordingReplies()
    writer = JobWriter(store, listeners=[listener])

    async def queue_view() -> QueueView:
        return QueueView()

    presenter = Presenter(writer, replies, ServiceHealth(), edit_interval_s=0.0, queue_view=queue_view)
    loop = asyncio.create_task(presenter.run())
    try:
        job = await writer.create(new_job())
        async with replies.changed:
            await replies.changed.wait_for(lambda: bool(replies.cards(job.id)))
        await cancel_and_wait_final(writer, listener, job.id)
        assert replies.announced == [job.id]
        stored = await store.get(job.id)
        assert stored is not None
        assert stored.reply_final
        assert stored.reply.message_id == 4242  # where the reply lives was saved, and heard
        assert listener.latest[job.id] == stored
    finally:
        await presenter.stop()
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)


async def test_a_failing_reply_edit_is_retried_until_shown(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        engine.replies.fail_shows = 1
        job = await engine.scheduler.enqueue(new_job())
        async with engine.replies.changed:
            await engine.replies.changed.wait_for(lambda: bool(engine.replies.cards(job.id)))
        assert engine.replies.fail_shows == 0


async def test_identical_cards_are_not_sent_again(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=1) as engine:
        blocker = await engine.scheduler.enqueue(new_job(user_id=1))
        await engine.wait_state(blocker.id, JobState.IN_QUEUE)
        waiting = await engine.scheduler.enqueue(new_job(user_id=2))
        async with engine.replies.changed:
            await engine.replies.changed.wait_for(lambda: bool(engine.replies.cards(waiting.id)))
        before = len(engine.replies.cards(waiting.id))
        for _ in range(5):
            engine.presenter.job_changed(await engine.stored(waiting.id))
        await engine.scheduler.cancel(waiting.id, by_user_id=2)
        await engine.wait_final(waiting.id)
        cards = engine.replies.cards(waiting.id)
        assert len(cards) == before + 1  # only the cancelled card was new
        assert "Cancelled" in cards[-1].title or cards[-1].title != cards[0].title


async def test_a_video_discord_keeps_refusing_is_given_up_as_a_delivery_failure(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        job = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(job.id, JobState.IN_QUEUE)
        engine.replies.refuse_all = True
        engine.fake.set_state(submitted.request_id or "", "completed")
        final = await engine.wait_final(job.id)
        assert final.state is JobState.FAILED
        assert final.failure_reason is FailureReason.DELIVERY_FAILED
        assert final.video_url is not None
        assert engine.replies.refused.count(JobState.COMPLETED) == GIVE_UP_AFTER
        assert engine.replies.announced == []


async def test_an_end_discord_keeps_refusing_is_given_up_after_a_bounded_number_of_tries(
    tmp_path: Path,
) -> None:
    async with running_engine(tmp_path, max_active=1) as engine:
        blocker = await engine.scheduler.enqueue(new_job(user_id=1))
        await engine.wait_state(blocker.id, JobState.IN_QUEUE)
        waiting = await engine.scheduler.enqueue(new_job(user_id=2))
        engine.replies.refuse_all = True
        await engine.scheduler.cancel(waiting.id, by_user_id=2)
        final = await engine.wait_final(waiting.id)
        assert final.state is JobState.CANCELLED
        assert engine.replies.refused.count(JobState.CANCELLED) == GIVE_UP_AFTER


async def test_refused_progress_edits_do_not_use_up_the_tries_of_the_end(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        job = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(job.id, JobState.IN_QUEUE)
        engine.replies.fail_shows = GIVE_UP_AFTER + 2
        engine.presenter.job_changed(await engine.stored(job.id))
        async with engine.replies.changed:
            await engine.replies.changed.wait_for(lambda: engine.replies.fail_shows == 0)
        engine.replies.fail_deliveries = 1
        engine.fake.set_state(submitted.request_id or "", "completed")
        final = await engine.wait_final(job.id)
        assert final.state is JobState.DELIVERED
        assert engine.replies.delivered == [job.id]


async def test_a_notice_discord_refuses_is_retried_without_uploading_the_video_again(tmp_path: Path) -> None:
    async with running_engine(tmp_path, config=FakeConfig(manual=False, check_images=False)) as engine:
        engine.replies.fail_announces = 2
        job = await engine.scheduler.enqueue(new_job())
        final = await engine.wait_final(job.id, timeout=30)

        assert final.state is JobState.DELIVERED
        assert engine.replies.delivered == [job.id]
        assert engine.replies.announced == [job.id]
        assert engine.replies.fail_announces == 0


class SavedShapes:
    """Every shape of a job as saved, in order."""

    def __init__(self) -> None:
        self.saved: list[tuple[JobState, bool]] = []

    def job_changed(self, job: Job) -> None:
        self.saved.append((job.state, job.reply_final))

    def queue_changed(self) -> None:
        """Only job shapes are recorded."""


async def test_a_delivery_and_its_notice_are_recorded_in_one_write_after_the_notice(tmp_path: Path) -> None:
    async with running_engine(tmp_path, config=FakeConfig(manual=False, check_images=False)) as engine:
        shapes = SavedShapes()
        engine.core.writer.add_listener(shapes)
        job = await engine.scheduler.enqueue(new_job())
        final = await engine.wait_final(job.id, timeout=30)

        assert shapes.saved[-2:] == [(JobState.COMPLETED, False), (JobState.DELIVERED, True)]
        assert final.reply.message_id == 4242  # where the video went is part of that write
        assert engine.replies.announced == [job.id]


@asynccontextmanager
async def presenter_after_its_first_pass(writer: JobWriter, replies: RecordingReplies) -> AsyncIterator[None]:
    """A presenter alone, running, once its first pass (over no replies) is over."""
    first_pass = asyncio.Event()

    async def queue_view() -> QueueView:
        first_pass.set()
        return QueueView()

    presenter = Presenter(writer, replies, ServiceHealth(), edit_interval_s=0.0, queue_view=queue_view)
    loop = asyncio.create_task(presenter.run())
    try:
        await first_pass.wait()
        yield
    finally:
        await presenter.stop()
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)


async def test_a_change_after_a_quiet_moment_is_shown_without_waiting_for_the_pass_gap(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presenter_module, "PASS_GAP_S", 3600.0)
    replies = RecordingReplies()
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    writer = JobWriter(store, clock=lambda: now[0])
    async with presenter_after_its_first_pass(writer, replies):
        now[0] += timedelta(hours=2)
        job = await writer.create(new_job())
        async with replies.changed, asyncio.timeout(30):
            await replies.changed.wait_for(lambda: bool(replies.cards(job.id)))
        assert replies.cards(job.id)[0].title


async def test_an_end_goes_out_while_the_next_pass_waits_out_its_gap(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presenter_module, "PASS_GAP_S", 3600.0)
    listener, replies = WatchingListener(), RecordingReplies()
    writer = JobWriter(store, listeners=[listener], clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    async with presenter_after_its_first_pass(writer, replies):
        job = await writer.create(new_job())  # its first card waits for the next pass, an hour away
        await cancel_and_wait_final(writer, listener, job.id)
        assert len(replies.cards(job.id)) == 1  # the end alone: the waiting card was never needed
        assert replies.announced == [job.id]
