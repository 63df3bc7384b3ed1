"""Which queued jobs go to RunComfy next, and how many at once: pure functions of the queue's facts.

The order is :func:`bot.moderation.turn_order.fair_order` (members take turns, moderators' "front" first);
the limits are :func:`bot.moderation.turn_order.slots_to_fill` (global, per server, per member, and no job
of a paused server). This module adds what the scheduler alone knows: jobs being sent right now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence

from bot.jobs import Job
from bot.moderation.turn_order import ActiveLimits, Member, member_of, slots_to_fill


def free_slots(*, max_active: int, active: int, launching: int, probing: bool) -> int:
    """How many more jobs may be sent now: ``max_active`` at RunComfy at once, counting those being sent;
    a single one while the service is being probed after a failure."""
    free = max_active - active - launching
    if probing:
        free = min(free, 1 - launching)
    return max(free, 0)


def server_places(ordered: Iterable[Job]) -> dict[str, int]:
    """Each job's 1-based place in its own server's line, given the jobs in turn order."""
    seen: Counter[int] = Counter()
    places: dict[str, int] = {}
    for job in ordered:
        seen[job.guild_id] += 1
        places[job.id] = seen[job.guild_id]
    return places


def next_to_submit(
    ordered: Sequence[Job],
    running: Iterable[Job],
    limits: ActiveLimits,
    *,
    free: int,
    launching: Collection[str],
) -> list[Job]:
    """The jobs of ``ordered`` (a turn order) to send now: at most ``free``, none being sent or being
    cancelled, none that would take its server or member over a limit. ``running`` are the jobs at
    RunComfy or being sent, whose servers and members already use a slot."""
    servers: Counter[int] = Counter()
    members: Counter[Member] = Counter()
    for job in running:
        servers[job.guild_id] += 1
        members[member_of(job)] += 1
    ready = [job for job in ordered if job.id not in launching and job.cancel_requested_by is None]
    return slots_to_fill(ready, limits.global_max - free, servers, members, limits)
