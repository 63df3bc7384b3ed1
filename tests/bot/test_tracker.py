"""Following jobs at RunComfy: failures, the maximum job time, transient errors, foreign requests."""

from __future__ import annotations

from pathlib import Path

from bot.jobs import FailureReason, JobState
from client.fake import Fault
from tests.bot.engine_harness import new_job, running_engine


async def test_a_failed_generation_carries_runcomfy_error(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        engine.fake.fail_next_jobs(1, message="content policy")
        job = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(job.id, JobState.IN_QUEUE)
        engine.fake.advance(submitted.request_id or "")
        engine.fake.advance(submitted.request_id or "")
        failed = await engine.wait_final(job.id)
        assert failed.failure_reason is FailureReason.GENERATION_FAILED
        assert "content policy" in (failed.failure_detail or "")


async def test_a_job_past_its_maximum_is_cancelled_and_failed(tmp_path: Path) -> None:
    async with running_engine(tmp_path, job_max_s=0.3) as engine:
        job = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(job.id, JobState.IN_QUEUE)
        failed = await engine.wait_final(job.id)
        assert failed.failure_reason is FailureReason.TIMED_OUT
        assert engine.fake.jobs[submitted.request_id or ""].status == "cancelled"


async def test_transient_status_errors_do_not_fail_the_job(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        job = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(job.id, JobState.IN_QUEUE)
        engine.fake.inject(Fault.http(500, endpoint="result", times=6))
        await engine.fake.wait_for(lambda: not engine.fake.pending_faults)
        engine.fake.set_state(submitted.request_id or "", "completed")
        final = await engine.wait_final(job.id)
        assert final.state is JobState.DELIVERED


async def test_a_request_of_another_account_fails_that_job_only(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        job = await engine.scheduler.enqueue(new_job())
        await engine.wait_state(job.id, JobState.IN_QUEUE)
        engine.fake.inject(Fault.http(403, endpoint="result", error_code=403001, times=None))
        failed = await engine.wait_final(job.id)
        assert failed.failure_reason is FailureReason.NOT_FOUND
        assert not engine.health.degraded
