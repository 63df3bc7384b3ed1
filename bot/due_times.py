"""Ids by the moment they are next due, for a loop that sleeps until the soonest one.

Planning an id again does not remove its earlier entry: the caller keeps what each id is due at now, and an
entry counts only while it matches it. A superseded entry is dropped when it comes up.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from datetime import datetime


class DueTimes:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str]] = []
        self._order = itertools.count()  # entries due at the same moment come up in the order planned

    def plan(self, key: str, at: datetime) -> None:
        heapq.heappush(self._heap, (at, next(self._order), key))

    def pop_due(self, now: datetime) -> Iterator[tuple[str, datetime]]:
        """Take out every entry due by ``now``, soonest first."""
        while self._heap and self._heap[0][0] <= now:
            at, _, key = heapq.heappop(self._heap)
            yield key, at

    def first(self) -> tuple[str, datetime] | None:
        """The soonest entry, left in place."""
        return (self._heap[0][2], self._heap[0][0]) if self._heap else None

    def drop_first(self) -> None:
        heapq.heappop(self._heap)
