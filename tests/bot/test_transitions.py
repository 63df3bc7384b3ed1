"""The one write path: lock, re-read, pure transition, versioned save, then every listener in turn."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from bot.jobs import FailureReason, Job, JobState
from bot.leases import LeaseTerms
from bot.store import JobStore
from bot.store.base import Lease
from bot.transitions import JobWriter, Transition
from tests.bot.engine_harness import new_job, running_engine
from tests.store.jobs_for_tests import minimal_job

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


class Heard:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.jobs: list[Job] = []

    def job_changed(self, job: Job) -> None:
        self.jobs.append(job)
        self.log.append(f"{self.name}:job:{job.state}")

    def queue_changed(self) -> None:
        self.log.append(f"{self.name}:queue")


def built(job_id: str, now: datetime) -> Job:
    return minimal_job(job_id, created_at=now)


async def test_create_mints_the_id_and_tells_every_listener_in_order(store: JobStore) -> None:
    log: list[str] = []
    writer = JobWriter(store, listeners=[Heard("a", log), Heard("b", log)], new_id=lambda: "0000beef")
    job = await writer.create(built)
    assert job.id == "0000beef"
    assert job.version == 1
    assert log == ["a:job:queued", "b:job:queued", "a:queue", "b:queue"]


async def test_a_taken_id_is_minted_again(store: JobStore) -> None:
    minted = iter(["0000000a", "0000000a", "0000000b"])
    writer = JobWriter(store, new_id=lambda: next(minted))
    first = await writer.create(built)
    second = await writer.create(built)
    assert (first.id, second.id) == ("0000000a", "0000000b")


async def test_apply_saves_the_transition_stamped_with_the_writers_clock(store: JobStore) -> None:
    log: list[str] = []
    heard = Heard("a", log)
    writer = JobWriter(store, clock=lambda: NOW, listeners=[heard])
    job = await writer.create(built)
    written = await writer.apply(job.id, lambda j, now: j.moved_to(JobState.SUBMITTING, at=now))
    assert written.before == job
    assert written.after is not None
    assert written.after.version == 2
    assert written.after.submitted_at == NOW
    assert await store.get(job.id) == written.after
    assert heard.jobs[-1] == written.after
    assert log[-1] == "a:queue"  # the job left the queue


async def test_a_transition_that_changes_nothing_saves_nothing_and_tells_nobody(store: JobStore) -> None:
    log: list[str] = []
    writer = JobWriter(store, listeners=[Heard("a", log)])
    job = await writer.create(built)
    log.clear()
    for transition in (lambda j, now: None, lambda j, now: j):
        written = await writer.apply(job.id, transition)
        assert not written.changed
        assert written.job == job
    assert (await store.get(job.id)) == job
    assert log == []


async def test_a_missing_job_is_reported_not_invented(store: JobStore) -> None:
    written = await JobWriter(store).apply("deadbeef", lambda j, now: j.failed(FailureReason.NOT_FOUND))
    assert written.before is None
    assert written.job is None


async def test_only_entering_or_leaving_the_queue_tells_of_a_queue_change(store: JobStore) -> None:
    log: list[str] = []
    writer = JobWriter(store, listeners=[Heard("a", log)])
    job = await writer.create(built)
    await writer.apply(job.id, lambda j, now: j.moved_to(JobState.SUBMITTING, at=now))
    log.clear()
    await writer.apply(job.id, lambda j, now: j.moved_to(JobState.IN_QUEUE, at=now, request_id="r"))
    await writer.apply(job.id, lambda j, now: j.with_changes(at=now, remote_queue_position=2))
    assert log == ["a:job:in_queue", "a:job:in_queue"]


async def test_concurrent_changes_of_one_job_each_see_the_other(store: JobStore) -> None:
    writer = JobWriter(store)
    job = await writer.create(built)
    release = asyncio.Event()

    async def slow_first() -> None:
        def mark(j: Job, now: datetime) -> Job:
            return j.with_changes(at=now, cancel_requested_by=1)

        await writer.apply(job.id, mark)

    async def slow_store_get(job_id: str) -> Job | None:
        await release.wait()
        return await plain_get(job_id)

    plain_get = store.get
    store.get = slow_store_get  # type: ignore[method-assign]
    first = asyncio.create_task(slow_first())
    second = asyncio.create_task(
        writer.apply(job.id, lambda j, now: j.with_changes(at=now + timedelta(seconds=1), reply_final=True))
    )
    release.set()
    await asyncio.gather(first, second)
    store.get = plain_get  # type: ignore[method-assign]
    stored = await store.get(job.id)
    assert stored is not None
    assert stored.version == 3
    assert stored.cancel_requested_by == 1
    assert stored.reply_final


async def test_a_clashing_short_id_gets_a_fresh_one(tmp_path: Path) -> None:
    minted = iter(["0000000a", "0000000a", "0000000b"])
    async with running_engine(tmp_path, start_loops=False, new_id=lambda: next(minted)) as engine:
        first = await engine.scheduler.enqueue(new_job())
        second = await engine.scheduler.enqueue(new_job(user_id=8))
        assert second.id != first.id
        assert (await engine.stored(first.id)).user_id == 7
        assert (await engine.stored(second.id)).user_id == 8


async def test_the_listener_making_a_change_is_not_told_of_it_again(store: JobStore) -> None:
    log: list[str] = []
    maker, other = Heard("maker", log), Heard("other", log)
    writer = JobWriter(store, listeners=[maker, other])
    job = await writer.create(built)
    log.clear()
    await writer.apply(job.id, lambda j, now: j.with_changes(at=now, reply_final=True), by=maker)
    assert log == ["other:job:queued"]


async def test_the_interaction_token_is_forgotten_once_the_reply_is_final_and_not_before(
    store: JobStore,
) -> None:
    writer = JobWriter(store, clock=lambda: NOW)
    job = await writer.create(built)
    token = job.reply.interaction_token
    assert token

    failed = await writer.apply(job.id, lambda j, now: j.failed(FailureReason.TIMED_OUT, at=now))
    assert failed.after is not None
    assert failed.after.reply.interaction_token == token  # the last edit still needs it

    final = await writer.apply(job.id, lambda j, now: j.with_changes(at=now, reply_final=True))
    stored = await store.get(job.id)
    assert final.after is not None
    assert stored is not None
    for ended in (final.after, stored):
        assert ended.reply.interaction_token == ""
        assert ended.reply.token_expires_at < NOW


async def test_a_job_a_live_sibling_holds_is_not_written_nor_told(store: JobStore) -> None:
    holder = JobWriter(store, clock=lambda: NOW, lease=LeaseTerms("process-a"))
    created = await holder.create(built)
    log: list[str] = []
    other = JobWriter(store, clock=lambda: NOW, lease=LeaseTerms("process-b"), listeners=[Heard("b", log)])

    written = await other.apply(created.id, lambda job, now: job.moved_to(JobState.SUBMITTING, at=now))

    assert written.held_by == "process-a"
    assert not written.changed
    assert log == []
    assert await store.get(created.id) == created


class OvertakenOnce:
    """A store on which another process writes the job just before this process's first save."""

    def __init__(self, inner: JobStore) -> None:
        self._inner = inner
        self.overtaken = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def save(self, job: Job, lease: Lease | None = None) -> Job:
        if not self.overtaken:
            self.overtaken = True
            stored = await self._inner.get(job.id)
            assert stored is not None
            await self._inner.save(stored.with_changes(at=NOW, cancel_requested_by=7), lease)
        return await self._inner.save(job, lease)


