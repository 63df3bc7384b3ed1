"""When to poll a job next: rarely while it cannot have finished, every ``poll_min_s`` once it may have.

:class:`JobTimings` learns how long each kind of job (resolution, duration) takes at least, in RunComfy's
queue and generating, from finished jobs and from the jobs waiting and generating now. :class:`PollPacing`
turns that into the next wait: until the earliest moment completion is possible (capped at ``poll_max_s``),
then ``poll_min_s`` while completion is likely, then growing again (the one :class:`bot.backoff.Backoff`
rule) for a job far past its usual time.

Why each rule is safe to wait for:

- **Least time**: a job takes at least the least time a recent finished job of its kind took, counted
  from when it likely started: midway between the last poll that saw it waiting and the first that saw it
  running, the moment its kind's times are counted from too. Jobs of a kind are alike, so a new one is
  quicker than all of the last n with odds of 1 in n + 1; one that is, and started early in that gap, is
  found at most half the gap late. A finished job is taken to have ended midway between the last poll
  that saw it running and the one that saw it done: a job seen late would otherwise teach that its kind
  takes longer than it does. A job found done after a long pause (it was polled rarely, taken not to be
  done yet) is taken to have ended no sooner than half a fast pause before it was found, as if it had been
  polled at the fast pace: such a job is one of its kind's quickest, and the midpoint of the long pause
  would teach that the kind takes far less than it does, costing every later job of it fast polls. Each
  such job lowers its kind's least time by at most half a fast pause: a least time set too high comes
  down slowly, and until it does the kind's quickest jobs are found as much late as it is too high.
- **No larger kinds**: a larger or longer video is never less work than a smaller and shorter one (the
  work grows with pixels × frames), so a kind takes at least what any kind no larger in both takes at
  least, though never more than a job of its own kind took. A kind not seen yet is bounded that way, and
  borrows the least time of any kind only when no kind below it has finished.
- **Elders**: a job does not finish before the jobs of its kind, or of a kind no larger, that started
  before it. While ``WITNESSES`` of them are generating and none of their kind has finished, the odds that
  it is the quickest of them all are at most 1 in ``WITNESSES + 1``; it is then polled every
  ``poll_max_s``, and the first of them to finish sets the least time for it.
- **Nothing known** (no job has finished yet, and too few of its kind or below started before it): a job
  generating may finish at any moment, so it is polled every ``poll_min_s``; only a fresh bot's first jobs
  are in that state, and the first to finish teaches the rest. A waiting job's pause grows as it always did.
- **Waiting**: a job in the queue is looked at often enough to place its start (see
  :meth:`PollPacing._queued_gap_s`); the typical wait counts the jobs still waiting, at their wait so far.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.backoff import Backoff
from bot.jobs import Job, JobState

SAMPLES_KEPT = 64
"""Recent finished jobs remembered per kind: recent ones say most about RunComfy's load now."""
WITNESSES = 5
"""Elders that must still be generating before a job is taken not to finish ahead of them (see above)."""
WAIT_REFRESH_S = 1.0
"""How long the typical wait in the queue stands before it is counted again from the jobs waiting now."""
OVERDUE_FACTOR = 2.0
"""A job generating longer than this many times its kind's typical time is polled less and less often."""

Kind = tuple[str, int]
_Phase = Callable[["_Samples"], deque[float]]
NOT_BEFORE_ELDERS = datetime.max.replace(tzinfo=UTC)
"""The earliest completion of a job that has elders to wait for (see above)."""


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


def likely_end(finished_at: datetime, running_until: datetime | None, pace_s: float) -> datetime:
    """Midway between the last time the job was seen running and the first time it was seen finished, and
    no sooner than half a fast pause (``pace_s``) before it was seen finished."""
    if running_until is None or running_until >= finished_at:
        return finished_at
    midway = running_until + (finished_at - running_until) / 2
    return max(midway, finished_at - timedelta(seconds=pace_s / 2))


def kind_of(job: Job) -> Kind:
    return job.request.resolution, job.request.duration


@functools.cache
def _size(resolution: str) -> int | None:
    found = re.fullmatch(r"(\d+)p", resolution)
    return int(found.group(1)) if found else None


@functools.cache
def no_larger(small: Kind, large: Kind) -> bool:
    """Whether a ``small`` video is no more work than a ``large`` one: no more lines and no longer."""
    if small == large:
        return True
    small_lines, large_lines = _size(small[0]), _size(large[0])
    if small_lines is None or large_lines is None:
        return False
    return small_lines <= large_lines and small[1] <= large[1]


