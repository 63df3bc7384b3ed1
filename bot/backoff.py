"""The one wait-and-try-again policy of the core: a wait growing by ``factor`` from ``first`` to ``cap``.

Pure arithmetic, so every loop that waits (the submission hold, the service breaker, recording RunComfy's
answer, a promised cancel, a refused reply edit, the tracker's polling pace) is tested without I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

_MAX_EXPONENT = 64  # far beyond any cap; keeps the arithmetic finite for an attempt count that keeps growing


@dataclass(frozen=True, slots=True)
class Backoff:
    first: timedelta
    cap: timedelta
    factor: float = 2.0

    def seconds(self, waited: int) -> float:
        """The next wait after ``waited`` waits in a row (0: the first wait)."""
        grown = self.first.total_seconds() * self.factor ** min(waited, _MAX_EXPONENT)
        return min(grown, self.cap.total_seconds())

    def delay(self, waited: int) -> timedelta:
        return timedelta(seconds=self.seconds(waited))

    def waits(self, count: int | None = None) -> Iterator[float]:
        """The successive waits in seconds: ``count`` of them, or without end when ``count`` is None."""
        waited = 0
        while count is None or waited < count:
            yield self.seconds(waited)
            waited += 1
