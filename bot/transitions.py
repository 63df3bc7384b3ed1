"""The one write path for jobs: every creation and change of a stored job goes through :class:`JobWriter`.

A change is a pure :data:`Transition` (the job as stored now and the time → the job to save, or None to leave
it). The writer takes the job's lock, re-reads it, applies the transition, saves it against the version it
read, then tells every listener. Nothing else in the core calls the store's ``create`` or ``save``, so
whatever must happen at every change (an audit log, metrics, a lease check with several processes)
attaches here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.jobs import Job, JobState, new_job_id, utcnow, without_spent_token
from bot.store import JobExistsError, JobStore

log = logging.getLogger(__name__)

ID_ATTEMPTS = 5

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
    ) -> None:
        self.clock = clock
        """The one clock of the core: every stamp on a job and every wait is measured with it."""
        self._store = store
        self._listeners = list(listeners)
        self._new_id = new_id
        self._locks: dict[str, asyncio.Lock] = {}

    def add_listener(self, listener: JobListener) -> None:
        self._listeners.append(listener)

    async def create(self, build: NewJob) -> Job:
        """Store ``build(job_id, now)`` under a freshly minted id (another one when an older job holds it)."""
        for _ in range(ID_ATTEMPTS - 1):
            try:
                stored = await self._store.create(build(self._new_id(), self.clock()))
                break
            except JobExistsError as clash:
                log.info("job id %s is taken; minting another", clash.job_id)
        else:
            stored = await self._store.create(build(self._new_id(), self.clock()))
        self._tell(None, stored, None)
        return stored

    async def apply(self, job_id: str, transition: Transition, *, by: JobListener | None = None) -> Written:
        """Change one job: lock, re-read, transition, save (refused if another writer saved first), tell.

        ``by`` is the listener making the change: it has the result and is not told of it again."""
        async with self._lock(job_id):
            before = await self._store.get(job_id)
            if before is None:
                return Written(None, None)
            wanted = transition(before, self.clock())
            if wanted is None or wanted is before:
                return Written(before, None)
            after = await self._store.save(without_spent_token(wanted))
        self._tell(before, after, by)
        return Written(before, after)

    def queue_changed(self) -> None:
        """Tell every listener that waiting jobs may read differently though none of them changed."""
        for listener in self._listeners:
            listener.queue_changed()

    def forget(self, job_id: str) -> None:
        """Drop the lock of a job nothing will write again (its reply is final)."""
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


def _moves_through_queue(before: Job | None, after: Job) -> bool:
    """The job entered or left the bot's own queue, so the places of the others in line may have moved."""
    was_queued = before is not None and before.state is JobState.QUEUED
    return was_queued is not (after.state is JobState.QUEUED)
