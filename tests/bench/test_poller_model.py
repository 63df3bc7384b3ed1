"""The plain poller's logic: edit on change only, deliver the video, give up on a silent job."""

from __future__ import annotations

from bench.poller_model import MAX_FAILED_POLLS, Deliver, End, Keep, PolledJob, Show
from client.models import Cancelled, Completed, Failed, InProgress, Queued


def test_the_reply_is_edited_only_when_what_it_says_changes() -> None:
    job = PolledJob()
    steps = [job.observe(s) for s in (Queued(3), Queued(3), Queued(1), InProgress(), InProgress())]
    assert [type(s) for s in steps] == [Show, Keep, Show, Show, Keep]
    assert steps[0] == Show("Waiting at RunComfy (3 ahead)")
    assert steps[3] == Show("Generating your video…")


def test_a_completed_job_is_delivered_and_one_without_output_ends_with_a_word() -> None:
    assert PolledJob().observe(Completed("http://x/v.mp4")) == Deliver("http://x/v.mp4")
    assert isinstance(PolledJob().observe(Completed(None)), End)


def test_failed_and_cancelled_jobs_end_the_reply() -> None:
    assert PolledJob().observe(Failed("policy")) == End("The generation failed: policy.")
    assert PolledJob().observe(Cancelled()) == End("Cancelled.")


def test_a_run_of_failed_polls_ends_the_job_and_an_answer_resets_the_count() -> None:
    job = PolledJob()
    for _ in range(MAX_FAILED_POLLS - 1):
        assert job.poll_failed() == Keep()
    job.observe(InProgress())
    for _ in range(MAX_FAILED_POLLS - 1):
        assert job.poll_failed() == Keep()
    assert isinstance(job.poll_failed(), End)
