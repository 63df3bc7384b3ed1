"""/healthz and /metrics: what an operator (or Docker's HEALTHCHECK, or Prometheus) reads of one process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.jobs import JobState
from bot.metrics import BotMetrics, endpoint_of
from bot.ops_server import ops_app
from bot.store import JobStore
from bot.transitions import JobWriter, NewJob
from client.api import RunComfyClient
from client.errors import NotFoundError
from client.fake import FakeConfig, FakeRunComfy
from client.models import AnimateInput
from discord_app.rate_limits import count_rate_limits
from tests.store.jobs_for_tests import T0, minimal_job

TOKEN = "rc-test-token-0123456789"
Labels = tuple[tuple[str, str], ...]


def samples(text: str, name: str) -> dict[Labels, float]:
    found: dict[Labels, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def in_guild(guild_id: int) -> NewJob:
    return lambda job_id, now: minimal_job(job_id, guild_id=guild_id, created_at=now)


@dataclass
class Ops:
    client: TestClient[web.Request, web.Application]
    metrics: BotMetrics
    writer: JobWriter
    alive: list[bool] = field(default_factory=lambda: [True])

    async def metrics_text(self) -> str:
        answer = await self.client.get("/metrics")
        assert answer.status == 200
        assert answer.content_type == "text/plain"
        return await answer.text()


@pytest.fixture
async def ops(store: JobStore) -> AsyncIterator[Ops]:
    metrics = BotMetrics()
    alive = [True]
    client = TestClient(TestServer(ops_app(store, metrics, lambda: alive[0])))
    await client.start_server()
    try:
        yield Ops(client, metrics, JobWriter(store, clock=lambda: T0, listeners=[metrics]), alive)
    finally:
        await client.close()


async def test_healthz_needs_the_engine_running(ops: Ops) -> None:
    assert (await ops.client.get("/healthz")).status == 200
    ops.alive[0] = False
    assert (await ops.client.get("/healthz")).status == 503


class Unreachable:
    """A store whose database no longer answers."""

    async def get_meta(self, key: str) -> str | None:
        raise ConnectionRefusedError("the database went away")


async def test_healthz_fails_while_the_store_does_not_answer() -> None:
    app = ops_app(cast(JobStore, Unreachable()), BotMetrics(), lambda: True)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/healthz")).status == 503


async def test_metrics_show_the_jobs_by_state_and_the_queue_of_each_server(ops: Ops) -> None:
    for guild_id in (1, 1, 2):
        await ops.writer.create(in_guild(guild_id))
    other = await ops.writer.create(in_guild(3))
    await ops.writer.apply(other.id, lambda job, now: job.moved_to(JobState.SUBMITTING, at=now))

    text = await ops.metrics_text()
    jobs = samples(text, "animate_jobs")
    assert jobs[(("state", "queued"),)] == 3
    assert jobs[(("state", "submitting"),)] == 1
    assert jobs[(("state", "delivered"),)] == 0
    assert samples(text, "animate_queue_length") == {(("guild_id", "1"),): 2, (("guild_id", "2"),): 1}
    assert samples(text, "animate_job_changes_total")[(("state", "submitting"),)] == 1


async def test_runcomfy_calls_are_timed_and_their_errors_counted_by_kind(ops: Ops) -> None:
    async with (
        FakeRunComfy(TOKEN, FakeConfig(manual=True, check_images=False)) as fake,
        RunComfyClient(TOKEN, fake.base_url, observe=ops.metrics.api_call, max_attempts=1) as api,
    ):
        submitted = await api.submit(
            AnimateInput(prompt="a cat", first_frame_image_url="https://cdn.example/c.png")
        )
        await api.result(submitted.request_id)
        with pytest.raises(NotFoundError):
            await api.result("0" * 8 + "-0000-0000-0000-" + "0" * 12)

    text = await ops.metrics_text()
    counts = samples(text, "animate_runcomfy_request_seconds_count")
    assert counts == {(("endpoint", "submit"),): 1, (("endpoint", "result"),): 2}
    assert samples(text, "animate_runcomfy_errors_total") == {
        (("endpoint", "result"), ("kind", "NotFoundError")): 1
    }


async def test_discord_rate_limit_warnings_are_counted(ops: Ops) -> None:
    discord_http = logging.getLogger("discord.http")
    async with count_rate_limits(ops.metrics):
        discord_http.warning("We are being rate limited. PATCH /webhooks/1/x responded with 429.")
        discord_http.warning("Something else went wrong")
    discord_http.warning("We are being rate limited. after the counter was removed")

    assert samples(await ops.metrics_text(), "animate_discord_rate_limits_total") == {(): 1}


async def test_lease_takeovers_are_counted(ops: Ops) -> None:
    ops.metrics.took_over(3)
    assert samples(await ops.metrics_text(), "animate_lease_takeovers_total") == {(): 3}


def test_an_endpoint_is_named_without_its_request_id() -> None:
    assert endpoint_of("POST", "/prod/v1/models/bytedance/seedance/image-to-video") == "submit"
    assert endpoint_of("GET", "/v1/requests/abc-123/status") == "status"
    assert endpoint_of("POST", "/v1/requests/abc-123/cancel") == "cancel"
