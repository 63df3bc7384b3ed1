"""Which queued jobs go to RunComfy next, and how many at once: pure functions of the queue's facts.

Order is round-robin across members, oldest first within each: a member who queues ten jobs does not hold
back the member who queues one. The member served longest ago (or never) goes first; among those, the one
whose oldest waiting job is oldest. Admission rules (per-server or per-member limits, a moderator's "move to
front") belong here, beside the order they change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from bot.jobs import Job
from bot.store.base import AdmissionFacts

Member = tuple[int, int]
"""(guild id, user id): the same person in two servers queues in two lanes."""


def member_of(job: Job) -> Member:
    return (job.guild_id, job.user_id)


def fair_order(queued: Iterable[Job], last_served: Mapping[Member, datetime] | None = None) -> list[Job]:
    served = last_served or {}
    by_member: dict[Member, list[Job]] = defaultdict(list)
    for job in sorted(queued, key=lambda j: (j.created_at, j.id)):
        by_member[member_of(job)].append(job)

    def turn(lane: list[Job]) -> tuple[bool, datetime, datetime, str]:
        last = served.get(member_of(lane[0]))
        oldest = lane[0].created_at
        return (last is not None, last or oldest, oldest, lane[0].id)

    lanes = sorted(by_member.values(), key=turn)
    deepest = max((len(lane) for lane in lanes), default=0)
    return [lane[depth] for depth in range(deepest) for lane in lanes if depth < len(lane)]


def queue_positions(
    queued: Iterable[Job], last_served: Mapping[Member, datetime] | None = None
) -> dict[str, int]:
    """Each queued job's 1-based place in :func:`fair_order`."""
    return {job.id: place for place, job in enumerate(fair_order(queued, last_served), start=1)}


def free_slots(*, max_active: int, active: int, launching: int, probing: bool) -> int:
    """How many more jobs may be sent now: ``max_active`` at RunComfy at once, counting those being sent;
    a single one while the service is being probed after a failure."""
    free = max_active - active - launching
    if probing:
        free = min(free, 1 - launching)
    return max(free, 0)


def next_to_submit(
    queued: Iterable[Job], last_served: Mapping[Member, datetime], *, free: int, launching: Collection[str]
) -> list[Job]:
    """The next ``free`` jobs in fair order, skipping those being sent and those whose cancel was asked."""
    ready = [
        job
        for job in fair_order(queued, last_served)
        if job.id not in launching and job.cancel_requested_by is None
    ]
    return ready[:free]


def places_to_fill(*, max_active: int, in_use: int, probing: bool, launching_here: int) -> int:
    """How many more jobs may be admitted: ``max_active`` places across every process, ``in_use`` of
    them taken (admitted ones included); while the service is being probed, this process sends one."""
    free = max_active - in_use
    if probing:
        free = min(free, 1 - launching_here)
    return max(free, 0)


def admit(facts: AdmissionFacts, *, free: int) -> list[Job]:
    """The jobs this process claims: the first ``free`` of the whole queue in fair order (cancels asked
    left out) that it may take. A head job another live process holds keeps its place for that process,
    so no process jumps the line by admitting its own jobs first."""
    ready = [job for job in fair_order(facts.waiting, facts.last_served) if job.cancel_requested_by is None]
    return [job for job in ready[:free] if job.id in facts.claimable]