async def test_a_write_overtaken_by_another_process_is_applied_again_to_what_it_wrote(
    store: JobStore,
) -> None:
    overtaken = OvertakenOnce(store)
    writer = JobWriter(cast(JobStore, overtaken), clock=lambda: NOW)
    created = await writer.create(built)

    written = await writer.apply(created.id, lambda job, now: job.moved_to(JobState.SUBMITTING, at=now))

    assert overtaken.overtaken
    assert written.after is not None
    assert (written.after.state, written.after.cancel_requested_by) == (JobState.SUBMITTING, 7)
    assert await store.get(created.id) == written.after


class CountedReads:
    """A store that counts the jobs read back one by one."""

    def __init__(self, inner: JobStore) -> None:
        self._inner = inner
        self.reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get(self, job_id: str) -> Job | None:
        self.reads += 1
        return await self._inner.get(job_id)


def counted_writer(store: JobStore) -> tuple[CountedReads, JobWriter, list[datetime]]:
    """A writer whose store counts reads, on a clock the test moves (``now[0]``)."""
    counted = CountedReads(store)
    now = [NOW]
    return counted, JobWriter(cast(JobStore, counted), clock=lambda: now[0], lease=LeaseTerms("here")), now


def submitting(job: Job, now: datetime) -> Job:
    return job.moved_to(JobState.SUBMITTING, at=now)


