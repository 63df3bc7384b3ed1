"""What the scheduler and the tracker share."""

from __future__ import annotations

from dataclasses import dataclass

from bot.service_health import ServiceHealth
from bot.store import JobStore
from bot.transitions import JobWriter
from client.api import RunComfyClient


@dataclass(frozen=True)
class JobServices:
    """The store (to read), the one write path (which holds the clock), RunComfy, and the service's health."""

    store: JobStore
    writer: JobWriter
    api: RunComfyClient
    health: ServiceHealth
