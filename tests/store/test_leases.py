"""Leases and admission claims, on SQLite and PostgreSQL: what several processes sharing one store rely on.

Each "process" here is its own store (its own engine and connections) on one database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from bot.jobs import ACTIVE_STATES, FailureReason, Job, JobState
from bot.leases import LeaseTerms
from bot.queue_policy import admit, places_to_fill
from bot.store import JobStore, open_store
from bot.store.base import AdmissionFacts, LeaseHeldError
from tests.store.jobs_for_tests import T0, minimal_job
from tests.store.postgres_for_tests import fresh_postgres_database

A = LeaseTerms("process-a")
B = LeaseTerms("process-b")
LATER = T0 + A.period + timedelta(seconds=1)
"""A moment when every lease taken at T0 has expired."""


@asynccontextmanager
async def sibling(database_url: str) -> AsyncIterator[JobStore]:
    """Another process's store on the same database."""
    other = await open_store(database_url)
    try:
        yield other
    finally:
        await other.close()


def global_limit(max_active: int) -> Callable[[AdmissionFacts], Sequence[Job]]:
    def rule(facts: AdmissionFacts) -> Sequence[Job]:
        free = places_to_fill(max_active=max_active, in_use=facts.in_use, probing=False, launching_here=0)
        return admit(facts, free=free)

    return rule


async def facts_seen(store: JobStore) -> AdmissionFacts:
    """What an admission claim reads, claiming nothing."""
    seen: list[AdmissionFacts] = []

    def look(facts: AdmissionFacts) -> Sequence[Job]:
        seen.append(facts)
        return []

    await store.admit(A.at(T0), look)
    return seen[0]


def job(number: int, *, user_id: int = 333, minutes: int = 0) -> Job:
    return minimal_job(f"job{number:05d}", user_id=user_id, created_at=T0 + timedelta(minutes=minutes))


async def test_a_live_lease_keeps_another_process_from_writing_the_job(store: JobStore) -> None:
    created = await store.create(job(1), A.at(T0))
    saved = await store.save(created.moved_to(JobState.SUBMITTING, at=T0), A.at(T0))

    with pytest.raises(LeaseHeldError) as held:
        await store.save(saved.failed(FailureReason.SUBMISSION_INTERRUPTED, at=T0), B.at(T0))
    assert held.value.owner == A.owner
    assert (await store.get(saved.id)) == saved


async def test_an_expired_lease_passes_to_the_next_writer(store: JobStore) -> None:
    created = await store.create(job(1), A.at(T0))
    await store.save(created.failed(FailureReason.SUBMISSION_INTERRUPTED, at=LATER), B.at(LATER))

    stored = await store.get(created.id)
    assert stored is not None
    with pytest.raises(LeaseHeldError) as held:
        await store.save(stored.with_changes(at=LATER), A.at(LATER))
    assert held.value.owner == B.owner


async def test_a_done_job_is_leased_to_nobody(store: JobStore) -> None:
    created = await store.create(job(1), A.at(T0))
    done = await store.save(
        created.moved_to(JobState.CANCELLED, at=T0).with_changes(reply_final=True), A.at(T0)
    )

    assert await store.next_lease_expiry(B.owner) is None
    assert await store.save(done.with_changes(at=T0), B.at(T0))  # nobody holds it any more


async def test_admission_never_hands_out_more_places_than_the_limit_across_processes(
    store: JobStore, database_url: str
) -> None:
    for number in range(8):
        await store.create(job(number, user_id=number), (A if number % 2 else B).at(T0))
    async with sibling(database_url) as other:
        claims = [
            (store if turn % 2 else other).admit((A if turn % 2 else B).at(T0), global_limit(3))
            for turn in range(10)
        ]
        admitted = await asyncio.gather(*claims)

    taken = {claimed.id for batch in admitted for claimed in batch}
    assert len(taken) == 3
    assert (await facts_seen(store)).in_use == 3


async def test_a_submitted_job_still_holds_its_place_and_a_finished_one_frees_it(store: JobStore) -> None:
    for number in range(3):
        await store.create(job(number, user_id=number), A.at(T0))
    [first] = await store.admit(A.at(T0), global_limit(1))
    assert await store.admit(A.at(T0), global_limit(1)) == [first]  # admitted, still waiting to be sent

    sent = await store.save(first.moved_to(JobState.SUBMITTING, at=T0), A.at(T0))
    assert await store.admit(A.at(T0), global_limit(1)) == []
    await store.save(
        sent.moved_to(JobState.IN_QUEUE, at=T0, request_id="r1").failed(
            FailureReason.GENERATION_FAILED, at=T0
        ),
        A.at(T0),
    )
    [second] = await store.admit(A.at(T0), global_limit(1))
    assert second.id != first.id
    assert await store.count_in_states(list(ACTIVE_STATES)) == 0


async def test_the_head_of_the_line_waits_for_its_live_owner_not_for_whoever_claims_first(
    store: JobStore,
) -> None:
    head = await store.create(job(1, user_id=1, minutes=0), A.at(T0))
    behind = await store.create(job(2, user_id=2, minutes=1), B.at(T0))

    assert await store.admit(B.at(T0), global_limit(1)) == []
    assert [j.id for j in await store.admit(A.at(T0), global_limit(1))] == [head.id]
    assert await store.admit(B.at(T0), global_limit(2)) == [await store.get(behind.id)]


