"""Whether submissions may go out: the one breaker between the bot's queue and RunComfy.

Two kinds of trouble close it, each for a wait that grows while it repeats (:class:`bot.backoff.Backoff`):

* an **outage** — RunComfy refused the bot's credentials or credits, or has no such endpoint: every further
  submission would fail the same way, and every waiting card says the service is down;
* a **hold** — RunComfy did not take a job (429, 503, no connection) or its fate is unknown: the queue waits
  so that one outage costs one job, not the whole queue.

While either is open, a single job probes RunComfy (a refused submission costs nothing); the first accepted
submission closes both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.backoff import Backoff

log = logging.getLogger(__name__)


@dataclass
class ServiceHealth:
    cooldown: timedelta = timedelta(seconds=60)
    max_cooldown: timedelta = timedelta(minutes=15)
    first_hold: timedelta = timedelta(seconds=5)
    max_hold: timedelta = timedelta(minutes=5)
    problem: str | None = None
    """The outage's cause (an error's name); None while RunComfy takes the bot's key."""
    retry_at: datetime | None = None
    """When the outage lets one submission probe again."""
    not_before: datetime | None = None
    """When the hold ends."""
    _outages: int = field(default=0, repr=False)
    _holds: int = field(default=0, repr=False)

    def trip(self, problem: str, now: datetime) -> None:
        """An outage: RunComfy refused the key or the credits, or the endpoint does not exist."""
        if self.problem is None:
            log.error(
                "RunComfy refused the bot's credentials or credits, or has no such endpoint (%s): "
                "submissions paused",
                problem,
            )
        self.problem = problem
        self.retry_at = now + Backoff(self.cooldown, self.max_cooldown).delay(self._outages)
        self._outages += 1

    def hold(self, now: datetime, retry_after_s: float | None = None) -> None:
        """RunComfy did not take a job, or its fate is unknown: hold the queue, longer each time in a row,
        and at least as long as RunComfy asked."""
        pause = Backoff(self.first_hold, self.max_hold).delay(self._holds)
        if retry_after_s is not None:
            pause = max(pause, timedelta(seconds=retry_after_s))
        self._holds += 1
        self.not_before = now + pause

    def accepted(self) -> bool:
        """RunComfy took a submission: close the breaker. Returns whether an outage just ended."""
        ended = self.problem is not None
        if ended:
            log.warning("RunComfy accepts submissions again: resuming the queue")
        self.problem = None
        self.retry_at = None
        self._outages = 0
        self._holds = 0
        return ended

    @property
    def degraded(self) -> bool:
        """An outage is open (the cards say so)."""
        return self.problem is not None

    @property
    def probing(self) -> bool:
        """Only one job at a time may go out until RunComfy takes one again."""
        return self.degraded or self._holds > 0

    def may_submit(self, now: datetime) -> bool:
        if self.retry_at is not None and now < self.retry_at:
            return False
        if self.not_before is not None:
            if now < self.not_before:
                return False
            self.not_before = None
        return True

    def reopens_at(self, now: datetime) -> list[datetime]:
        """The moments still ahead of ``now`` at which the breaker lets a submission through."""
        return [moment for moment in (self.not_before, self.retry_at) if moment is not None and moment > now]
