"""The order in which queued jobs reach RunComfy: round-robin across members, oldest first within each.

A member who queues ten jobs does not hold back the member who queues one: members take turns. The member
served longest ago (or never) goes first; among those, the one whose oldest waiting job is oldest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from bot.jobs import Job

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
