import dataclasses
from datetime import UTC, datetime, timedelta

from bot.jobs import Job
from bot.queue_policy import admit, fair_order, free_slots, next_to_submit, places_to_fill, queue_positions
from bot.store.base import AdmissionFacts
from tests.store.jobs_for_tests import minimal_job

START = datetime(2026, 1, 1, tzinfo=UTC)


def job(job_id: str, user: int, minute: int, guild: int = 1) -> Job:
    return minimal_job(job_id, created_at=START + timedelta(minutes=minute), user_id=user, guild_id=guild)


def test_members_take_turns_oldest_first() -> None:
    jobs = [
        job("a1", 1, 0),
        job("a2", 1, 1),
        job("a3", 1, 2),
        job("b1", 2, 3),
        job("c1", 3, 4),
        job("b2", 2, 5),
    ]
    assert [j.id for j in fair_order(jobs)] == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_order_does_not_depend_on_input_order() -> None:
    jobs = [job("a1", 1, 0), job("b1", 2, 1), job("a2", 1, 2)]
    assert fair_order(reversed(jobs)) == fair_order(jobs)


def test_same_user_in_two_servers_has_two_lanes() -> None:
    jobs = [job("x1", 1, 0, guild=1), job("x2", 1, 1, guild=1), job("y1", 1, 2, guild=2)]
    assert [j.id for j in fair_order(jobs)] == ["x1", "y1", "x2"]


def test_a_member_served_recently_waits_for_the_others() -> None:
    jobs = [job("a2", 1, 1), job("b1", 2, 2), job("c1", 3, 3)]
    served = {(1, 1): START + timedelta(minutes=5)}
    assert [j.id for j in fair_order(jobs, served)] == ["b1", "c1", "a2"]
    served[(1, 2)] = START + timedelta(minutes=6)
    assert [j.id for j in fair_order(jobs, served)] == ["c1", "a2", "b1"]


def test_positions_are_one_based_places_in_the_fair_order() -> None:
    jobs = [job("a1", 1, 0), job("a2", 1, 1), job("b1", 2, 2)]
    assert queue_positions(jobs) == {"a1": 1, "b1": 2, "a2": 3}
    assert queue_positions([]) == {}


def test_free_slots_count_jobs_at_runcomfy_and_those_being_sent() -> None:
    assert free_slots(max_active=4, active=1, launching=1, probing=False) == 2
    assert free_slots(max_active=4, active=4, launching=0, probing=False) == 0
    assert free_slots(max_active=2, active=3, launching=0, probing=False) == 0


def test_while_probing_a_single_job_goes_out() -> None:
    assert free_slots(max_active=4, active=0, launching=0, probing=True) == 1
    assert free_slots(max_active=4, active=0, launching=1, probing=True) == 0
    assert free_slots(max_active=1, active=1, launching=0, probing=True) == 0


def test_next_to_submit_skips_jobs_being_sent_and_jobs_being_cancelled() -> None:
    jobs = [job("a1", 1, 0), job("b1", 2, 1), job("c1", 3, 2), job("d1", 4, 3)]
    jobs[2] = dataclasses.replace(jobs[2], cancel_requested_by=3)
    chosen = next_to_submit(jobs, {}, free=2, launching={"a1"})
    assert [j.id for j in chosen] == ["b1", "d1"]


def test_next_to_submit_follows_the_fair_order() -> None:
    jobs = [job("a1", 1, 0), job("a2", 1, 1), job("b1", 2, 2)]
    assert [j.id for j in next_to_submit(jobs, {}, free=3, launching=())] == ["a1", "b1", "a2"]


def test_places_to_fill_counts_every_process_and_probes_with_one() -> None:
    assert places_to_fill(max_active=4, in_use=1, probing=False, launching_here=0) == 3
    assert places_to_fill(max_active=4, in_use=5, probing=False, launching_here=0) == 0
    assert places_to_fill(max_active=4, in_use=1, probing=True, launching_here=0) == 1
    assert places_to_fill(max_active=4, in_use=1, probing=True, launching_here=1) == 0


def test_admit_leaves_a_head_job_it_may_not_claim_in_its_place() -> None:
    waiting = [job("a1", 1, 0), job("b1", 2, 1), job("c1", 3, 2)]
    facts = AdmissionFacts(waiting, frozenset({"b1", "c1"}), in_use=0, last_served={})
    assert [j.id for j in admit(facts, free=2)] == ["b1"]
    assert [j.id for j in admit(facts, free=3)] == ["b1", "c1"]


def test_admit_uses_the_stored_turns_and_skips_cancels() -> None:
    waiting = [job("a1", 1, 0), dataclasses.replace(job("b1", 2, 1), cancel_requested_by=2), job("c1", 3, 2)]
    served = {(1, 1): START}
    facts = AdmissionFacts(waiting, frozenset({"a1", "b1", "c1"}), in_use=0, last_served=served)
    assert [j.id for j in admit(facts, free=2)] == ["c1", "a1"]
