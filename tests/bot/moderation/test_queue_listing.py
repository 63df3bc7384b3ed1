import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot.jobs import Job, JobState
from bot.moderation.admission import SpentJob
from bot.moderation.queue_listing import member_usage, page_of_own_job, paginate, queue_rows
from bot.moderation.server_settings import ServerSettings
from tests.store.jobs_for_tests import minimal_job

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def job(job_id: str, user: int, minutes_ago: int, state: JobState = JobState.QUEUED) -> Job:
    created = NOW - timedelta(minutes=minutes_ago)
    base = minimal_job(job_id, created_at=created)
    submitted = created if state is not JobState.QUEUED else None
    return dataclasses.replace(base, user_id=user, state=state, submitted_at=submitted)


def test_rows_list_sent_jobs_then_the_waiting_line_in_turn_order() -> None:
    jobs = [
        job("q1", 1, 30),
        job("q2", 1, 20),
        job("q3", 2, 10),
        job("r1", 3, 40, JobState.IN_PROGRESS),
        job("d1", 4, 50, JobState.DELIVERED),
        job("f1", 4, 50, JobState.FAILED),
    ]
    rows = queue_rows(jobs, viewer_id=2, now=NOW)
    assert [(r.job_id, r.position, r.own) for r in rows] == [
        ("r1", None, False),
        ("q1", 1, False),
        ("q3", 2, True),
        ("q2", 3, False),
    ]
    assert rows[1].age == timedelta(minutes=30)
    assert rows[0].state is JobState.IN_PROGRESS


def test_front_requests_reorder_the_listing() -> None:
    jobs = [job("q1", 1, 30), job("q2", 2, 20)]
    rows = queue_rows(jobs, viewer_id=9, now=NOW, front_requests={"q2": NOW})
    assert [r.job_id for r in rows] == ["q2", "q1"]


def test_a_clock_behind_a_job_shows_no_negative_age() -> None:
    rows = queue_rows([job("q1", 1, -5)], viewer_id=1, now=NOW)
    assert rows[0].age == timedelta(0)


@pytest.mark.parametrize(
    ("count", "page", "expected_number", "expected_total", "expected_len"),
    [(0, 1, 1, 1, 0), (10, 1, 1, 1, 10), (11, 2, 2, 2, 1), (25, 9, 3, 3, 5), (25, 0, 1, 3, 10)],
)
def test_pages(count: int, page: int, expected_number: int, expected_total: int, expected_len: int) -> None:
    rows = queue_rows([job(f"q{i:02}", i, 100 - i) for i in range(count)], viewer_id=0, now=NOW)
    result = paginate(rows, page, page_size=10)
    assert (result.number, result.total, len(result.rows)) == (expected_number, expected_total, expected_len)
    if expected_len:
        assert result.rows[0] == rows[(expected_number - 1) * 10]


def test_page_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="page_size"):
        paginate([], 1, page_size=0)


def test_the_viewers_page() -> None:
    rows = queue_rows([job(f"q{i:02}", i, 100 - i) for i in range(25)], viewer_id=13, now=NOW)
    assert page_of_own_job(rows, page_size=10) == 2
    assert page_of_own_job(rows[:5], page_size=10) == 1


def test_usage_against_the_limits() -> None:
    settings = ServerSettings(member_active=3, member_daily=5, daily_budget=20, cooldown_s=600)
    usage = member_usage(
        settings,
        NOW,
        unfinished_jobs=2,
        member_jobs_last_day=[NOW - timedelta(hours=1), NOW - timedelta(hours=25)],
        last_submission_at=NOW - timedelta(minutes=4),
        server_spent_last_day=[SpentJob(NOW - timedelta(hours=2), 6), SpentJob(NOW - timedelta(hours=30), 9)],
    )
    assert (usage.active, usage.active_limit, usage.today, usage.daily_limit) == (2, 3, 1, 5)
    assert usage.budget_left == 14
    assert usage.cooldown_left == timedelta(minutes=6)


def test_usage_without_limits_and_after_the_cooldown() -> None:
    usage = member_usage(
        ServerSettings(cooldown_s=60), NOW, 0, [], NOW - timedelta(seconds=60), [SpentJob(NOW, 99)]
    )
    assert (usage.active_limit, usage.daily_limit, usage.budget_left, usage.cooldown_left) == (
        None,
        None,
        None,
        None,
    )
    spent = member_usage(ServerSettings(daily_budget=5), NOW, 0, [], None, [SpentJob(NOW, 9)])
    assert spent.budget_left == 0
