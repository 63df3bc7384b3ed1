from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from bot.jobs import Job
from bot.moderation.turn_order import ActiveLimits, fair_order
from bot.queue_policy import admit, places_to_fill, server_places
from bot.store.base import AdmissionFacts
from tests.store.jobs_for_tests import minimal_job

START = datetime(2026, 1, 1, tzinfo=UTC)


def job(job_id: str, user: int, minute: int, guild: int = 1) -> Job:
    return minimal_job(job_id, created_at=START + timedelta(minutes=minute), user_id=user, guild_id=guild)


def ids(jobs: list[Job]) -> list[str]:
    return [j.id for j in jobs]


def facts(waiting: list[Job], **fields: object) -> AdmissionFacts:
    """What a claim reads when this process may take every waiting job and no place is in use."""
    defaults: dict[str, object] = {
        "claimable": frozenset(j.id for j in waiting),
        "in_use": 0,
        "last_served": {},
    }
    return AdmissionFacts(waiting, **(defaults | fields))  # type: ignore[arg-type]


def test_places_to_fill_counts_every_process_and_probes_with_one() -> None:
    assert places_to_fill(max_active=4, in_use=1, probing=False, launching_here=0) == 3
    assert places_to_fill(max_active=4, in_use=5, probing=False, launching_here=0) == 0
    assert places_to_fill(max_active=4, in_use=1, probing=True, launching_here=0) == 1
    assert places_to_fill(max_active=4, in_use=1, probing=True, launching_here=1) == 0
    assert places_to_fill(max_active=1, in_use=1, probing=True, launching_here=0) == 0


def test_places_count_within_each_server() -> None:
    jobs = [job("a1", 1, 0, guild=1), job("b1", 2, 1, guild=2), job("a2", 3, 2, guild=1)]
    assert server_places(fair_order(jobs)) == {"a1": 1, "b1": 1, "a2": 2}
    assert server_places([]) == {}


def test_admit_skips_jobs_being_cancelled_and_jobs_awaiting_approval() -> None:
    jobs = [job("a1", 1, 0), job("b1", 2, 1), job("c1", 3, 2), job("d1", 4, 3)]
    jobs[2] = dataclasses.replace(jobs[2], cancel_requested_by=3)
    assert ids(admit(facts(jobs), free=2, held={"a1"})) == ["b1", "d1"]


def test_admit_follows_the_fair_order_and_takes_no_more_than_is_free() -> None:
    jobs = [job("a1", 1, 0), job("a2", 1, 1), job("b1", 2, 2)]
    assert ids(admit(facts(jobs), free=3)) == ["a1", "b1", "a2"]
    assert ids(admit(facts(jobs), free=2)) == ["a1", "b1"]


def test_admit_puts_a_fronted_job_first() -> None:
    jobs = [job("a1", 1, 0), job("b1", 2, 1), job("c1", 3, 2)]
    assert ids(admit(facts(jobs), free=1, fronts={"c1": START})) == ["c1"]


def test_a_member_at_their_cap_lets_the_next_member_go() -> None:
    jobs = [job("a1", 1, 1), job("b1", 2, 2)]
    chosen = admit(
        facts(jobs, in_use=1, in_use_by_member={(1, 1): 1}), free=3, limits=ActiveLimits(4, per_member=1)
    )
    assert ids(chosen) == ["b1"]


def test_a_server_at_its_cap_or_paused_sends_nothing_more() -> None:
    jobs = [job("a1", 2, 1, guild=1), job("b1", 3, 2, guild=2), job("c1", 4, 3, guild=3)]
    capped = admit(facts(jobs, in_use_by_guild={1: 1}), free=3, limits=ActiveLimits(4, per_server=1))
    paused = admit(facts(jobs), free=3, limits=ActiveLimits(4, paused_servers=frozenset({2})))
    assert ids(capped) == ["b1", "c1"]
    assert ids(paused) == ["a1", "c1"]


def test_admit_leaves_a_head_job_it_may_not_claim_in_its_place() -> None:
    waiting = [job("a1", 1, 0), job("b1", 2, 1), job("c1", 3, 2)]
    claim = facts(waiting, claimable=frozenset({"b1", "c1"}))
    assert ids(admit(claim, free=2)) == ["b1"]
    assert ids(admit(claim, free=3)) == ["b1", "c1"]


def test_admit_uses_the_stored_turns() -> None:
    waiting = [job("a1", 1, 0), job("c1", 3, 2)]
    assert ids(admit(facts(waiting, last_served={(1, 1): START}), free=2)) == ["c1", "a1"]
