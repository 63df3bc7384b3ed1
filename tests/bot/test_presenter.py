"""Keeping replies in step: retries, no repeated cards, and bounded tries for an end Discord refuses."""

from __future__ import annotations

from pathlib import Path

from bot.jobs import FailureReason, JobState
from bot.presenter import GIVE_UP_AFTER
from tests.bot.engine_harness import new_job, running_engine


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
