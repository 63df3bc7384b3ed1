import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot.backoff import Backoff
from bot.jobs import Job, JobState
from bot.poll_pacing import (
    NOT_BEFORE_ELDERS,
    JobTimings,
    Observed,
    PollPacing,
    Timing,
    no_larger,
)
from tests.store.jobs_for_tests import minimal_job

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PACING = PollPacing(Backoff(timedelta(seconds=2), timedelta(seconds=15), 1.5))


def make_job(state: JobState) -> Job:
    return minimal_job(state=state)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _finished(resolution: str, duration: int, queued_s: float, generating_s: float) -> Job:
    job = make_job(JobState.DELIVERED)
    request = dataclasses.replace(job.request, resolution=resolution, duration=duration)
    return dataclasses.replace(
        job,
        request=request,
        submitted_at=T0,
        started_at=_at(queued_s),
        finished_at=_at(queued_s + generating_s),
    )


def _running(
    resolution: str = "720p", duration: int = 5, started_s: float = 0.0, job_id: str = "0000000a"
) -> Job:
    job = make_job(JobState.IN_PROGRESS)
    request = dataclasses.replace(job.request, resolution=resolution, duration=duration)
    return dataclasses.replace(job, id=job_id, request=request, submitted_at=T0, started_at=_at(started_s))


def _waiting(resolution: str = "720p", duration: int = 5, job_id: str = "0000000a") -> Job:
    job = _running(resolution, duration, job_id=job_id)
    return dataclasses.replace(job, state=JobState.IN_QUEUE, started_at=None)


def _timings(*jobs: Job) -> JobTimings:
    timings = JobTimings()
    for job in jobs:
        timings.learn(job)
    return timings


def test_finished_jobs_give_the_least_and_the_typical_time_per_kind() -> None:
    timings = _timings(_finished("720p", 5, 3, 30), _finished("720p", 5, 1, 40), _finished("720p", 5, 5, 50))
    assert timings.generating(("720p", 5)) == Timing(30, 40)
    assert timings.queued(("720p", 5)) == Timing(1, 3)


def test_a_kind_not_seen_yet_borrows_the_least_of_any_kind() -> None:
    timings = _timings(_finished("480p", 5, 2, 20), _finished("1080p", 10, 4, 60))
    assert timings.generating(("720p", 10)) == Timing(20, 20)


def test_learning_says_when_a_kind_may_be_done_sooner_than_thought() -> None:
    timings = JobTimings()
    assert timings.learn(_finished("720p", 5, 0, 40))
    assert not timings.learn(_finished("720p", 5, 0, 45))
    assert timings.learn(_finished("720p", 5, 0, 35))
    assert timings.generating(("720p", 5)) == Timing(35, 40)
    assert timings.learn(_finished("480p", 5, 0, 50))


def test_unfinished_jobs_teach_nothing() -> None:
    timings = _timings(_running(), make_job(JobState.FAILED))
    assert timings.generating(("720p", 5)) is None


def test_with_nothing_known_a_waiting_job_waits_longer_and_a_running_one_is_polled_at_the_pace() -> None:
    waiting = Observed(_waiting(), None, quiet_polls=3)
    assert PACING.next_poll(waiting, JobTimings(), _at(10)) == PACING.pace.delay(3)
    running = Observed(_running(), None, quiet_polls=3)
    assert PACING.next_poll(running, JobTimings(), _at(10)) == PACING.pace.first


def test_polls_are_rare_while_completion_is_impossible_and_fast_once_it_is_likely() -> None:
    timings = _timings(_finished("720p", 5, 0, 40), _finished("720p", 5, 0, 50))
    job = _running(started_s=0)
    waits: list[timedelta] = []
    now = _at(0)
    while now < _at(60):
        wait = PACING.next_poll(Observed(job, None, quiet_polls=len(waits)), timings, now)
        waits.append(wait)
        now += wait
    before_possible = [w for w, t in zip(waits, _times(waits), strict=True) if t < _at(40)]
    after_possible = [w for w, t in zip(waits, _times(waits), strict=True) if _at(40) <= t]
    assert len(before_possible) <= 4  # 40 s at a 15 s cap, and one fast poll ahead of it
    assert all(w <= timedelta(seconds=2) for w in after_possible)


def _times(waits: list[timedelta]) -> list[datetime]:
    times, now = [], _at(0)
    for wait in waits:
        times.append(now)
        now += wait
    return times


def test_the_earliest_completion_counts_from_when_the_job_likely_started() -> None:
    timings = _timings(_finished("720p", 5, 0, 30))
    job = _running(started_s=20)  # seen running at 20 s, last seen waiting at 12 s: started about 16 s
    seen = Observed(job, _at(12), quiet_polls=0)
    assert PACING.earliest_completion(seen, timings, _at(20)) == _at(46)  # 16 s + 30 s
    assert PACING.next_poll(seen, timings, _at(20)) == timedelta(seconds=15)
    assert PACING.next_poll(seen, timings, _at(46)) == timedelta(seconds=2)
    unseen = Observed(job, None, quiet_polls=0)  # never seen waiting: it may have started a pause sooner
    assert PACING.earliest_completion(unseen, timings, _at(20)) == _at(48)


