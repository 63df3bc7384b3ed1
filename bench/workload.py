"""The benchmark's workloads: which member sends which ``/animate`` when, drawn from a seed.

The same seed gives the same commands, in the same order, at the same offsets, for both subjects (the
project's bot and the plain poller); the RunComfy double then draws each job's durations from its prompt.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from client.fake import SeededTimings

RESOLUTIONS = ("480p", "720p", "1080p")
DURATIONS = (5, 10)
# How often members pick each resolution and video length (most try the cheap, quick default).
RESOLUTION_WEIGHTS = (0.6, 0.3, 0.1)
DURATION_WEIGHTS = (0.7, 0.3)


@dataclass(frozen=True, slots=True)
class Command:
    """One ``/animate``: sent ``at_s`` seconds after the workload starts, by member number ``member``."""

    index: int
    at_s: float
    member: int
    prompt: str
    resolution: str
    duration: int

    @property
    def options(self) -> dict[str, str | int]:
        return {"prompt": self.prompt, "resolution": self.resolution, "duration": self.duration}


@dataclass(frozen=True, slots=True)
class Workload:
    """Commands sent in one channel, and how long their jobs take at the RunComfy double."""

    name: str
    commands: tuple[Command, ...]
    timings: SeededTimings

    @property
    def last_command_s(self) -> float:
        return max((c.at_s for c in self.commands), default=0.0)


def commands(
    count: int, *, spread_s: float, members: int, seed: int, varied: bool = True
) -> tuple[Command, ...]:
    """``count`` commands at seeded offsets over ``spread_s`` seconds (in time order) from ``members``
    members; ``varied`` mixes resolutions and lengths, otherwise every job is 480p, 5 s."""
    if count < 0 or members < 1 or spread_s < 0:
        raise ValueError("count must be >= 0, members >= 1 and spread_s >= 0")
    rng = random.Random(f"workload/{seed}")
    offsets = sorted(rng.uniform(0.0, spread_s) for _ in range(count))
    out = []
    for index, at_s in enumerate(offsets):
        member = rng.randrange(members)
        resolution = rng.choices(RESOLUTIONS, RESOLUTION_WEIGHTS)[0] if varied else RESOLUTIONS[0]
        duration = rng.choices(DURATIONS, DURATION_WEIGHTS)[0] if varied else DURATIONS[0]
        out.append(Command(index, at_s, member, f"scene {seed}-{index}", resolution, duration))
    return tuple(out)


def burst(count: int, *, spread_s: float = 5.0, seed: int) -> Workload:
    """Workload 1: a burst of quick jobs (the API takes about 1 s each)."""
    return Workload(
        "burst",
        commands(count, spread_s=spread_s, members=max(1, count // 4), seed=seed, varied=False),
        SeededTimings(seed=seed, queue_s=(0.0, 0.4), run_s=(0.7, 1.1)),
    )


def busy(count: int, *, spread_s: float = 10.0, seed: int, scale: float = 1.0) -> Workload:
    """Workload 2: realistic jobs, queue 0–20 s and run 20–60 s (times ``scale``), mixed resolutions and
    lengths."""
    return Workload(
        "busy",
        commands(count, spread_s=spread_s, members=max(1, count // 3), seed=seed),
        SeededTimings(seed=seed, queue_s=(0.0, 20.0 * scale), run_s=(20.0 * scale, 60.0 * scale)),
    )


def crowd(count: int, *, spread_s: float, seed: int, hold_s: float) -> Workload:
    """Workload 3: many jobs that stay active (queued or running) for ``hold_s`` seconds and longer."""
    return Workload(
        "crowd",
        commands(count, spread_s=spread_s, members=max(1, count // 5), seed=seed),
        SeededTimings(seed=seed, queue_s=(hold_s, hold_s * 2), run_s=(hold_s, hold_s * 2)),
    )
