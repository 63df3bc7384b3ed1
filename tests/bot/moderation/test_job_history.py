import dataclasses
from datetime import UTC, datetime, timedelta

from bot.jobs import Job, JobState
from bot.moderation.admission import SpentJob
from bot.moderation.job_history import job_history
from tests.store.jobs_for_tests import minimal_job

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def job(job_id: str, user: int, hours_ago: float, state: JobState, **request: object) -> Job:
    base = minimal_job(job_id, created_at=NOW - timedelta(hours=hours_ago))
    started = NOW if state in (JobState.IN_PROGRESS, JobState.DELIVERED) else None
    return dataclasses.replace(
        base,
        user_id=user,
        state=state,
        started_at=started,
        request=dataclasses.replace(base.request, **request),  # type: ignore[arg-type]
    )


def test_history_counts_by_the_quota_rules() -> None:
    jobs = [
        job("q1", 1, 0.5, JobState.QUEUED),
        job("r1", 1, 2, JobState.IN_PROGRESS, resolution="720p"),
        job("d1", 1, 5, JobState.DELIVERED, resolution="1080p", duration=10),
        job("f1", 1, 1, JobState.FAILED),
        job("c1", 1, 0.2, JobState.CANCELLED),
        job("old", 1, 30, JobState.DELIVERED),
        job("o1", 2, 3, JobState.QUEUED),
    ]
    history = job_history(jobs, user_id=1, now=NOW)
    assert history.unfinished_jobs == 2
    assert history.member_jobs_last_day == (
        NOW - timedelta(hours=5),
        NOW - timedelta(hours=2),
        NOW - timedelta(hours=0.5),
    )
    assert history.last_submission_at == NOW - timedelta(hours=0.5)
    assert history.queue_length == 2
    assert history.server_spent_last_day == (
        SpentJob(NOW - timedelta(hours=5), 10),
        SpentJob(NOW - timedelta(hours=3), 1),
        SpentJob(NOW - timedelta(hours=2), 2),
        SpentJob(NOW - timedelta(hours=0.5), 1),
    )


def test_a_member_without_jobs() -> None:
    history = job_history([job("o1", 2, 1, JobState.QUEUED)], user_id=1, now=NOW)
    assert (history.unfinished_jobs, history.member_jobs_last_day, history.last_submission_at) == (
        0,
        (),
        None,
    )
    assert history.queue_length == 1