def test_a_finished_job_is_learned_from_midway_between_seen_waiting_and_seen_running() -> None:
    timings = JobTimings()
    timings.learn(_finished("720p", 5, 10, 30), queued_until=_at(6))  # started about 8 s
    assert timings.generating(("720p", 5)) == Timing(32, 32)
    assert timings.queued(("720p", 5)) == Timing(8, 8)


def test_a_waiting_job_is_looked_at_often_enough_to_know_when_it_started() -> None:
    short_waits = _timings(_finished("720p", 5, 2, 60))
    long_waits = _timings(_finished("720p", 5, 8, 60))
    job = dataclasses.replace(_running(), state=JobState.IN_QUEUE, started_at=None)
    seen = Observed(job, None, quiet_polls=0)
    short = PACING.next_poll(seen, short_waits, _at(0))
    long = PACING.next_poll(seen, long_waits, _at(0))
    assert short.total_seconds() == pytest.approx(5.66, abs=0.01)  # sqrt(8 × 2 s × 2 s)
    assert long.total_seconds() == pytest.approx(11.31, abs=0.01)  # sqrt(8 × 2 s × 8 s)


def test_a_waiting_job_cannot_finish_before_it_starts_and_generates() -> None:
    timings = _timings(_finished("720p", 5, 10, 30))
    job = dataclasses.replace(_running(), state=JobState.IN_QUEUE, started_at=None, remote_queue_position=3)
    seen = Observed(job, _at(15), quiet_polls=0)
    assert PACING.earliest_completion(seen, timings, _at(5)) == _at(40)  # submitted + 10 s queued + 30 s
    assert PACING.earliest_completion(seen, timings, _at(15)) == _at(45)  # still waiting at 15 s


def test_a_job_far_past_its_usual_time_is_polled_less_and_less() -> None:
    timings = _timings(_finished("720p", 5, 0, 20))
    seen = Observed(_running(started_s=0), None, quiet_polls=6)
    assert PACING.next_poll(seen, timings, _at(30)) == timedelta(seconds=2)
    assert PACING.next_poll(seen, timings, _at(41)) == PACING.pace.delay(6)


def test_a_finished_job_is_learned_to_have_ended_midway_between_seen_running_and_seen_finished() -> None:
    timings = JobTimings(pace_s=2.0)
    finished = _finished("720p", 5, 0, 40)  # seen finished at 40 s, last seen running at 38.5 s
    timings.learn(finished, queued_until=None, running_until=_at(38.5))
    assert timings.generating(("720p", 5)) == Timing(39.25, 39.25)


def test_a_job_found_finished_after_a_long_pause_ended_within_half_a_fast_pause_before() -> None:
    timings = JobTimings(pace_s=2.0)
    finished = _finished("720p", 5, 0, 40)  # seen finished at 40 s, last seen running at 10 s
    timings.learn(finished, queued_until=None, running_until=_at(10))
    assert timings.generating(("720p", 5)) == Timing(39, 39)  # not 25 s, midway through the pause


def test_only_a_kind_no_larger_in_both_lines_and_length_is_no_more_work() -> None:
    assert no_larger(("480p", 5), ("720p", 10))
    assert no_larger(("720p", 10), ("720p", 10))
    assert not no_larger(("720p", 5), ("480p", 10))
    assert not no_larger(("480p", 10), ("720p", 5))
    assert not no_larger(("1080p", 5), ("720p", 5))
    assert not no_larger(("4k", 5), ("4k", 10))  # an unknown resolution compares with itself only


def test_a_kind_not_seen_yet_takes_at_least_the_longest_least_time_of_the_kinds_below_it() -> None:
    timings = _timings(
        _finished("480p", 5, 0, 20), _finished("720p", 10, 0, 38), _finished("1080p", 5, 0, 40)
    )
    assert timings.least_generating_s(("1080p", 10), None) == 40
    assert timings.least_generating_s(("720p", 5), None) == 20  # 720p 10 s and 1080p are not below it
    assert timings.least_generating_s(("480p", 10), None) == 20


def test_a_kind_takes_no_longer_at_least_than_its_own_quickest_job() -> None:
    timings = _timings(_finished("720p", 10, 0, 38), _finished("1080p", 10, 0, 35))
    assert timings.least_generating_s(("1080p", 10), None) == 35


def test_a_kind_with_nothing_below_it_finished_borrows_the_least_time_of_any_kind() -> None:
    timings = _timings(_finished("720p", 10, 0, 38))
    assert timings.least_generating_s(("480p", 5), None) == 38
    assert timings.least_generating_s(("480p", 5), _at(10)) == 38
    assert JobTimings().least_generating_s(("480p", 5), None) is None


def _with_elders(count: int, resolution: str = "480p", duration: int = 5) -> JobTimings:
    timings = JobTimings(witnesses=3)
    for index in range(count):
        timings.started(_running(resolution, duration, started_s=index, job_id=f"elder{index}"))
    return timings


