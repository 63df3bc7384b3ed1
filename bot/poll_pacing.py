"""When to poll a job next: rarely while it cannot have finished, every ``poll_min_s`` once it may have.

:class:`JobTimings` learns from finished jobs how long each (resolution, duration) takes at least and
typically, in RunComfy's queue and generating. :class:`PollPacing` turns that into the next wait: until
the earliest moment completion is possible (capped at ``poll_max_s``), then ``poll_min_s`` while completion
is likely, then growing again (the one :class:`bot.backoff.Backoff` rule) for a job far past its usual time.
Without any finished job to learn from, the wait grows from ``poll_min_s`` as it always did.

A job takes at least the least time its kind took, counted from the last time it was seen waiting: it
cannot have started sooner. A finished job is taken to have ended midway between the last poll that saw it
running and the one that saw it done, as it is taken to have started midway between seen waiting and seen
running: a job seen late would otherwise teach that its kind takes longer than it does.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.backoff import Backoff
from bot.jobs import Job, JobState

SAMPLES_KEPT = 64
"""Recent finished jobs remembered per kind: recent ones say most about RunComfy's load now."""
OVERDUE_FACTOR = 2.0
"""A job generating longer than this many times its kind's typical time is polled less and less often."""

Kind = tuple[str, int]
_Phase = Callable[["_Samples"], deque[float]]


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds a phase took: the least seen and the median."""

    lower_s: float
    typical_s: float


@dataclass
class _Samples:
    queued: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES_KEPT))
    generating: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES_KEPT))


def _timing(samples: deque[float]) -> Timing | None:
    if not samples:
        return None
    return Timing(min(samples), statistics.median(samples))


def likely_start(started_at: datetime, queued_until: datetime | None) -> datetime:
    """Midway between the last time the job was seen waiting and the first time it was seen running."""
    if queued_until is None or queued_until >= started_at:
        return started_at
    return queued_until + (started_at - queued_until) / 2


def likely_end(finished_at: datetime, running_until: datetime | None) -> datetime:
    """Midway between the last time the job was seen running and the first time it was seen finished."""
    if running_until is None or running_until >= finished_at:
        return finished_at
    return running_until + (finished_at - running_until) / 2


def kind_of(job: Job) -> Kind:
    return job.request.resolution, job.request.duration


@dataclass
class JobTimings:
    """What finished jobs took, per kind; any kind's least time stands in for a kind not seen yet."""

    _by_kind: dict[Kind, _Samples] = field(default_factory=dict)
    _known: dict[tuple[Kind, bool], Timing | None] = field(default_factory=dict)

    def learn(
        self, job: Job, queued_until: datetime | None = None, running_until: datetime | None = None
    ) -> bool:
        """Remember a finished job's times (those it has stamps for); ``queued_until`` is when it was last
        seen waiting, so it started between then and ``started_at``, and ``running_until`` when it was last
        seen generating. True when the least time of its kind to generate fell (or was not known), so
        other jobs may be done sooner than thought."""
        if job.state not in (JobState.COMPLETED, JobState.DELIVERED) or job.started_at is None:
            return False
        if job.finished_at is None:
            return False
        kind = kind_of(job)
        before = self._by_kind[kind].generating if kind in self._by_kind else None
        least_before = min(before) if before else None
        started = likely_start(job.started_at, queued_until)
        samples = self._by_kind.setdefault(kind, _Samples())
        if job.submitted_at is not None:
            samples.queued.append(max((started - job.submitted_at).total_seconds(), 0.0))
        generating = max((likely_end(job.finished_at, running_until) - started).total_seconds(), 0.0)
        samples.generating.append(generating)
        self._known.clear()
        return least_before is None or generating < least_before

    def generating(self, kind: Kind) -> Timing | None:
        return self._cached(kind, generating=True)

    def queued(self, kind: Kind) -> Timing | None:
        return self._cached(kind, generating=False)

    def _cached(self, kind: Kind, *, generating: bool) -> Timing | None:
        key = (kind, generating)
        if key not in self._known:
            phase: _Phase = (lambda s: s.generating) if generating else (lambda s: s.queued)
            own = self._by_kind.get(kind)
            own_samples = phase(own) if own is not None else None
            self._known[key] = _timing(own_samples) if own_samples else self._least(phase)
        return self._known[key]

    def _least(self, phase: _Phase) -> Timing | None:
        timings = [t for t in (_timing(phase(s)) for s in self._by_kind.values()) if t is not None]
        if not timings:
            return None
        return Timing(min(t.lower_s for t in timings), min(t.typical_s for t in timings))


@dataclass(frozen=True, slots=True)
class Observed:
    """What the tracker knows of one job when it plans the next poll."""

    job: Job
    queued_until: datetime | None
    """The last time the job was seen still waiting at RunComfy (a lower bound of its start)."""
    quiet_polls: int
    """Polls in a row that found nothing new."""


@dataclass(frozen=True, slots=True)
class PollPacing:
    pace: Backoff
    """From ``poll_min_s`` (the pace once completion is likely) growing to ``poll_max_s``."""

    def next_poll(self, seen: Observed, timings: JobTimings, now: datetime) -> timedelta:
        earliest = self.earliest_completion(seen, timings, now)
        if earliest is None:
            return self.pace.delay(seen.quiet_polls)
        if earliest > now:
            wait = (earliest - now).total_seconds()
            if seen.job.state is JobState.IN_QUEUE:
                wait = min(wait, self._queued_gap_s(timings.queued(kind_of(seen.job))))
            return timedelta(seconds=min(max(wait, self.pace.first.total_seconds()), self._cap_s))
        generating = timings.generating(kind_of(seen.job))
        start = seen.job.started_at
        if generating is not None and start is not None:
            overdue_from = start + timedelta(seconds=generating.typical_s * OVERDUE_FACTOR)
            if now > overdue_from:
                return self.pace.delay(seen.quiet_polls)
        return self.pace.first

    def _queued_gap_s(self, queued: Timing | None) -> float:
        """How often to look at a waiting job. Its start is only known to within this gap, which costs
        about gap / 2 of fast polls at the end; looking costs typical wait / gap polls. Their sum is least
        at sqrt(2 × fast pace × typical wait)."""
        if queued is None:
            return self._cap_s
        return math.sqrt(2 * self.pace.first.total_seconds() * queued.typical_s)

    def earliest_completion(self, seen: Observed, timings: JobTimings, now: datetime) -> datetime | None:
        """The soonest the job could finish as far as finished jobs tell; None when they tell nothing."""
        kind = kind_of(seen.job)
        generating = timings.generating(kind)
        if generating is None:
            return None
        least = timedelta(seconds=generating.lower_s)
        if seen.job.state is JobState.IN_PROGRESS:
            # It started no sooner than it was last seen waiting.
            started = seen.job.started_at or now
            return (seen.queued_until or started - self.pace.first) + least
        # Still waiting (behind ``remote_queue_position`` others, or next): it starts no sooner than now,
        # nor before the shortest wait in the queue seen so far.
        queued = timings.queued(kind)
        submitted = seen.job.submitted_at or now
        start_at_least = submitted + timedelta(seconds=queued.lower_s if queued is not None else 0.0)
        return max(start_at_least, now) + least

    @property
    def _cap_s(self) -> float:
        return self.pace.cap.total_seconds()