def in_queue(job: Job, now: datetime) -> Job:
    return job.moved_to(JobState.IN_QUEUE, at=now, request_id="r-1")


async def test_a_job_this_process_wrote_is_not_read_again_while_the_lease_of_that_write_lasts(
    store: JobStore,
) -> None:
    counted, writer, now = counted_writer(store)
    created = await writer.create(built)
    await writer.apply(created.id, submitting)
    read = await writer.read(created.id)

    assert counted.reads == 0
    assert read == await store.get(created.id)

    now[0] = NOW + LeaseTerms("here").period  # the lease of the last write has run out
    written = await writer.apply(created.id, in_queue)
    assert counted.reads == 1
    assert written.after is not None
    assert written.after.state is JobState.IN_QUEUE


async def test_after_a_refused_write_the_job_is_read_again(store: JobStore) -> None:
    overtaken = OvertakenOnce(store)
    counted = CountedReads(cast(JobStore, overtaken))
    writer = JobWriter(cast(JobStore, counted), clock=lambda: NOW)
    created = await writer.create(built)

    await writer.apply(created.id, submitting)  # overtaken once, read again, applied again
    reads_after_the_race = counted.reads
    again = await writer.apply(created.id, in_queue)

    assert reads_after_the_race == 1
    assert counted.reads == 1  # what it saved after the race is its copy again
    assert again.after is not None
    assert again.after.cancel_requested_by == 7


async def test_a_forgotten_job_is_read_again(store: JobStore) -> None:
    counted = CountedReads(store)
    writer = JobWriter(cast(JobStore, counted), clock=lambda: NOW)
    created = await writer.create(built)
    writer.forget(created.id)

    assert await writer.read(created.id) == created
    assert counted.reads == 1


async def test_a_job_left_unleased_by_its_final_write_is_read_again(store: JobStore) -> None:
    counted = CountedReads(store)
    writer = JobWriter(cast(JobStore, counted), clock=lambda: NOW)
    created = await writer.create(built)
    await writer.apply(created.id, lambda job, now: job.moved_to(JobState.CANCELLED, at=now))
    await writer.apply(created.id, lambda job, now: job.with_changes(at=now, reply_final=True))

    assert counted.reads == 0
    assert await writer.read(created.id) is not None
    assert counted.reads == 1  # any process may write it now


async def test_the_copy_is_not_trusted_in_the_last_heartbeat_of_its_lease(store: JobStore) -> None:
    counted, writer, now = counted_writer(store)
    terms = writer.lease
    created = await writer.create(built)

    now[0] = NOW + terms.period - terms.heartbeat - timedelta(seconds=1)
    await writer.read(created.id)
    assert counted.reads == 0
    now[0] = NOW + terms.period - terms.heartbeat  # another process's clock may be this far ahead
    await writer.read(created.id)
    assert counted.reads == 1


async def test_a_copy_a_heartbeat_renewed_stays_trusted_while_the_renewed_lease_lasts(
    store: JobStore,
) -> None:
    counted, writer, now = counted_writer(store)
    terms = writer.lease
    created = await writer.create(built)

    now[0] = NOW + terms.heartbeat
    lease = terms.at(now[0])
    writer.renewed(await store.renew_leases(lease), lease)
    now[0] = NOW + terms.period - timedelta(seconds=1)  # past the copy's trust without the heartbeat
    assert await writer.read(created.id) == await store.get(created.id)
    assert counted.reads == 0
    now[0] = lease.expires_at - terms.heartbeat
    await writer.read(created.id)
    assert counted.reads == 1


async def test_a_copy_no_longer_trusted_is_not_trusted_again_by_a_heartbeat(store: JobStore) -> None:
    counted, writer, now = counted_writer(store)
    terms = writer.lease
    created = await writer.create(built)

    now[0] = NOW + terms.period - terms.heartbeat  # another process's clock may say the lease ran out
    lease = terms.at(now[0])
    renewed = await store.renew_leases(lease)
    writer.renewed(renewed, lease)
    await writer.read(created.id)
    assert renewed == {created.id: created.version}
    assert counted.reads == 1


class HeldSave:
    """A store whose next save waits for ``release``, as a write stuck on a pool checkout or a row lock."""

    def __init__(self, inner: JobStore) -> None:
        self._inner = inner
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def save(self, job: Job, lease: Lease | None = None) -> Job:
        self.entered.set()
        await self.release.wait()
        return await self._inner.save(job, lease)


