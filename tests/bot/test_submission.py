"""The paid POST's protocol against the RunComfy double: what each answer does to the job and the queue."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import submission
from bot.backoff import Backoff
from bot.i18n import t
from bot.jobs import FailureReason, Job, JobState
from bot.store.base import Lease
from client.fake import FakeConfig, Fault
from tests.bot.engine_harness import make_job, new_job, running_engine


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
            lambda job_id, _now: dataclasses.replace(
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


async def test_an_accepted_request_id_is_kept_however_long_the_store_refuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        submission, "SAVE_BACKOFF", Backoff(timedelta(milliseconds=1), timedelta(milliseconds=5))
    )
    async with running_engine(tmp_path, max_active=1) as engine:
        store = engine.store
        real_save = store.save
        refusals = 0
        refusing = True
        refused_often = asyncio.Event()

        async def save(job: Job, lease: Lease | None = None) -> Job:
            nonlocal refusals
            if job.request_id is not None and refusing:
                refusals += 1
                if refusals > 20:  # far more than any fixed number of tries
                    refused_often.set()
                raise OSError("disk I/O error")
            return await real_save(job, lease)

        monkeypatch.setattr(store, "save", save)
        job = await engine.scheduler.enqueue(new_job())
        second = await engine.scheduler.enqueue(new_job(prompt="waits its turn"))
        waiting_there = t("en", "card.title.in_queue")

        def shown_as_accepted() -> bool:
            return any(c.title == waiting_there for c in engine.replies.cards(job.id))

        async with engine.replies.changed:
            await asyncio.wait_for(engine.replies.changed.wait_for(shown_as_accepted), 10)
        await asyncio.wait_for(refused_often.wait(), 10)
        assert (await engine.stored(job.id)).state is JobState.SUBMITTING
        assert (await engine.stored(second.id)).state is JobState.QUEUED  # the slot stays counted
        refusing = False
        accepted = await engine.wait_state(job.id, JobState.IN_QUEUE, timeout=10)
        await engine.fake.wait_for_requests("result", 1)

        assert accepted.request_id == next(iter(engine.fake.jobs))
        assert len(engine.fake.requests_to("submit")) == 1


async def test_an_accepted_job_is_shown_as_accepted_though_another_field_was_saved_as_it_was_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        submission, "SAVE_BACKOFF", Backoff(timedelta(milliseconds=5), timedelta(milliseconds=20))
    )
    async with running_engine(tmp_path, max_active=1) as engine:
        store, writer = engine.store, engine.core.writer
        real_save, real_get = store.save, store.get
        refused = asyncio.Event()
        raced = False

        async def save(job: Job, lease: Lease | None = None) -> Job:
            if job.request_id is not None:
                refused.set()
                raise OSError("disk I/O error")
            return await real_save(job, lease)

        def with_message_id(job: Job, _now: datetime) -> Job:
            return dataclasses.replace(job, reply=dataclasses.replace(job.reply, message_id=5))

        async def get(job_id: str) -> Job | None:
            nonlocal raced
            read = await real_get(job_id)
            if refused.is_set() and not raced:
                raced = True  # the reply's message id is stored just after the job was read to be shown
                await writer.apply(job_id, with_message_id)
            return read

        monkeypatch.setattr(store, "save", save)
        monkeypatch.setattr(store, "get", get)
        job = await engine.scheduler.enqueue(new_job())
        waiting_there = t("en", "card.title.in_queue")

        def shown_as_accepted() -> bool:
            cards = engine.replies.cards(job.id)
            return raced and bool(cards) and cards[-1].title == waiting_there

        async with engine.replies.changed:
            await asyncio.wait_for(engine.replies.changed.wait_for(shown_as_accepted), 10)

        assert (await engine.stored(job.id)).reply.message_id == 5
        assert (await engine.stored(job.id)).state is JobState.SUBMITTING
        assert len(engine.fake.requests_to("submit")) == 1


async def test_a_request_id_that_is_not_url_safe_fails_the_job_as_an_unexpected_answer(
    tmp_path: Path,
) -> None:
    async with running_engine(tmp_path) as engine:
        engine.fake.answer_request_ids("../../admin")
        job = await engine.scheduler.enqueue(new_job())
        failed = await engine.wait_final(job.id)
        assert failed.failure_reason is FailureReason.UNEXPECTED_ANSWER
        assert failed.request_id is None
        assert len(engine.fake.requests_to("submit")) == 1
