"""The core end to end without Discord: scheduler, tracker and presenter against the RunComfy double."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from bot.cancellation import CancelResult
from bot.jobs import CancelPlace, FailureReason, Job, JobState
from bot.presenter import GIVE_UP_AFTER
from bot.scheduler import IDLE_CHECK_S
from bot.store import JobStore, open_store
from bot.submission import to_api_input
from client.fake import FakeConfig, Fault
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


async def test_at_most_max_active_jobs_reach_runcomfy_in_fair_order(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=1) as engine:
        first = await engine.scheduler.enqueue(new_job(user_id=1, minute=0))
        second_of_one = await engine.scheduler.enqueue(new_job(user_id=1, minute=1))
        first_of_two = await engine.scheduler.enqueue(new_job(user_id=2, minute=2))
        running = await engine.wait_state(first.id, JobState.IN_QUEUE)
        assert len(engine.fake.jobs) == 1
        assert (await engine.stored(second_of_one.id)).state is JobState.QUEUED
        engine.fake.set_state(running.request_id or "", "completed")
        await engine.wait_state(first_of_two.id, JobState.IN_QUEUE)
        assert (await engine.stored(second_of_one.id)).state is JobState.QUEUED
        assert len(engine.fake.jobs) == 2


async def test_cancel_in_our_queue_makes_no_api_call(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=1) as engine:
        blocker = await engine.scheduler.enqueue(new_job(user_id=1))
        await engine.wait_state(blocker.id, JobState.IN_QUEUE)
        waiting = await engine.scheduler.enqueue(new_job(user_id=2))
        assert await engine.scheduler.cancel(waiting.id, by_user_id=2) is CancelResult.CANCELLED_LOCALLY
        cancelled = await engine.wait_final(waiting.id)
        assert cancelled.cancel_place is CancelPlace.LOCAL
        assert len(engine.fake.requests_to("submit")) == 1
        assert engine.fake.requests_to("cancel") == []


async def test_cancel_while_queued_at_runcomfy_cancels_there(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        job = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(job.id, JobState.IN_QUEUE)
        assert await engine.scheduler.cancel(job.id, by_user_id=99) is CancelResult.CANCELLED_AT_RUNCOMFY
        cancelled = await engine.wait_final(job.id)
        assert cancelled.cancel_place is CancelPlace.RUNCOMFY
        assert cancelled.cancelled_by == 99
        assert engine.fake.jobs[submitted.request_id or ""].status == "cancelled"


async def test_a_generating_job_cannot_be_cancelled_and_no_call_is_wasted(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        job = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(job.id, JobState.IN_QUEUE)
        engine.fake.advance(submitted.request_id or "")
        await engine.wait_state(job.id, JobState.IN_PROGRESS)
        assert await engine.scheduler.cancel(job.id, by_user_id=7) is CancelResult.ALREADY_RUNNING
        assert engine.fake.requests_to("cancel") == []
        assert (await engine.stored(job.id)).state is JobState.IN_PROGRESS


async def test_runcomfy_refusing_a_cancel_marks_the_job_generating(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        job = await engine.scheduler.enqueue(new_job())
        submitted = await engine.wait_state(job.id, JobState.IN_QUEUE)
        engine.fake.set_state(submitted.request_id or "", "in_progress")
        assert await engine.scheduler.cancel(job.id, by_user_id=7) is CancelResult.ALREADY_RUNNING
        assert len(engine.fake.requests_to("cancel")) == 1
        assert (await engine.stored(job.id)).state is JobState.IN_PROGRESS


async def test_an_uncertain_submission_is_never_sent_twice(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        engine.fake.inject(Fault.drop(after=True, endpoint="submit"))
        job = await engine.scheduler.enqueue(new_job())
        failed = await engine.wait_final(job.id)
        assert failed.state is JobState.FAILED
        assert failed.failure_reason is FailureReason.SUBMISSION_INTERRUPTED
        assert len(engine.fake.requests_to("submit")) == 1
        assert len(engine.fake.jobs) == 1  # RunComfy did take it: a second POST would have charged twice


async def test_a_refused_submission_is_retried_and_charged_once(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        engine.fake.inject(
            Fault.http(503, endpoint="submit", times=1, retry_after=0),
            Fault.rate_limited(0, endpoint="submit"),
        )
        job = await engine.scheduler.enqueue(new_job())
        await engine.wait_state(job.id, JobState.IN_QUEUE)
        assert [r.status for r in engine.fake.requests_to("submit")] == [503, 429, 200]
        assert len(engine.fake.jobs) == 1


async def test_an_auth_refusal_pauses_submissions_and_keeps_the_job(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        engine.fake.inject(Fault.http(401, endpoint="submit", times=1))
        job = await engine.scheduler.enqueue(new_job())
        await engine.listener.wait_for(lambda: engine.health.degraded)
        await engine.listener.wait_for(
            lambda: engine.listener.history[job.id][-2:] == [JobState.SUBMITTING, JobState.QUEUED]
        )
        assert (await engine.stored(job.id)).state is JobState.QUEUED
        assert engine.fake.jobs == {}
        assert engine.health.retry_at is not None
        assert not engine.health.may_submit(engine.health.retry_at - engine.health.cooldown / 2)


async def test_submissions_resume_once_runcomfy_accepts_the_key_again(tmp_path: Path) -> None:
    async with running_engine(tmp_path, service_cooldown_s=0.2) as engine:
        engine.fake.inject(Fault.http(402, endpoint="submit", error_code=400002, times=2))
        first = await engine.scheduler.enqueue(new_job(user_id=1))
        second = await engine.scheduler.enqueue(new_job(user_id=2))
        await engine.wait_state(first.id, JobState.IN_QUEUE)
        await engine.wait_state(second.id, JobState.IN_QUEUE)
        assert not engine.health.degraded
        statuses = [r.status for r in engine.fake.requests_to("submit")]
        assert statuses.count(402) == 2
        assert statuses.count(200) == 2
        assert len(engine.fake.jobs) == 2


async def test_a_validation_refusal_fails_the_job_with_the_api_message(tmp_path: Path) -> None:
    async with running_engine(tmp_path, config=FakeConfig(manual=True, check_images=True)) as engine:
        job = await engine.scheduler.enqueue(new_job())  # its image URL is unreachable
        failed = await engine.wait_final(job.id)
        assert failed.failure_reason is FailureReason.REJECTED_INPUT
        assert failed.failure_detail
        assert engine.fake.jobs == {}


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


async def test_a_job_caught_mid_submission_by_a_restart_fails_without_resending(tmp_path: Path) -> None:
    async with running_engine(tmp_path, start_loops=False) as engine:
        job = await engine.store.create(make_job())
        await engine.store.save(job.moved_to(JobState.SUBMITTING))
        [resolved] = await engine.scheduler.recover()
        assert resolved.id == job.id
        assert resolved.failure_reason is FailureReason.SUBMISSION_INTERRUPTED
        assert engine.fake.requests == ()


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


async def test_a_clashing_short_id_gets_a_fresh_one(tmp_path: Path) -> None:
    minted = iter(["0000000a", "0000000a", "0000000b"])
    async with running_engine(tmp_path, start_loops=False, new_id=lambda: next(minted)) as engine:
        first = await engine.scheduler.enqueue(new_job())
        second = await engine.scheduler.enqueue(new_job(user_id=8))
        assert second.id != first.id
        assert (await engine.stored(first.id)).user_id == 7
        assert (await engine.stored(second.id)).user_id == 8


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


class QueueReadHeldBack:
    """A store whose queue read returns what it saw, but only once the test lets it."""

    def __init__(self, inner: JobStore) -> None:
        self._inner = inner
        self.read_done = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def queued_jobs(self, limit: int | None = None) -> list[Job]:
        seen = await self._inner.queued_jobs(limit)
        self.read_done.set()
        await self.release.wait()
        return seen


async def test_a_job_queued_during_a_scheduler_pass_is_not_left_waiting(tmp_path: Path) -> None:
    inner = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'held.sqlite3'}")
    held = QueueReadHeldBack(inner)
    try:
        async with running_engine(tmp_path, store=cast(JobStore, held)) as engine:
            await asyncio.wait_for(held.read_done.wait(), 5)  # the first pass saw an empty queue
            job = await engine.scheduler.enqueue(new_job())
            held.release.set()
            submitted = await engine.wait_state(job.id, JobState.IN_QUEUE, timeout=5)
            assert submitted.request_id in engine.fake.jobs
    finally:
        await inner.close()


async def test_an_outage_costs_one_job_not_the_whole_queue(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=1, first_pause_s=30) as engine:
        engine.fake.inject(Fault.http(502, endpoint="submit", times=None))
        jobs = [await engine.scheduler.enqueue(new_job(user_id=u)) for u in (1, 2, 3)]
        failed = await engine.wait_final(jobs[0].id)
        assert failed.failure_reason is FailureReason.SUBMISSION_INTERRUPTED
        assert len(engine.fake.requests_to("submit")) == 1
        assert [(await engine.stored(j.id)).state for j in jobs[1:]] == [JobState.QUEUED, JobState.QUEUED]


async def test_a_past_pause_no_longer_shortens_the_idle_wait(tmp_path: Path) -> None:
    async with running_engine(tmp_path, start_loops=False) as engine:
        engine.fake.inject(Fault.rate_limited(0, endpoint="submit", times=None))
        job = await engine.scheduler.enqueue(new_job())
        await engine.scheduler._fill_slots()
        await engine.listener.wait_for(
            lambda: (
                engine.listener.history[job.id][-2:]
                == [
                    JobState.SUBMITTING,
                    JobState.QUEUED,
                ]
            )
        )
        assert engine.scheduler._seconds_to_next_check() <= 0.05
        engine.fake.clear_faults()
        await engine.listener.wait_for(lambda: engine.health.not_before is not None)
        engine.health.not_before = engine.scheduler._clock() - timedelta(seconds=1)
        assert engine.scheduler._seconds_to_next_check() == IDLE_CHECK_S


async def test_stop_during_a_queue_read_submits_nothing(tmp_path: Path) -> None:
    inner = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'held.sqlite3'}")
    held = QueueReadHeldBack(inner)
    try:
        async with running_engine(tmp_path, store=cast(JobStore, held), start_loops=False) as engine:
            job = await inner.create(make_job())
            fill = asyncio.create_task(engine.scheduler._fill_slots())
            await asyncio.wait_for(held.read_done.wait(), 5)
            await engine.scheduler.stop()
            held.release.set()
            await fill
            assert engine.fake.requests_to("submit") == []
            assert (await engine.stored(job.id)).state is JobState.QUEUED
    finally:
        await inner.close()


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
        await engine.scheduler.recover()
        await engine.wait_state(at_runcomfy.id, JobState.CANCELLED)
        await engine.wait_state(waiting.id, JobState.CANCELLED)
        assert (await engine.stored(at_runcomfy.id)).cancel_place is CancelPlace.RUNCOMFY
        assert engine.fake.jobs[submission.request_id].status == "cancelled"
        assert (await engine.stored(waiting.id)).cancel_place is CancelPlace.LOCAL
        assert len(engine.fake.requests_to("submit")) == 1


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


async def test_a_request_of_another_account_fails_that_job_only(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as engine:
        job = await engine.scheduler.enqueue(new_job())
        await engine.wait_state(job.id, JobState.IN_QUEUE)
        engine.fake.inject(Fault.http(403, endpoint="result", error_code=403001, times=None))
        failed = await engine.wait_final(job.id)
        assert failed.failure_reason is FailureReason.NOT_FOUND
        assert not engine.health.degraded


async def test_a_picture_link_about_to_expire_is_refreshed_before_submission(tmp_path: Path) -> None:
    soon = format(int(datetime.now(UTC).timestamp()) + 60, "x")
    old_url = f"http://127.0.0.1:9/cat.png?ex={soon}&is=0&hm=aa"
    asked: list[list[str]] = []

    async def refresh(urls: list[str]) -> dict[str, str]:
        asked.append(urls)
        return {url: url.replace("hm=aa", "hm=fresh") for url in urls}

    async with running_engine(tmp_path, refresh_urls=refresh) as engine:
        made = make_job()
        image = dataclasses.replace(made.request.image, url=old_url)
        job = await engine.scheduler.enqueue(
            lambda job_id: dataclasses.replace(
                made, id=job_id, request=dataclasses.replace(made.request, image=image)
            )
        )
        await engine.wait_state(job.id, JobState.IN_QUEUE)
        assert asked == [[old_url]]
        [submit] = engine.fake.requests_to("submit")
        assert submit.json["first_frame_image_url"].endswith("hm=fresh")


async def test_a_wrong_api_base_pauses_submissions_and_keeps_the_job(tmp_path: Path) -> None:
    async with running_engine(tmp_path, api_base_suffix="/typo") as engine:
        job = await engine.scheduler.enqueue(new_job())
        await engine.listener.wait_for(lambda: engine.health.degraded)
        await engine.listener.wait_for(
            lambda: engine.listener.history[job.id][-2:] == [JobState.SUBMITTING, JobState.QUEUED]
        )
        assert engine.health.problem == "EndpointNotFoundError"
        assert engine.fake.jobs == {}


async def test_after_a_failed_submission_only_one_job_probes_runcomfy(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=4, start_loops=False) as engine:
        engine.fake.inject(Fault.http(502, endpoint="submit", times=None))
        for user in range(6):
            await engine.scheduler.enqueue(new_job(user_id=user))
        await engine.scheduler._fill_slots()
        await engine.fake.wait_for_requests("submit", 4)  # before anything failed, four went out together
        await asyncio.gather(*engine.scheduler._submissions)
        engine.health.not_before = None  # the pause is over
        await engine.scheduler._fill_slots()
        assert len(engine.scheduler._launching) == 1
        await asyncio.gather(*engine.scheduler._submissions)
        assert len(engine.fake.requests_to("submit")) == 5


async def test_a_probe_while_the_service_is_down_respects_the_active_limit(tmp_path: Path) -> None:
    async with running_engine(tmp_path, max_active=1, start_loops=False) as engine:
        running = await engine.store.create(make_job(user_id=1))
        await engine.store.save(
            running.moved_to(JobState.SUBMITTING).moved_to(JobState.IN_QUEUE, request_id="r")
        )
        await engine.scheduler.enqueue(new_job(user_id=2))
        engine.health.trip("AuthenticationError", datetime.now(UTC) - timedelta(minutes=5))
        assert engine.health.may_submit(datetime.now(UTC))
        await engine.scheduler._fill_slots()
        assert engine.scheduler._launching == set()
        assert engine.fake.requests_to("submit") == []
