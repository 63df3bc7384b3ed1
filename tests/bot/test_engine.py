"""The core end to end without Discord: scheduler, tracker and presenter against the RunComfy double."""

from __future__ import annotations

from pathlib import Path

from bot.jobs import JobState
from tests.bot.engine_harness import new_job, running_engine


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
