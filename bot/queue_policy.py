"""Which queued jobs go to RunComfy next, and how many at once: pure functions of the queue's facts.

The order is :func:`bot.moderation.turn_order.fair_order` (members take turns, moderators' "front" first);
the limits are :func:`bot.moderation.turn_order.slots_to_fill` (global, per server, per member, and no job
of a paused server). The claim runs across every process sharing the store (:meth:`JobStore.admit`): this
module decides, from what the claim read, which jobs this process takes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.jobs import Job
from bot.moderation.turn_order import ActiveLimits, fair_order, slots_to_fill
from bot.store.base import AdmissionFacts


def places_to_fill(*, max_active: int, in_use: int, probing: bool, launching_here: int) -> int:
    """How many more jobs may be admitted: ``max_active`` places across every process, ``in_use`` of
    them taken (admitted ones included); while the service is being probed, this process sends one."""
    free = max_active - in_use
    if probing:
        free = min(free, 1 - launching_here)
    return max(free, 0)


@dataclass(frozen=True, slots=True)
class QueueView:
    """What the waiting cards show of the queue, read at once: each queued job's place in its server's
    line (1 = next), the servers whose queue is paused and the jobs awaiting a moderator's approval."""

    places: dict[str, int] = field(default_factory=dict)
    paused_servers: frozenset[int] = frozenset()
    awaiting_approval: frozenset[str] = frozenset()


def server_places(ordered: Iterable[Job]) -> dict[str, int]:
    """Each job's 1-based place in its own server's line, given the jobs in turn order."""
    seen: Counter[int] = Counter()
    places: dict[str, int] = {}
    for job in ordered:
        seen[job.guild_id] += 1
        places[job.id] = seen[job.guild_id]
    return places


def admit(
    facts: AdmissionFacts,
    *,
    free: int,
    limits: ActiveLimits | None = None,
    fronts: Mapping[str, datetime] | None = None,
    held: Collection[str] = (),
) -> list[Job]:
    """The jobs this process claims now. In turn order, leaving out jobs whose cancel was asked and jobs
    ``held`` for a moderator's approval, the first ``free`` that take no server or member past ``limits``
    (nor start in a paused server); of those, only the ones this process may take: a head job another live
    process holds keeps its place for that process, so no process jumps the line with its own jobs."""
    limits = limits if limits is not None else ActiveLimits(free)
    ready = [
        job
        for job in fair_order(facts.waiting, facts.last_served, fronts)
        if job.cancel_requested_by is None and job.id not in held
    ]
    chosen = slots_to_fill(
        ready, limits.global_max - free, facts.in_use_by_guild, facts.in_use_by_member, limits
    )
    return [job for job in chosen if job.id in facts.claimable]
