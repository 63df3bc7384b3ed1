"""Which process works on which job, when several share one store.

Every unfinished job is leased to one process (its *owner*): the process that created it, admitted it or took
it over. The one write path (:class:`bot.transitions.JobWriter`) renews the lease with every write it makes
and refuses to write a job another live process holds; :class:`LeaseKeeper` renews this process's leases every
heartbeat and adopts the jobs whose owner stopped renewing.

The period is 30 s with a heartbeat every 10 s: a lease survives two missed heartbeats (a pause of the event
loop, a database fail-over), and a dead process's jobs move to another within 30 s of its last heartbeat —
the same staleness window as good_job's and PgQueuer's defaults.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.jobs import Job
from bot.store import JobStore
from bot.store.base import Lease
from bot.wakeup import Wakeup

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=30)
HEARTBEATS_PER_LEASE = 3
MIN_WAIT_S = 0.05


def default_owner(shard_ids: list[int] | None = None) -> str:
    """This process's name in the leases: the host, and the shards it runs when it runs some.

    It is stable across restarts, so a restarted process picks its own jobs up at once rather than
    after the lease period; two live processes must never share it."""
    host = os.environ.get("HOSTNAME") or socket.gethostname()
    if shard_ids:
        return f"{host}/shards-{'-'.join(str(shard) for shard in sorted(shard_ids))}"
    return host


@dataclass(frozen=True, slots=True)
class LeaseTerms:
    owner: str
    period: timedelta = DEFAULT_LEASE

    @property
    def heartbeat(self) -> timedelta:
        return self.period / HEARTBEATS_PER_LEASE

    def at(self, now: datetime) -> Lease:
        """The lease a write or claim made ``now`` holds."""
        return Lease(self.owner, now, now + self.period)


Adopt = Callable[[list[Job]], Awaitable[None]]


class LeaseKeeper:
    """Renews this process's leases and adopts the jobs of processes that stopped renewing theirs."""

    def __init__(
        self,
        store: JobStore,
        terms: LeaseTerms,
        clock: Callable[[], datetime],
        *,
        adopt: Adopt,
        on_takeover: Callable[[int], None] = lambda _count: None,
        on_renewed: Callable[[dict[str, int], Lease], None] = lambda _versions, _lease: None,
    ) -> None:
        """``adopt`` resumes jobs this process just took over; ``on_takeover`` counts those that were
        another process's; ``on_renewed`` hears which leases each heartbeat extended, and to when."""
        self._store = store
        self._terms = terms
        self._clock = clock
        self._adopt = adopt
        self._on_takeover = on_takeover
        self._on_renewed = on_renewed
        self.wake = Wakeup()

    async def adopt_at_start(self) -> list[Job]:
        """Take every job left unleased, expired, or held by an earlier life of this process."""
        return await self._take(at_start=True)

    async def run(self) -> None:
        await self.wake.run(self._pass)

    def stop(self) -> None:
        self.wake.stop()

    async def _pass(self) -> float:
        try:
            lease = self._terms.at(self._clock())
            self._on_renewed(await self._store.renew_leases(lease), lease)
            await self._take(at_start=False)
            return await self._seconds_to_next_pass()
        except Exception:
            log.exception("lease heartbeat failed; trying again shortly")
            return self._terms.heartbeat.total_seconds()

    async def _take(self, *, at_start: bool) -> list[Job]:
        taken = await self._store.adopt(self._terms.at(self._clock()), at_start=at_start)
        if not taken:
            return []
        foreign = [job for job, owner in taken if owner is not None and owner != self._terms.owner]
        for job, owner in taken:
            if owner is not None and owner != self._terms.owner:
                log.warning("job %s: took it over from %s, whose lease expired", job.id, owner)
        if foreign:
            self._on_takeover(len(foreign))
        jobs = [job for job, _ in taken]
        await self._adopt(jobs)
        return jobs

    async def _seconds_to_next_pass(self) -> float:
        """At the next heartbeat, or as soon as another process's lease runs out if that is sooner."""
        wait = self._terms.heartbeat.total_seconds()
        expiry = await self._store.next_lease_expiry(self._terms.owner)
        if expiry is not None:
            wait = min(wait, (expiry - self._clock()).total_seconds() + MIN_WAIT_S)
        return max(wait, MIN_WAIT_S)