def test_a_job_with_enough_elders_generating_waits_for_them_at_the_longest_pause() -> None:
    timings = _with_elders(3)
    younger = Observed(_running("480p", 5, started_s=5), _at(4), quiet_polls=0)
    assert PACING.earliest_completion(younger, timings, _at(30)) == NOT_BEFORE_ELDERS
    assert PACING.next_poll(younger, timings, _at(30)) == PACING.pace.cap
    # a larger job waits for smaller elders too; a smaller one does not wait for larger ones
    larger = Observed(_running("1080p", 10, started_s=5), _at(4), quiet_polls=0)
    assert PACING.earliest_completion(larger, timings, _at(30)) == NOT_BEFORE_ELDERS
    smaller = Observed(_running("480p", 5, started_s=5), _at(4), quiet_polls=0)
    assert PACING.earliest_completion(smaller, _with_elders(3, "720p"), _at(30)) is None


def test_a_job_with_too_few_elders_is_polled_at_the_pace() -> None:
    timings = _with_elders(3)
    third = Observed(_running("480p", 5, started_s=1.5), _at(1.5), quiet_polls=0)  # two started before it
    assert PACING.earliest_completion(third, timings, _at(30)) is None
    assert PACING.next_poll(third, timings, _at(30)) == PACING.pace.first
    assert timings.left("elder0")
    assert not timings.left("elder0")
    younger = Observed(_running("480p", 5, started_s=5), _at(4), quiet_polls=0)
    assert PACING.earliest_completion(younger, timings, _at(30)) is None  # one elder gone


def test_the_first_elder_to_finish_sets_the_least_time_for_the_rest() -> None:
    timings = _with_elders(3)
    first = dataclasses.replace(
        _running("480p", 5, started_s=1, job_id="elder1"),
        state=JobState.COMPLETED,
        finished_at=_at(25),
    )
    assert timings.learn(first)
    younger = Observed(_running("480p", 5, started_s=5), _at(4), quiet_polls=0)
    assert PACING.earliest_completion(younger, timings, _at(10)) == _at(28.5)  # started about 4.5 s, + 24 s
    assert timings.least_generating_s(("480p", 5), _at(4)) == 24


def test_the_typical_wait_counts_the_jobs_still_waiting_at_their_wait_so_far() -> None:
    timings = JobTimings()
    timings.started(dataclasses.replace(_running(job_id="quick"), started_at=_at(1)), queued_until=_at(1))
    for index in range(2):
        timings.waiting(_waiting(job_id=f"slow{index}"))
    assert timings.typical_wait_s(("720p", 5), _at(30)) == 30  # waits 1, 30 and 30
    timings.started(dataclasses.replace(_running(job_id="slow0"), started_at=_at(31)), queued_until=_at(31))
    timings.left("slow1")
    assert timings.typical_wait_s(("720p", 5), _at(40)) == 16  # waits 1 and 31


def test_a_job_submitted_after_the_moment_asked_about_has_waited_nothing_yet() -> None:
    timings = _timings(_finished("720p", 5, 0, 30))
    for index in range(3):
        later = dataclasses.replace(_waiting(job_id=f"later{index}"), submitted_at=_at(20))
        timings.waiting(later)
    assert timings.typical_wait_s(("720p", 5), _at(10)) == 0
    seen = Observed(_waiting(job_id="early"), None, quiet_polls=0)
    assert PACING.next_poll(seen, timings, _at(10)) == PACING.pace.first


KINDS = [("480p", 5), ("480p", 10), ("720p", 5), ("1080p", 10)]


def _plans(timings: JobTimings, kind: tuple[str, int]) -> tuple[timedelta, timedelta]:
    """The next poll of a job of ``kind`` generating for 3 s, and of one waiting, at 30 s."""
    now = _at(30)
    running = _running(*kind, started_s=27)
    waiting = _waiting(*kind)
    return (
        PACING.next_poll(Observed(running, _at(26), 0), timings, now),
        PACING.next_poll(Observed(waiting, None, 0), timings, now),
    )


def test_what_is_learned_of_a_kind_moves_no_plan_the_tracker_leaves_unchecked() -> None:
    seen = [
        _finished(resolution, duration, 10, 40 + 10 * n) for n, (resolution, duration) in enumerate(KINDS[1:])
    ]
    unmoved, moved = 0, 0
    for changed in KINDS:
        for kind in KINDS:
            timings = _timings(*seen)
            before = _plans(timings, kind)
            timings.learn(_finished(*changed, 1, 2))  # a much quicker job of ``changed``
            if not timings.moves(changed, kind):
                unmoved += 1
                assert _plans(timings, kind) == before, (changed, kind)
            elif _plans(timings, kind) != before:
                moved += 1
    assert unmoved >= 3  # the check spares some plans
    assert moved >= 3  # and what was learned does move others
    assert _timings(*seen).moves(("1080p", 10), ("480p", 10)) is False
    assert _timings(*seen).moves(("1080p", 10), ("1080p", 10)) is True  # its own kind
    assert _timings(*seen).moves(("1080p", 10), ("480p", 5)) is True  # nothing of its own yet: borrows
