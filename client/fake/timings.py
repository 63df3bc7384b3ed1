"""How long each job of the fake waits in the queue and runs, when jobs should not all take the same time.

``FakeConfig(timings=SeededTimings(seed=7, queue_s=(0, 20), run_s=(20, 60)))`` gives every job its own
durations, drawn from a seeded distribution. The draw is keyed by the job's prompt (and the seed), not by
arrival order, so two clients that submit the same prompts in a different order meet the same workload.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# How much longer than the cheapest job (480p, 5 s) each resolution and video length takes to generate.
RESOLUTION_WEIGHT = {"480p": 0.0, "720p": 0.25, "1080p": 0.5}
DURATION_WEIGHT = {5: 0.0, 10: 0.2}
RUN_JITTER = 0.15


@dataclass(frozen=True, slots=True)
class JobTiming:
    """Seconds one job waits in the queue (at least) and then runs."""

    queue_s: float
    run_s: float


class TimingPlan(Protocol):
    def timing(self, job_input: Mapping[str, Any]) -> JobTiming:
        """The durations of the job submitted with ``job_input``."""
        ...


@dataclass(frozen=True, slots=True)
class SeededTimings:
    """Varied, realistic durations: the run time grows with resolution and video length, the queue wait
    is skewed towards short waits with a long tail. Every value stays within its ``(low, high)`` range."""

    seed: int
    queue_s: tuple[float, float] = (0.0, 20.0)
    run_s: tuple[float, float] = (20.0, 60.0)

    def __post_init__(self) -> None:
        for name, (low, high) in (("queue_s", self.queue_s), ("run_s", self.run_s)):
            if not 0 <= low <= high:
                raise ValueError(f"{name} must be a range (low, high) with 0 <= low <= high")

    def timing(self, job_input: Mapping[str, Any]) -> JobTiming:
        rng = random.Random(f"{self.seed}/{job_input.get('prompt', '')}")
        queue_low, queue_high = self.queue_s
        queue = queue_low + (queue_high - queue_low) * rng.betavariate(1.2, 3.0)
        run_low, run_high = self.run_s
        weight = RESOLUTION_WEIGHT.get(str(job_input.get("resolution", "480p")), 0.0)
        weight += DURATION_WEIGHT.get(_as_int(job_input.get("duration", 5)), 0.0)
        share = min(1.0, max(0.0, weight + rng.uniform(-RUN_JITTER, RUN_JITTER) + RUN_JITTER))
        return JobTiming(queue_s=queue, run_s=run_low + (run_high - run_low) * share)


def _as_int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0