async def test_an_admitted_job_of_a_dead_process_is_claimed_by_another_once_its_lease_expired(
    store: JobStore,
) -> None:
    await store.create(job(1), A.at(T0))
    [admitted] = await store.admit(A.at(T0), global_limit(1))

    assert await store.admit(B.at(T0), global_limit(1)) == []
    adopted = await store.adopt(B.at(LATER), at_start=False)
    assert [(j.id, owner) for j, owner in adopted] == [(admitted.id, A.owner)]
    assert [j.id for j in await store.admit(B.at(LATER), global_limit(1))] == [admitted.id]


async def test_turns_are_remembered_in_the_store_for_every_process(
    store: JobStore, database_url: str
) -> None:
    await store.create(job(1, user_id=1, minutes=0), A.at(T0))
    await store.create(job(2, user_id=1, minutes=1), A.at(T0))
    await store.create(job(3, user_id=2, minutes=2), A.at(T0))
    [served] = await store.admit(A.at(T0), global_limit(1))
    assert served.user_id == 1

    async with sibling(database_url) as other:
        assert await other.last_served() == {(111, 1): T0}
        facts = await facts_seen(other)
    order = admit(facts, free=2)
    assert [j.user_id for j in order] == [2, 1]  # the member served already waits for the one who was not


async def test_a_starting_process_adopts_its_own_and_unleased_jobs_but_not_a_live_siblings(
    store: JobStore,
) -> None:
    own = await store.create(job(1), A.at(T0))
    unleased = await store.create(job(2))
    await store.create(job(3), B.at(T0))

    adopted = await store.adopt(A.at(T0 + timedelta(seconds=1)), at_start=True)
    assert sorted((j.id, owner) for j, owner in adopted) == [(own.id, A.owner), (unleased.id, None)]
    assert await store.adopt(A.at(T0 + timedelta(seconds=1)), at_start=False) == []


async def test_a_heartbeat_keeps_only_its_own_leases_alive(store: JobStore) -> None:
    await store.create(job(1), A.at(T0))
    await store.create(job(2), B.at(T0))
    assert await store.renew_leases(A.at(LATER - timedelta(seconds=5))) == {"job00001": 1}

    adopted = await store.adopt(LeaseTerms("process-c").at(LATER), at_start=False)
    assert [(j.id, owner) for j, owner in adopted] == [("job00002", B.owner)]
    assert await store.next_lease_expiry("process-c") == LATER - timedelta(seconds=5) + A.period


async def test_an_announcement_wakes_a_sibling_listening_on_postgresql() -> None:
    # PostgreSQL only: on SQLite (one process per file) wake-ups stay in the process.
    heard = asyncio.Event()
    async with fresh_postgres_database() as url, sibling(url) as store, sibling(url) as other:
        stop_listening = await other.listen(heard.set)
        try:
            await store.announce()
            await asyncio.wait_for(heard.wait(), 5)
        finally:
            await stop_listening()


async def test_an_unleased_job_is_admitted_only_once_a_starting_process_adopted_it(store: JobStore) -> None:
    unleased = await store.create(job(1))
    assert await store.admit(A.at(T0), global_limit(1)) == []

    await store.adopt(A.at(T0), at_start=True)
    assert [j.id for j in await store.admit(A.at(T0), global_limit(1))] == [unleased.id]


async def test_the_claim_reads_the_places_taken_in_each_server_and_by_each_member(store: JobStore) -> None:
    for number, (guild_id, user_id) in enumerate(((1, 7), (1, 7), (1, 8), (2, 7))):
        await store.create(minimal_job(f"job{number:05d}", guild_id=guild_id, user_id=user_id), A.at(T0))
    await store.admit(A.at(T0), global_limit(4))

    facts = await facts_seen(store)
    assert (facts.in_use, dict(facts.in_use_by_guild)) == (4, {1: 3, 2: 1})
    assert dict(facts.in_use_by_member) == {(1, 7): 2, (1, 8): 1, (2, 7): 1}


class LateWriteAfterFirstRead:
    """A connection that runs ``late`` (another process's write) after its first statement, as a write
    that PostgreSQL's advisory lock does not hold back can land between a read and the update after it."""

    def __init__(self, connection: Any, late: Callable[[], Awaitable[object]]) -> None:
        self._connection = connection
        self._late: Callable[[], Awaitable[object]] | None = late

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._connection.execute(*args, **kwargs)
        if self._late is not None:
            late, self._late = self._late, None
            await late()
        return result


async def test_a_takeover_leaves_a_job_whose_owner_renewed_its_lease_after_the_read() -> None:
    async with fresh_postgres_database() as url, sibling(url) as a, sibling(url) as b:
        job = await a.create(minimal_job(), A.at(T0))

        async def late_write() -> None:  # process A, its loop back, writes the job again
            await a.save(job.moved_to(JobState.SUBMITTING, at=LATER), A.at(LATER))

        real = b._serialised  # type: ignore[attr-defined]

        @asynccontextmanager
        async def serialised() -> AsyncIterator[Any]:
            async with real() as connection:
                yield LateWriteAfterFirstRead(connection, late_write)

        b._serialised = serialised  # type: ignore[attr-defined]
        adopted = await b.adopt(B.at(LATER), at_start=False)

        assert adopted == []
        stored = await b.get(job.id)
        assert stored is not None
        with pytest.raises(LeaseHeldError):  # still A's: B may not write it
            await b.save(stored.moved_to(JobState.IN_QUEUE, at=LATER, request_id="r"), B.at(LATER))


async def test_a_heartbeat_that_lands_late_never_shortens_a_lease(store: JobStore) -> None:
    await store.create(job(1), A.at(LATER))
    assert await store.renew_leases(A.at(LATER - timedelta(seconds=10))) == {"job00001": 1}
    assert await store.next_lease_expiry("process-c") == LATER + A.period
