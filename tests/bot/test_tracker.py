"""Following jobs at RunComfy: failures, the maximum job time, transient errors, foreign requests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.jobs import CancelPlace, FailureReason, Job, JobState
from bot.tracker import apply_status
from bot.transitions import JobListener, Transition, Written
from client.fake import Fault
from client.models import Cancelled, Completed, Failed, InProgress, Queued, Result
from tests.bot.engine_harness import new_job, running_engine
from tests.store.jobs_for_tests import minimal_job

T1 = datetime(2026, 2, 2, 12, 0, tzinfo=UTC)


def at_runcomfy(state: JobState = JobState.IN_QUEUE, **changes: object) -> Job:
    job = minimal_job(state=JobState.SUBMITTING, request_id="r-1", submitted_at=T1 - timedelta(minutes=1))
    return job.moved_to(state, at=T1 - timedelta(seconds=30), **changes)


def test_a_new_queue_position_is_a_change_and_the_same_one_is_not() -> None:
    job = at_runcomfy(remote_queue_position=3)
    assert apply_status(job, Queued(position=3), T1) is job
    moved = apply_status(job, Queued(position=2), T1)
    assert moved.remote_queue_position == 2
    assert moved.updated_at == T1


def test_a_stale_queued_answer_never_moves_a_running_job_back() -> None:
    job = at_runcomfy(JobState.IN_PROGRESS)
    assert apply_status(job, Queued(position=1), T1) is job
    assert apply_status(job, InProgress(), T1) is job


def test_each_end_status_becomes_the_matching_end() -> None:
    job = at_runcomfy()
    done = apply_status(job, Completed(video_url="https://v.example/out.mp4"), T1)
    assert (done.state, done.video_url, done.finished_at) == (
        JobState.COMPLETED,
        "https://v.example/out.mp4",
        T1,
    )
    assert apply_status(job, Completed(video_url=None), T1).failure_reason is FailureReason.NO_VIDEO
    cancelled = apply_status(job, Cancelled(), T1)
    assert (cancelled.state, cancelled.cancel_place) == (JobState.CANCELLED, CancelPlace.RUNCOMFY)
    failed = apply_status(job, Failed(error="content policy"), T1)
    assert (failed.failure_reason, failed.failure_detail) == (
        FailureReason.GENERATION_FAILED,
        "content policy",
    )


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


async def test_a_fault_while_following_one_job_fails_that_job_and_frees_its_slot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_engine(tmp_path, max_active=1) as engine:
        broken = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(broken.id, JobState.IN_QUEUE)
        real_result = engine.api.result

        async def result(request_id: str) -> Result:
            if request_id == submitted.request_id:
                raise KeyError("a bug in handling this one answer")
            return await real_result(request_id)

        monkeypatch.setattr(engine.api, "result", result)
        after = await engine.scheduler.enqueue(new_job(prompt="the next one"))
        failed = await engine.wait_final(broken.id)
        moved_on = await engine.wait_state(after.id, JobState.IN_QUEUE)

    assert failed.failure_reason is FailureReason.INTERNAL_ERROR
    assert moved_on.request_id is not None
    assert sum("polling failed" in r.getMessage() for r in caplog.records) == 1


async def test_a_stored_request_id_that_is_not_url_safe_fails_the_job(tmp_path: Path) -> None:
    async with running_engine(tmp_path, start_loops=False) as engine:
        job = await engine.scheduler.enqueue(new_job())
        written = await engine.core.writer.apply(
            job.id,
            lambda j, now: j.moved_to(JobState.SUBMITTING).moved_to(
                JobState.IN_QUEUE, request_id="../../admin"
            ),
        )
        odd = written.after
        assert odd is not None
        engine.tracker.track(odd)
        tracking = asyncio.create_task(engine.tracker.run())
        try:
            await engine.listener.wait_for(
                lambda: engine.listener.latest.get(job.id, odd).state is JobState.FAILED
            )
        finally:
            await engine.tracker.stop()
            await tracking
        failed = await engine.stored(job.id)
    assert failed.failure_reason is FailureReason.UNEXPECTED_ANSWER
    assert not [r for r in engine.fake.requests if "admin" in r.path]


async def test_a_job_runcomfy_just_accepted_is_first_polled_later_not_at_once(tmp_path: Path) -> None:
    async with running_engine(tmp_path, start_loops=False) as engine:
        job = await engine.scheduler.enqueue(new_job())
        written = await engine.core.writer.apply(
            job.id,
            lambda j, now: j.moved_to(JobState.SUBMITTING, at=now).moved_to(
                JobState.IN_QUEUE, at=now, request_id="accepted-1"
            ),
        )
        accepted = written.after
        assert accepted is not None
        assert accepted.submitted_at is not None
        elsewhere = await engine.scheduler.enqueue(new_job(user_id=8))

        engine.tracker.submitted(accepted)
        engine.tracker.track(elsewhere)  # a job found at start is looked at at once

        follows = engine.tracker._follows
        # Planned as after a poll at the moment of the answer: at least the fast pace later.
        assert follows[accepted.id].due - accepted.updated_at >= engine.tracker._pacing.pace.first
        assert follows[elsewhere.id].due <= engine.core.writer.clock()


async def test_a_job_whose_failure_could_not_be_stored_is_still_polled_after_a_pass_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_engine(tmp_path, max_active=1) as engine:
        job = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(job.id, JobState.IN_QUEUE)
        real_result, real_apply = engine.api.result, engine.core.writer.apply
        polls: list[str] = []

        async def result(request_id: str) -> Result:
            if request_id == submitted.request_id:
                polls.append(request_id)
                if len(polls) == 1:
                    raise KeyError("a bug in handling this one answer")
            return await real_result(request_id)

        async def apply(job_id: str, transition: Transition, *, by: JobListener | None = None) -> Written:
            if job_id == job.id and by is None and len(polls) == 1:
                await engine.tracker._pass()  # the tracker's loop runs while the failure is being written
                raise OSError("the disk is full")
            return await real_apply(job_id, transition, by=by)

        monkeypatch.setattr(engine.api, "result", result)
        monkeypatch.setattr(engine.core.writer, "apply", apply)
        engine.fake.set_state(submitted.request_id or "", "completed")
        final = await engine.wait_final(job.id)

    assert final.state is JobState.DELIVERED
    assert len(polls) >= 2