async def test_a_heartbeat_does_not_extend_a_copy_written_after_it_with_an_older_lease(
    store: JobStore,
) -> None:
    terms = LeaseTerms("here")
    now = [NOW]
    held = HeldSave(store)
    writer = JobWriter(cast(JobStore, held), clock=lambda: now[0], lease=terms)
    created = await writer.create(built)

    now[0] = NOW + timedelta(seconds=5)
    write = asyncio.create_task(writer.apply(created.id, submitting))
    await held.entered.wait()  # its lease taken at NOW+5, its save not in the row yet
    now[0] = NOW + timedelta(seconds=20)
    heartbeat = terms.at(now[0])
    renewed = await store.renew_leases(heartbeat)
    held.release.set()
    await write  # the row's lease is the write's again, to NOW+35; its copy trusted to NOW+25
    writer.renewed(renewed, heartbeat)  # the heartbeat's answer, handled after the write's

    now[0] = NOW + timedelta(seconds=36)  # another process finds the lease run out and takes the job
    other = JobWriter(store, clock=lambda: now[0], lease=LeaseTerms("there"))
    assert await store.adopt(other.lease.at(now[0]), at_start=False)
    by_other = await other.apply(created.id, in_queue)
    assert by_other.after is not None
    assert await writer.read(created.id) == by_other.after


def _noted(note: str) -> Transition:
    return lambda j, now: j.with_changes(at=now, failure_detail=note)


async def test_a_change_riding_along_is_written_with_the_next_change_and_not_before(store: JobStore) -> None:
    writer = JobWriter(store, clock=lambda: NOW)
    job = await writer.create(built)
    writer.ride_along(job.id, _noted("rode along"))
    assert await store.get(job.id) == job  # nothing is written for it alone

    written = await writer.apply(job.id, lambda j, now: j.moved_to(JobState.SUBMITTING, at=now))

    assert written.after is not None
    assert (written.after.state, written.after.failure_detail) == (JobState.SUBMITTING, "rode along")
    assert written.after.version == job.version + 1
    assert not writer.rides_along(job.id)
    again = await writer.apply(job.id, lambda j, now: j.moved_to(JobState.IN_QUEUE, at=now, request_id="r"))
    assert again.after is not None
    assert again.after.version == job.version + 2


async def test_a_change_that_changes_nothing_carries_no_rider(store: JobStore) -> None:
    writer = JobWriter(store)
    job = await writer.create(built)
    writer.ride_along(job.id, _noted("waits"))
    written = await writer.apply(job.id, lambda j, now: None)
    assert not written.changed
    assert writer.rides_along(job.id)
    assert await store.get(job.id) == job


async def test_a_rider_with_nothing_to_change_leaves_the_change_as_it_is(store: JobStore) -> None:
    writer = JobWriter(store)
    job = await writer.create(built)
    writer.ride_along(job.id, lambda j, now: None)
    written = await writer.apply(job.id, lambda j, now: j.moved_to(JobState.SUBMITTING, at=now))
    assert written.after is not None
    assert written.after.state is JobState.SUBMITTING


async def test_settle_writes_the_waiting_change_alone_once(store: JobStore) -> None:
    heard = Heard("a", [])
    writer = JobWriter(store, listeners=[heard])
    job = await writer.create(built)
    assert not (await writer.settle(job.id)).changed  # none waits

    writer.ride_along(job.id, _noted("settled"))
    written = await writer.settle(job.id)

    assert written.after is not None
    assert (written.after.failure_detail, written.after.version) == ("settled", job.version + 1)
    assert heard.jobs[-1] == written.after
    assert not writer.rides_along(job.id)


async def test_a_forgotten_job_drops_its_rider(store: JobStore) -> None:
    writer = JobWriter(store)
    job = await writer.create(built)
    writer.ride_along(job.id, _noted("dropped"))
    writer.forget(job.id)
    assert not writer.rides_along(job.id)
    written = await writer.apply(job.id, lambda j, now: j.moved_to(JobState.SUBMITTING, at=now))
    assert written.after is not None
    assert written.after.failure_detail is None


async def test_a_rider_that_finds_nothing_to_change_is_dropped_when_settled(store: JobStore) -> None:
    writer = JobWriter(store)
    job = await writer.create(built)
    writer.ride_along(job.id, lambda j, now: None)
    written = await writer.settle(job.id)
    assert not written.changed
    assert not writer.rides_along(job.id)
