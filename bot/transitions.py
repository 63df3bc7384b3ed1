"""The one write path for jobs: every creation and change of a stored job goes through :class:`JobWriter`.

A change is a pure :data:`Transition` (the job as stored now and the time → the job to save, or None to leave
it). The writer takes the job's lock, re-reads it, applies the transition, saves it against the version it
read, then tells every listener. The re-read is skipped while the lease of this process's last write of the
job lasts, less a heartbeat for clocks that disagree: no other process may write the job meanwhile (the
store refuses it), so that copy is the row.
Nothing else in the core calls the store's ``create`` or ``save``, so whatever must happen at every change
(an audit log, metrics) attaches here.

Every write carries this process's lease (:mod:`bot.leases`): a job another live process holds is not
written (``Written.held_by`` names that process), and a write that lost a race with another process's write
is re-read and its transition applied again (transitions are pure, so this is safe).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.jobs import ACTIVE_STATES, Job, JobState, new_job_id, utcnow, without_spent_token
from bot.leases import LeaseTerms, default_owner
from bot.store import JobExistsError, JobStore, StaleJobError
from bot.store.base import Lease, LeaseHeldError

log = logging.getLogger(__name__)

ID_ATTEMPTS = 5
# A write that another process's write overtook is re-read and tried this many times in all.
WRITE_ATTEMPTS = 4
# Copies whose trust ran out are dropped once this many are kept (then twice as many as are left).
SWEEP_FROM = 1024

Transition = Callable[[Job, datetime], Job | None]
"""A pure change of a job: given the stored job and the time now, the job to save; None (or the same object)
when nothing is to change."""

Clock = Callable[[], datetime]

NewJob = Callable[[str, datetime], Job]
"""Builds a new job from the id the writer minted and the time it is created."""


class JobListener(Protocol):
    def job_changed(self, job: Job) -> None:
        """Called after ``job`` was saved in a new shape; must not block."""

    def queue_changed(self) -> None:
        """Called when jobs entered or left the bot's own queue, or its service status changed, so every
        waiting card may read differently."""


@dataclass(frozen=True, slots=True)
class Written:
    """What :meth:`JobWriter.apply` found and did."""

    before: Job | None
    """The job as stored when its lock was taken; None when there is no such job."""
    after: Job | None
    """The job as saved; None when the transition changed nothing."""
    held_by: str | None = None
    """The live process whose lease kept this one from writing the job; None when it was not."""

    @property
    def job(self) -> Job | None:
        """The job as it is stored now."""
        return self.after if self.after is not None else self.before

    @property
    def changed(self) -> bool:
        return self.after is not None


class JobWriter:
    def __init__(
        self,
        store: JobStore,
        *,
        clock: Clock = utcnow,
        listeners: Iterable[JobListener] = (),
        new_id: Callable[[], str] = new_job_id,
        lease: LeaseTerms | None = None,
    ) -> None:
        self.clock = clock
        """The one clock of the core: every stamp on a job and every wait is measured with it."""
        self.lease = lease or LeaseTerms(default_owner())
        """The lease every write of this process takes or renews."""
        self._store = store
        self._listeners = list(listeners)
        self._new_id = new_id
        self._locks: dict[str, asyncio.Lock] = {}
        self._held: dict[str, tuple[Job, datetime]] = {}
        """Jobs as this process last wrote them, with until when that copy is trusted."""
        self._riders: dict[str, Transition] = {}
        """Per job, a change that waits to be written with the job's next change (see :meth:`ride_along`)."""
        self._next_sweep = SWEEP_FROM

    def add_listener(self, listener: JobListener) -> None:
        self._listeners.append(listener)

    async def create(self, build: NewJob) -> Job:
        """Store ``build(job_id, now)`` under a freshly minted id (another one when an older job holds it)."""
        for _ in range(ID_ATTEMPTS - 1):
            try:
                stored = await self._create(build)
                break
            except JobExistsError as clash:
                log.info("job id %s is taken; minting another", clash.job_id)
        else:
            stored = await self._create(build)
        self._tell(None, stored, None)
        await self._store.announce()
        return stored

    async def _create(self, build: NewJob) -> Job:
        now = self.clock()
        lease = self.lease.at(now)
        stored = await self._store.create(build(self._new_id(), now), lease)
        self._keep(stored, lease)
        return stored

    async def apply(self, job_id: str, transition: Transition, *, by: JobListener | None = None) -> Written:
        """Change one job: lock, re-read, transition, save (refused if another writer saved first), tell.

        ``by`` is the listener making the change: it has the result and is not told of it again."""
        async with self._lock(job_id):
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                before = await self._read(job_id)
                if before is None:
                    return Written(None, None)
                now = self.clock()
                wanted = transition(before, now)
                if wanted is None or wanted is before:
                    return Written(before, None)
                rider = self._riders.get(job_id)
                if rider is not None and rider is not transition:
                    wanted = rider(wanted, now) or wanted
                lease = self.lease.at(now)
                try:
                    after = await self._store.save(without_spent_token(wanted), lease)
                    self._keep(after, lease)
                    if rider is not None and self._riders.get(job_id) is rider:
                        del self._riders[job_id]
                    break
                except LeaseHeldError as held:
                    self._held.pop(job_id, None)
                    log.info("job %s: held by %s; not written here", job_id, held.owner)
                    return Written(before, None, held_by=held.owner)
                except StaleJobError:
                    self._held.pop(job_id, None)
                    if attempt == WRITE_ATTEMPTS:
                        raise
                    log.info("job %s: another process wrote it meanwhile; applying again", job_id)
                except BaseException:
                    self._held.pop(job_id, None)  # the save's outcome is unknown
                    raise
        assert before is not None
        self._tell(before, after, by)
        if _changes_places(before, after):
            await self._store.announce()
        return Written(before, after)

    def _keep(self, job: Job, lease: Lease) -> None:
        if job.state.is_terminal and job.reply_final:
            self._held.pop(job.id, None)  # nothing is left to do, so the store leaves it unleased
            return
        if len(self._held) >= self._next_sweep:
            now = self.clock()
            self._held = {key: kept for key, kept in self._held.items() if kept[1] > now}
            self._next_sweep = max(SWEEP_FROM, 2 * len(self._held))
        self._held[job.id] = (job, lease.expires_at - self.lease.heartbeat)

    def renewed(self, versions: dict[str, int], lease: Lease) -> None:
        """A heartbeat extended the leases of the jobs in ``versions`` to ``lease.expires_at``. A copy of
        the version the heartbeat renewed, still trusted now, was the row when the heartbeat wrote (its
        lease had not run out, so no other process could write it), and stays trusted while the extended
        lease lasts, less a heartbeat. A copy this process wrote since keeps the trust of its own write."""
        now = self.clock()
        for job_id, version in versions.items():
            held = self._held.get(job_id)
            if held is not None and held[1] > now and held[0].version == version:
                self._held[job_id] = (held[0], max(held[1], lease.expires_at - self.lease.heartbeat))

    async def read(self, job_id: str) -> Job | None:
        """The job as stored: this process's own copy while the lease of its last write lasts, else read."""
        async with self._lock(job_id):
            return await self._read(job_id)

    async def _read(self, job_id: str) -> Job | None:
        held = self._held.pop(job_id, None)
        if held is not None:
            job, lease_ends = held
            if lease_ends > self.clock():
                self._held[job_id] = held
                return job
        return await self._store.get(job_id)

    def queue_changed(self) -> None:
        """Tell every listener that waiting jobs may read differently though none of them changed."""
        for listener in self._listeners:
            listener.queue_changed()

    def ride_along(self, job_id: str, change: Transition) -> None:
        """Write ``change`` with the job's next change, whoever makes it, instead of on its own: for what
        may wait (and may be lost in a crash), as long as :meth:`settle` writes it in time. It replaces a
        change of the job that is still waiting."""
        self._riders[job_id] = change

    def rides_along(self, job_id: str) -> bool:
        """A change of the job waits to be written with its next one."""
        return job_id in self._riders

    async def settle(self, job_id: str, *, by: JobListener | None = None) -> Written:
        """Write the change of the job that waits to ride along (nothing when none waits); a change that
        finds nothing to change any more is dropped."""
        rider = self._riders.get(job_id)
        if rider is None:
            return Written(None, None)
        written = await self.apply(job_id, rider, by=by)
        if self._riders.get(job_id) is rider:
            del self._riders[job_id]
        return written

    def forget(self, job_id: str) -> None:
        """Drop the lock, copy and waiting change of a job nothing will write again (its reply is final)."""
        self._held.pop(job_id, None)
        self._riders.pop(job_id, None)
        lock = self._locks.get(job_id)
        if lock is not None and not lock.locked():
            del self._locks[job_id]

    def _lock(self, job_id: str) -> asyncio.Lock:
        lock = self._locks.get(job_id)
        if lock is None:
            lock = self._locks[job_id] = asyncio.Lock()
        return lock

    def _tell(self, before: Job | None, after: Job, by: JobListener | None) -> None:
        for listener in self._listeners:
            if listener is not by:
                listener.job_changed(after)
        if _moves_through_queue(before, after):
            self.queue_changed()


def _changes_places(before: Job, after: Job) -> bool:
    """Other processes should look at the queue again: a job left it, or a place at RunComfy freed."""
    left_active = before.state in ACTIVE_STATES and after.state not in ACTIVE_STATES
    return left_active or _moves_through_queue(before, after)


def _moves_through_queue(before: Job | None, after: Job) -> bool:
    """The job entered or left the bot's own queue, so the places of the others in line may have moved."""
    was_queued = before is not None and before.state is JobState.QUEUED
    return was_queued is not (after.state is JobState.QUEUED)
