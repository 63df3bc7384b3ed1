"""Which reply edits to make now: the presenter's pure rules for staying within Discord's edit limits.

Every edit is ranked by :class:`Urgency`. End states (with the video) and a job's first card always go; a
state change on the way, queue positions and a running job's clock are optional and wait for a per-channel
budget (:class:`ChannelEditBudget`) that every edit counts against, so they only use what the essential
edits leave, most telling first (a state, then places from the front of the queue, then clocks).
Positions are exact near the front and coarse further back (:func:`shown_place`), so a card in a long queue
changes only when its rounded place does.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

EXACT_PLACES = 10
"""Positions up to this one are shown exactly; beyond it the number ahead is rounded."""

CHANNEL_EDIT_LIMIT = 5
CHANNEL_EDIT_WINDOW = timedelta(seconds=5)
"""Discord's bucket for editing messages in one channel: 5 edits per 5 s."""

Key = TypeVar("Key", bound=Hashable)


class Urgency(enum.IntEnum):
    """How much an edit matters; lower goes first."""

    END = 0
    """The job ended: deliver the video or show the end, then tell the member."""
    FIRST = 1
    """The job has no card yet (the member sees only that the bot is thinking)."""
    STATE = 2
    """The card shows another state than the job's; in a busy channel the end may come first."""
    POSITION = 3
    """Only the job's place in the bot's queue changed."""
    REFRESH = 4
    """A running job's elapsed time."""

    @property
    def optional(self) -> bool:
        return self >= Urgency.STATE


@dataclass(frozen=True, slots=True)
class QueuePlace:
    """A place in the queue as a card shows it: ``position`` exactly, or ``ahead`` rounded."""

    position: int
    exact: bool

    @property
    def ahead(self) -> int:
        return self.position - 1


def shown_place(position: int) -> QueuePlace:
    """Exact up to :data:`EXACT_PLACES`; further back the number ahead rounded to one significant digit
    (47 ahead → about 50), so a long queue moving by one changes only the cards at a rounding step."""
    if position <= EXACT_PLACES:
        return QueuePlace(position, exact=True)
    ahead = position - 1
    step = 10 ** (len(str(ahead)) - 1)
    rounded = max((ahead + step // 2) // step * step, EXACT_PLACES)
    return QueuePlace(rounded + 1, exact=False)


@dataclass
class ChannelEditBudget:
    """At most ``limit`` edits per channel in any ``window``; only optional edits wait for room."""

    limit: int = CHANNEL_EDIT_LIMIT
    window: timedelta = CHANNEL_EDIT_WINDOW
    _spent: dict[int, deque[datetime]] = field(default_factory=dict)

    def spend(self, channel_id: int, now: datetime) -> None:
        self._recent(channel_id, now).append(now)

    def has_room(self, channel_id: int, now: datetime) -> bool:
        return self.room(channel_id, now) > 0

    def room(self, channel_id: int, now: datetime) -> int:
        """How many more edits the channel may get now."""
        return self.limit - len(self._recent(channel_id, now))

    def seconds_to_room(self, channel_id: int, now: datetime) -> float:
        """0 when an edit may go now, else when the oldest edit of the window leaves it."""
        spent = self._recent(channel_id, now)
        if len(spent) < self.limit:
            return 0.0
        return (spent[-self.limit] + self.window - now).total_seconds()

    def _recent(self, channel_id: int, now: datetime) -> deque[datetime]:
        spent = self._spent.setdefault(channel_id, deque())
        while spent and now - spent[0] >= self.window:
            spent.popleft()
        return spent


@dataclass(frozen=True, slots=True)
class EditCandidate(Generic[Key]):
    """A reply that wants an edit now; ``position`` orders the queued ones (front first)."""

    key: Key
    channel_id: int
    urgency: Urgency
    position: int | None = None


@dataclass(frozen=True, slots=True)
class EditPlan(Generic[Key]):
    start: list[Key]
    """The edits to start now, most urgent first."""
    retry_in_s: float | None
    """When the budget has room again for an optional edit held back; None when none was."""


def plan_edits(
    candidates: Iterable[EditCandidate[Key]], budget: ChannelEditBudget, now: datetime
) -> EditPlan[Key]:
    """Order ``candidates`` by urgency then place, take every essential one and the optional ones the
    channel's budget has room for, and spend the budget for each one taken."""
    start: list[Key] = []
    retry: list[float] = []
    for candidate in sorted(candidates, key=rank):
        if candidate.urgency.optional and not budget.has_room(candidate.channel_id, now):
            retry.append(budget.seconds_to_room(candidate.channel_id, now))
            continue
        budget.spend(candidate.channel_id, now)
        start.append(candidate.key)
    return EditPlan(start, min(retry) if retry else None)


def rank(candidate: EditCandidate[Key]) -> tuple[int, int]:
    """The order edits go in: by urgency, then from the front of the queue."""
    return candidate.urgency, candidate.position if candidate.position is not None else 0
