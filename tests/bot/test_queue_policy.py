from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from bot.jobs import Job, JobState
from bot.moderation.turn_order import ActiveLimits, fair_order
from bot.queue_policy import free_slots, next_to_submit, server_places
from tests.store.jobs_for_tests import minimal_job

START = datetime(2026, 1, 1, tzinfo=UTC)


def job(job_id: str, user: int, minute: int, guild: int = 1) -> Job:
    return minimal_job(job_id, created_at=START + timedelta(minutes=minute), user_id=user, guild_id=guild)


def ids(jobs: list[Job]) -> list[str]:
    return [j.id for j in jobs]


def test_free_slots_count_jobs_at_runcomfy_and_those_being_sent() -> None:
    assert free_slots(max_active=4, active=1, launching=1, probing=False) == 2
    assert free_slots(max_active=4, active=4, launching=0, probing=False) == 0
    assert free_slots(max_active=2, active=3, launching=0, probing=False) == 0


def test_while_probing_a_single_job_goes_out() -> None:
    assert free_slots(max_active=4, active=0, launching=0, probing=True) == 1
    assert free_slots(max_active=4, active=0, launching=1, probing=True) == 0
    assert free_slots(max_active=1, active=1, launching=0, probing=True) == 0


def test_places_count_within_each_server() -> None:
    jobs = [job("a1", 1, 0, guild=1), job("b1", 2, 1, guild=2), job("a2", 3, 2, guild=1)]
    assert server_places(fair_order(jobs)) == {"a1": 1, "b1": 1, "a2": 2}
    assert server_places([]) == {}


def test_next_to_submit_skips_jobs_being_sent_and_jobs_being_cancelled() -> None:
    jobs = [job("a1", 1, 0), job("b1", 2, 1), job("c1", 3, 2), job("d1", 4, 3)]
    jobs[2] = dataclasses.replace(jobs[2], cancel_requested_by=3)
    chosen = next_to_submit(jobs, [], ActiveLimits(4), free=2, launching={"a1"})
    assert ids(chosen) == ["b1", "d1"]


def test_a_member_at_their_cap_lets_the_next_member_go() -> None:
    running = [job("r1", 1, 0).moved_to(JobState.SUBMITTING)]
    ordered = fair_order([job("a1", 1, 1), job("b1", 2, 2)])
    chosen = next_to_submit(ordered, running, ActiveLimits(4, per_member=1), free=3, launching=())
    assert ids(chosen) == ["b1"]


def test_a_server_at_its_cap_or_paused_sends_nothing_more() -> None:
    running = [job("r1", 1, 0, guild=1).moved_to(JobState.SUBMITTING)]
    ordered = fair_order([job("a1", 2, 1, guild=1), job("b1", 3, 2, guild=2), job("c1", 4, 3, guild=3)])
    capped = next_to_submit(ordered, running, ActiveLimits(4, per_server=1), free=3, launching=())
    paused = next_to_submit(ordered, [], ActiveLimits(4, paused_servers=frozenset({2})), free=3, launching=())
    assert ids(capped) == ["b1", "c1"]
    assert ids(paused) == ["a1", "c1"]


def test_next_to_submit_takes_no_more_than_is_free() -> None:
    ordered = fair_order([job("a1", 1, 0), job("a2", 1, 1), job("b1", 2, 2)])
    assert ids(next_to_submit(ordered, [], ActiveLimits(4), free=2, launching=())) == ["a1", "b1"]
