"""Whether submissions may go out: closed after an auth or credits failure, reopened after a cool-down."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

log = logging.getLogger(__name__)


@dataclass
class ServiceHealth:
    """A circuit breaker for paid submissions.

    An authentication or payment answer means every further submission would fail the same way, so they
    stop. After ``cooldown`` one submission is tried again (a refused submission costs nothing); each new
    failure doubles the cool-down up to ``max_cooldown``.
    """

    cooldown: timedelta = timedelta(seconds=60)
    max_cooldown: timedelta = timedelta(minutes=15)
    problem: str | None = None
    retry_at: datetime | None = None
    _current: timedelta | None = None

    def trip(self, problem: str, now: datetime) -> None:
        self._current = self.cooldown if self._current is None else min(self._current * 2, self.max_cooldown)
        if self.problem is None:
            log.error(
                "RunComfy refused the bot's credentials or credits, or has no such endpoint (%s): "
                "submissions paused",
                problem,
            )
        self.problem = problem
        self.retry_at = now + self._current

    def recovered(self) -> None:
        if self.problem is not None:
            log.warning("RunComfy accepts submissions again: resuming the queue")
        self.problem = None
        self.retry_at = None
        self._current = None

    @property
    def degraded(self) -> bool:
        return self.problem is not None

    def may_submit(self, now: datetime) -> bool:
        return self.retry_at is None or now >= self.retry_at
