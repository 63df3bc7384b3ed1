"""What a restart finds half done: a POST in flight is never resent, a promised cancel is kept."""

from __future__ import annotations

from pathlib import Path

from bot.jobs import CancelPlace, FailureReason, JobState
from bot.submission import to_api_input
from tests.bot.engine_harness import make_job, running_engine


async def test_a_job_caught_mid_submission_by_a_restart_fails_without_resending(tmp_path: Path) -> None:
    async with running_engine(tmp_path, start_loops=False) as engine:
        job = await engine.store.create(make_job())
        await engine.store.save(job.moved_to(JobState.SUBMITTING))
        [resolved] = await engine.scheduler.recover(await engine.store.unfinished())
        assert resolved.id == job.id
        assert resolved.failure_reason is FailureReason.SUBMISSION_INTERRUPTED
        assert engine.fake.requests == ()


async def test_a_promised_cancel_is_kept_after_a_restart(tmp_path: Path) -> None:
    async with running_engine(tmp_path, start_loops=False) as engine:
        at_runcomfy = await engine.store.create(make_job(user_id=1))
        submission = await engine.api.submit(to_api_input(at_runcomfy))
        await engine.store.save(
            at_runcomfy.moved_to(JobState.SUBMITTING)
            .moved_to(JobState.IN_QUEUE, request_id=submission.request_id)
            .with_changes(cancel_requested_by=1)
        )
        waiting = await engine.store.create(make_job(user_id=2))
        await engine.store.save(
            waiting.moved_to(JobState.SUBMITTING)
            .moved_to(JobState.QUEUED)
            .with_changes(cancel_requested_by=2)
        )
        await engine.scheduler.recover(await engine.store.unfinished())
        await engine.wait_state(at_runcomfy.id, JobState.CANCELLED)
        await engine.wait_state(waiting.id, JobState.CANCELLED)
        assert (await engine.stored(at_runcomfy.id)).cancel_place is CancelPlace.RUNCOMFY
        assert engine.fake.jobs[submission.request_id].status == "cancelled"
        assert (await engine.stored(waiting.id)).cancel_place is CancelPlace.LOCAL
        assert len(engine.fake.requests_to("submit")) == 1
