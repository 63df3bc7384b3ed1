"""The core assembled (:class:`bot.engine.JobEngine`) end to end against the RunComfy double."""

from __future__ import annotations

from pathlib import Path

from bot.jobs import FailureReason, JobState
from bot.submission import to_api_input
from tests.bot.engine_harness import make_job, new_job, running_engine


async def test_a_job_walks_to_delivered_with_its_request_id_stored_first(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        job = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(job.id, JobState.IN_QUEUE)
        assert submitted.request_id is not None
        assert submitted.request_id in engine.fake.jobs
        assert (await engine.stored(job.id)).request_id == submitted.request_id
        engine.fake.advance(submitted.request_id)
        await engine.wait_state(job.id, JobState.IN_PROGRESS)
        engine.fake.advance(submitted.request_id)
        final = await engine.wait_final(job.id)
        assert final.state is JobState.DELIVERED
        assert final.video_url is not None
        assert final.video_url.endswith(".mp4")
        assert engine.replies.delivered == [job.id]
        assert engine.replies.announced == [job.id]
        assert engine.listener.history[job.id] == [
            JobState.QUEUED,
            JobState.SUBMITTING,
            JobState.IN_QUEUE,
            JobState.IN_PROGRESS,
            JobState.COMPLETED,
            JobState.DELIVERED,
        ]
        assert len(engine.fake.requests_to("submit")) == 1


async def test_resume_follows_what_runcomfy_holds_and_finishes_every_unfinished_reply(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        at_runcomfy = await engine.store.create(make_job(user_id=1))
        submission = await engine.api.submit(to_api_input(at_runcomfy))
        await engine.store.save(
            at_runcomfy.moved_to(JobState.SUBMITTING).moved_to(
                JobState.IN_QUEUE, request_id=submission.request_id
            )
        )
        ended = await engine.store.create(make_job(user_id=2))
        await engine.store.save(ended.failed(FailureReason.GENERATION_FAILED, "boom"))
        resumed = await engine.core.resume()
        assert {job.id for job in resumed} == {at_runcomfy.id, ended.id}
        assert (await engine.wait_final(ended.id)).state is JobState.FAILED
        engine.fake.set_state(submission.request_id, "completed")
        assert (await engine.wait_final(at_runcomfy.id)).state is JobState.DELIVERED
        assert sorted(engine.replies.announced) == sorted([at_runcomfy.id, ended.id])
