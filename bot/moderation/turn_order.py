"""Which queued job goes next, and which may start now without breaking an active-jobs limit.

Members take turns: the member served longest ago (or never) goes first, among equals the one whose oldest
waiting job is oldest, and each member's jobs go oldest first, so a member with ten jobs never holds back
one with a single job. A moderator's "front" overrides the turns: fronted jobs go before every other, the
most recently fronted first. A member is ``(guild id, user id)``: one person in two servers has two lanes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

Member = tuple[int, int]


class QueuedJob(Protocol):
    """What ordering needs of a job; :class:`bot.jobs.Job` has it."""

    @property
    def id(self) -> str: ...
    @property
    def guild_id(self) -> int: ...
    @property
    def user_id(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...


J = TypeVar("J", bound=QueuedJob)


def member_of(job: QueuedJob) -> Member:
    return (job.guild_id, job.user_id)


def fair_order(
    queued: Iterable[J],
    last_served: Mapping[Member, datetime] | None = None,
    front_requests: Mapping[str, datetime] | None = None,
) -> list[J]:
    """``queued`` in the order they should reach RunComfy. ``last_served`` holds when each member's job
    last started; ``front_requests`` maps a job id to when a moderator moved it to the front."""
    served = last_served or {}
    fronts = front_requests or {}
    jobs = sorted(queued, key=lambda j: (j.created_at, j.id))
    fronted = sorted((j for j in jobs if j.id in fronts), key=lambda j: (fronts[j.id], j.id), reverse=True)
    by_member: dict[Member, list[J]] = defaultdict(list)
    for job in jobs:
        if job.id not in fronts:
            by_member[member_of(job)].append(job)

    def turn(lane: list[J]) -> tuple[bool, datetime, datetime, str]:
        last = served.get(member_of(lane[0]))
        oldest = lane[0].created_at
        return (last is not None, last or oldest, oldest, lane[0].id)

    lanes = sorted(by_member.values(), key=turn)
    deepest = max((len(lane) for lane in lanes), default=0)
    return fronted + [lane[depth] for depth in range(deepest) for lane in lanes if depth < len(lane)]


def queue_positions(
    queued: Iterable[J],
    last_served: Mapping[Member, datetime] | None = None,
    front_requests: Mapping[str, datetime] | None = None,
) -> dict[str, int]:
    """Each queued job's 1-based place in :func:`fair_order`."""
    ordered = fair_order(queued, last_served, front_requests)
    return {job.id: place for place, job in enumerate(ordered, start=1)}


@dataclass(frozen=True, slots=True)
class ActiveLimits:
    """Jobs allowed at RunComfy at once: in all (``ANIMATE_MAX_ACTIVE``), per server, per member
    (``None``: no limit of that kind). Jobs of a paused server never start."""

    global_max: int
    per_server: int | None = None
    per_member: int | None = None
    paused_servers: frozenset[int] = frozenset()


def slots_to_fill(
    ordered: Sequence[J],
    active_global: int,
    active_per_server: Mapping[int, int],
    active_per_member: Mapping[Member, int],
    limits: ActiveLimits,
) -> list[J]:
    """The jobs of ``ordered`` (a :func:`fair_order`) that may start now, in that order. A job whose
    server or member is at its limit is passed over, so the jobs behind it still get their chance."""
    servers: Counter[int] = Counter(active_per_server)
    members: Counter[Member] = Counter(active_per_member)
    free = limits.global_max - active_global
    chosen: list[J] = []
    for job in ordered:
        if len(chosen) >= free:
            break
        member = member_of(job)
        if job.guild_id in limits.paused_servers:
            continue
        if limits.per_server is not None and servers[job.guild_id] >= limits.per_server:
            continue
        if limits.per_member is not None and members[member] >= limits.per_member:
            continue
        chosen.append(job)
        servers[job.guild_id] += 1
        members[member] += 1
    return chosen
