"""The order in which queued jobs reach RunComfy: round-robin across members, oldest first within each.

A member who queues ten jobs does not hold back the member who queues one: every member's oldest waiting job
goes before anyone's second. Members take turns in the order of their oldest waiting job.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from bot.jobs import Job


def fair_order(queued: Iterable[Job]) -> list[Job]:
    by_member: dict[tuple[int, int], list[Job]] = defaultdict(list)
    for job in sorted(queued, key=lambda j: (j.created_at, j.id)):
        by_member[(job.guild_id, job.user_id)].append(job)
    lanes = sorted(by_member.values(), key=lambda lane: (lane[0].created_at, lane[0].id))
    deepest = max((len(lane) for lane in lanes), default=0)
    return [lane[depth] for depth in range(deepest) for lane in lanes if depth < len(lane)]


def queue_positions(queued: Iterable[Job]) -> dict[str, int]:
    """Each queued job's 1-based place in :func:`fair_order`."""
    return {job.id: place for place, job in enumerate(fair_order(queued), start=1)}
