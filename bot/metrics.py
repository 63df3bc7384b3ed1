"""Prometheus metrics of one bot process, on its own registry.

Job changes are counted as a listener on the write path; the jobs by state and the queue per server are read
from the store when scraped (so every process reports the whole shared queue); RunComfy calls, Discord
rate-limit hits and lease takeovers are told by the parts that see them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.jobs import Job, JobState
from bot.store import JobStore

API_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def endpoint_of(method: str, path: str) -> str:
    """A RunComfy call's endpoint without its request id: ``submit``, ``status``, ``result``, ``cancel``."""
    if "/requests/" in path:
        return path.rstrip("/").rsplit("/", 1)[-1]
    return "submit" if method.upper() == "POST" else "other"


class BotMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Gauge(
            "animate_jobs", "Jobs in the shared store by state", ["state"], registry=self.registry
        )
        self.queue_length = Gauge(
            "animate_queue_length",
            "Jobs waiting in the bot's own queue, by server",
            ["guild_id"],
            registry=self.registry,
        )
        self.job_changes = Counter(
            "animate_job_changes",
            "Job changes this process wrote, by new state",
            ["state"],
            registry=self.registry,
        )
        self.api_latency = Histogram(
            "animate_runcomfy_request_seconds",
            "Time of one RunComfy HTTP call, by endpoint",
            ["endpoint"],
            buckets=API_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.api_errors = Counter(
            "animate_runcomfy_errors",
            "RunComfy calls that failed, by endpoint and kind of error",
            ["endpoint", "kind"],
            registry=self.registry,
        )
        self.discord_rate_limits = Counter(
            "animate_discord_rate_limits",
            "Times Discord answered 429 to this process",
            registry=self.registry,
        )
        self.lease_takeovers = Counter(
            "animate_lease_takeovers",
            "Jobs this process adopted from processes whose leases expired (a queued one may instead be "
            "admitted straight from the queue, uncounted)",
            registry=self.registry,
        )
        for state in JobState:
            self.jobs.labels(state.value)
        self._changes_by_state = {state: self.job_changes.labels(state.value) for state in JobState}

    def job_changed(self, job: Job) -> None:
        self._changes_by_state[job.state].inc()

    def queue_changed(self) -> None:
        """Nothing to count: the queue is read from the store when scraped."""

    def api_call(self, method: str, path: str, seconds: float, error: BaseException | None) -> None:
        endpoint = endpoint_of(method, path)
        self.api_latency.labels(endpoint).observe(seconds)
        if error is not None:
            self.api_errors.labels(endpoint, type(error).__name__).inc()

    def took_over(self, count: int) -> None:
        self.lease_takeovers.inc(count)

    async def render(self, store: JobStore) -> bytes:
        """The metrics in Prometheus' text format, with the store's figures read now."""
        by_state, queued_by_guild = await store.tally()
        for state in JobState:
            self.jobs.labels(state.value).set(by_state.get(state, 0))
        self.queue_length.clear()
        for guild_id, count in queued_by_guild.items():
            self.queue_length.labels(str(guild_id)).set(count)
        return generate_latest(self.registry)
