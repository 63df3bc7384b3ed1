from datetime import UTC, datetime, timedelta

import pytest

from bot.jobs import (
    ALLOWED_TRANSITIONS,
    FailureReason,
    InvalidTransitionError,
    JobState,
    new_job_id,
)
from tests.bot.engine_harness import make_job

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_the_happy_path_stamps_each_moment_once() -> None:
    job = make_job()
    job = job.moved_to(JobState.SUBMITTING, at=at(1))
    job = job.moved_to(JobState.IN_QUEUE, at=at(2), request_id="r-1", remote_queue_position=3)
    assert job.remote_queue_position == 3
    job = job.moved_to(JobState.IN_PROGRESS, at=at(3))
    assert job.remote_queue_position is None
    job = job.moved_to(JobState.COMPLETED, at=at(4), video_url="https://v/1.mp4")
    job = job.moved_to(JobState.DELIVERED, at=at(9))
    assert (job.submitted_at, job.started_at, job.finished_at) == (at(1), at(3), at(4))
    assert job.updated_at == at(9)
    assert job.request_id == "r-1"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (JobState.QUEUED, JobState.IN_PROGRESS),
        (JobState.IN_PROGRESS, JobState.IN_QUEUE),
        (JobState.IN_PROGRESS, JobState.QUEUED),
        (JobState.DELIVERED, JobState.FAILED),
        (JobState.CANCELLED, JobState.QUEUED),
        (JobState.COMPLETED, JobState.CANCELLED),
    ],
)
def test_transitions_the_machine_does_not_allow_are_refused(old: JobState, new: JobState) -> None:
    job = make_job().with_changes(state=old)
    with pytest.raises(InvalidTransitionError):
        job.moved_to(new)


def test_end_states_are_final_and_every_state_has_rules() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(JobState)
    for state in JobState:
        assert (ALLOWED_TRANSITIONS[state] == frozenset()) is state.is_terminal


def test_a_submission_that_was_refused_goes_back_to_the_queue() -> None:
    job = make_job().moved_to(JobState.SUBMITTING).moved_to(JobState.QUEUED)
    assert job.state is JobState.QUEUED


def test_failed_carries_reason_and_detail() -> None:
    job = make_job().failed(FailureReason.REJECTED_INPUT, "prompt too long", at=at(5))
    assert (job.state, job.failure_reason, job.failure_detail, job.finished_at) == (
        JobState.FAILED,
        FailureReason.REJECTED_INPUT,
        "prompt too long",
        at(5),
    )


def test_the_interaction_token_never_shows_in_a_repr() -> None:
    job = make_job()
    assert job.reply.interaction_token not in repr(job)
    assert job.reply.interaction_token not in repr(job.reply)


def test_job_ids_are_short_hex() -> None:
    ids = {new_job_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 8 and int(i, 16) >= 0 for i in ids)