@dataclass
class JobTimings:
    """What jobs took, per kind: finished ones, and the ones waiting and generating now (at least their age
    so far)."""

    witnesses: int = WITNESSES
    pace_s: float = 2.0
    """The pause between polls once completion is likely (``poll_min_s``)."""
    _by_kind: dict[Kind, _Samples] = field(default_factory=dict)
    _generating: dict[Kind, dict[str, datetime]] = field(default_factory=dict)
    """Jobs seen generating and not finished, by kind: id → when they likely started."""
    _kinds_generating: dict[str, Kind] = field(default_factory=dict)
    _waiting: dict[str, tuple[Kind, datetime]] = field(default_factory=dict)
    """Jobs seen waiting in the queue: id → kind and when they were submitted."""
    _starts: dict[Kind, list[datetime]] = field(default_factory=dict)
    _typical: dict[tuple[Kind, bool], Timing | None] = field(default_factory=dict)
    _waits: dict[Kind, tuple[datetime, float | None]] = field(default_factory=dict)
    _least_s: dict[Kind, float | None] = field(default_factory=dict)
    """The least time each kind's finished jobs took to generate."""

    def waiting(self, job: Job) -> None:
        """A job seen waiting in the queue: it has waited at least its age so far."""
        if job.state is JobState.IN_QUEUE and job.submitted_at is not None and job.id not in self._waiting:
            kind = kind_of(job)
            self._waiting[job.id] = (kind, job.submitted_at)
            self._waits.pop(kind, None)

    def started(self, job: Job, queued_until: datetime | None = None) -> None:
        """A job seen generating: its wait in the queue is known, and it has generated for its age."""
        self._stopped_waiting(job.id)
        if job.state is not JobState.IN_PROGRESS or job.started_at is None:
            return
        if job.id in self._kinds_generating:
            return
        kind = kind_of(job)
        started = likely_start(job.started_at, queued_until)
        self._kinds_generating[job.id] = kind
        self._generating.setdefault(kind, {})[job.id] = started
        if job.submitted_at is not None:
            self._samples(kind).queued.append(max((started - job.submitted_at).total_seconds(), 0.0))
        self._changed(kind)

    def left(self, job_id: str) -> Kind | None:
        """A job no longer generating (finished, failed, or followed elsewhere); its kind when it was
        generating, so jobs that started after it have one elder less."""
        self._stopped_waiting(job_id)
        kind = self._kinds_generating.pop(job_id, None)
        if kind is None:
            return None
        self._generating[kind].pop(job_id, None)
        self._changed(kind)
        return kind

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
        samples = self._samples(kind)
        least_before = min(samples.generating) if samples.generating else None
        if self.left(job.id) is None and job.submitted_at is not None:
            waited = likely_start(job.started_at, queued_until) - job.submitted_at
            samples.queued.append(max(waited.total_seconds(), 0.0))
        started = likely_start(job.started_at, queued_until)
        ended = likely_end(job.finished_at, running_until, self.pace_s)
        generating = max((ended - started).total_seconds(), 0.0)
        samples.generating.append(generating)
        self._changed(kind)
        return least_before is None or generating < least_before

    def least_generating_s(self, kind: Kind, started: datetime | None) -> float | None:
        """The least time a job of ``kind`` that started at ``started`` (None: not yet) may take to
        generate, by the rules above: ``math.inf`` while it has elders to wait for; None when no job ever
        finished and it has none."""
        own_least = self._least_finished(kind)
        bounds = [
            least
            for other in self._by_kind.keys() | self._generating.keys()
            if no_larger(other, kind)
            if (least := self._least_of(other, started)) is not None
        ]
        if bounds:
            least = max(bounds)
            return least if own_least is None else min(least, own_least)
        finished = [least for other in self._by_kind if (least := self._least_finished(other)) is not None]
        return min(finished) if finished else None

    def _least_finished(self, kind: Kind) -> float | None:
        if kind not in self._least_s:
            own = self._by_kind.get(kind)
            self._least_s[kind] = min(own.generating) if own is not None and own.generating else None
        return self._least_s[kind]

    def moves(self, changed: Kind, kind: Kind) -> bool:
        """Whether what was learned of ``changed`` can move the next poll of a job of ``kind``: it bounds
        kinds no smaller, and a kind with no finished jobs of its own borrows from any kind."""
        own = self._by_kind.get(kind)
        return no_larger(changed, kind) or own is None or not own.generating or not own.queued

    def _least_of(self, kind: Kind, started: datetime | None) -> float | None:
        """What jobs of ``kind`` say of a job no smaller that started at ``started``."""
        least = self._least_finished(kind)
        if least is not None:
            return least
        starts = self._sorted_starts(kind)
        elders = len(starts) if started is None else bisect.bisect_left(starts, started)
        return math.inf if elders >= self.witnesses else None

    def typical_wait_s(self, kind: Kind, now: datetime) -> float | None:
        """The median wait in the queue of ``kind``, counting each job still waiting at its wait so far:
        without them, a burst's first jobs to start (the shortest waits) would stand for all. Else the
        typical wait of any kind."""
        cached = self._waits.get(kind)
        if cached is not None and (now - cached[0]).total_seconds() < WAIT_REFRESH_S:
            return cached[1]
        own = self._by_kind.get(kind)
        waits = list(own.queued) if own is not None else []
        waits += [
            max((now - at).total_seconds(), 0.0) for other, at in self._waiting.values() if other == kind
        ]
        queued = self.queued(kind)
        typical = statistics.median(waits) if waits else queued.typical_s if queued is not None else None
        self._waits[kind] = (now, typical)
        return typical

    def generating(self, kind: Kind) -> Timing | None:
        """Finished jobs' times to generate, of ``kind`` or else the least of any kind."""
        return self._cached(kind, generating=True)

    def queued(self, kind: Kind) -> Timing | None:
        """Jobs' waits in the queue (every job seen starting), of ``kind`` or else the least of any kind."""
        return self._cached(kind, generating=False)

    def _stopped_waiting(self, job_id: str) -> None:
        waiting = self._waiting.pop(job_id, None)
        if waiting is not None:
            self._waits.pop(waiting[0], None)

    def _samples(self, kind: Kind) -> _Samples:
        return self._by_kind.setdefault(kind, _Samples())

    def _sorted_starts(self, kind: Kind) -> list[datetime]:
        if kind not in self._starts:
            self._starts[kind] = sorted(self._generating.get(kind, {}).values())
        return self._starts[kind]

    def _changed(self, kind: Kind) -> None:
        self._least_s.pop(kind, None)
        self._starts.pop(kind, None)
        self._waits.pop(kind, None)
        self._typical.clear()

    def _cached(self, kind: Kind, *, generating: bool) -> Timing | None:
        key = (kind, generating)
        if key not in self._typical:
            phase: _Phase = (lambda s: s.generating) if generating else (lambda s: s.queued)
            own = self._by_kind.get(kind)
            own_samples = phase(own) if own is not None else None
            self._typical[key] = _timing(own_samples) if own_samples else self._least(phase)
        return self._typical[key]

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
            if seen.job.state is JobState.IN_PROGRESS:
                return self.pace.first
            return self.pace.delay(seen.quiet_polls)
        if earliest > now:
            wait = (earliest - now).total_seconds()
            if seen.job.state is JobState.IN_QUEUE:
                wait = min(wait, self._queued_gap_s(timings.typical_wait_s(kind_of(seen.job), now)))
            return timedelta(seconds=min(max(wait, self.pace.first.total_seconds()), self._cap_s))
        generating = timings.generating(kind_of(seen.job))
        start = seen.job.started_at
        if generating is not None and start is not None:
            overdue_from = start + timedelta(seconds=generating.typical_s * OVERDUE_FACTOR)
            if now > overdue_from:
                return self.pace.delay(seen.quiet_polls)
        return self.pace.first

    def _queued_gap_s(self, typical_wait_s: float | None) -> float:
        """How often to look at a waiting job. Its start is only known to within this gap and taken to be
        midway, so a job that started later costs fast polls for the rest, about gap / 8 at the fast pace
        on average; looking costs typical wait / gap polls. Their sum is least at
        sqrt(8 × fast pace × typical wait)."""
        if typical_wait_s is None:
            return self._cap_s
        return math.sqrt(8 * self.pace.first.total_seconds() * typical_wait_s)

    def earliest_completion(self, seen: Observed, timings: JobTimings, now: datetime) -> datetime | None:
        """The soonest the job could finish as far as jobs tell (:data:`NOT_BEFORE_ELDERS` while it has
        elders to wait for); None when they tell nothing."""
        kind = kind_of(seen.job)
        running = seen.job.state is JobState.IN_PROGRESS
        started = likely_start(seen.job.started_at or now, seen.queued_until) if running else None
        least_s = timings.least_generating_s(kind, started)
        if least_s is None:
            return None
        if math.isinf(least_s):
            return NOT_BEFORE_ELDERS
        least = timedelta(seconds=least_s)
        if started is not None:
            if seen.queued_until is None:  # followed since a restart: it may have started a pause sooner
                return started - self.pace.first + least
            return started + least
        # Still waiting (behind ``remote_queue_position`` others, or next): it starts no sooner than now,
        # nor before the shortest wait in the queue seen so far.
        queued = timings.queued(kind)
        submitted = seen.job.submitted_at or now
        start_at_least = submitted + timedelta(seconds=queued.lower_s if queued is not None else 0.0)
        return max(start_at_least, now) + least

    @property
    def _cap_s(self) -> float:
        return self.pace.cap.total_seconds()
