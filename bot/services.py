"""What the scheduler and the tracker share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.events import JobListener, JobLocks
from bot.jobs import utcnow
from bot.service_health import ServiceHealth
from bot.store import JobStore
from client.api import RunComfyClient


@dataclass(frozen=True)
class JobServices:
    """The store, RunComfy, who hears of every change, the per-job locks, the service's health, the clock."""

    store: JobStore
    api: RunComfyClient
    listener: JobListener
    locks: JobLocks
    health: ServiceHealth
    clock: Callable[[], datetime] = utcnow
