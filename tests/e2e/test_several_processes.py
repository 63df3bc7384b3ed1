"""Three real bot processes, one shard each, share one PostgreSQL queue against the Discord double (three
shards) and the RunComfy double: the global limit holds, turns hold across processes, and a process killed
with SIGKILL mid-job leaves nothing lost, nothing sent twice and every video delivered once."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from client.fake import FakeConfig, FakeRunComfy
from discord_double import DiscordDouble, DoubleConfig, InteractionHandle, make_image
from discord_double.process import BotProcess
from discord_double.state import GuildSpec
from tests.conftest import RUNCOMFY_TOKEN, bot_environment
from tests.e2e.helpers import has_card, has_video, public_messages, video_attachment
from tests.store.postgres_for_tests import fresh_postgres_database

SHARDS = 3
MAX_ACTIVE = 2
LEASE_S = 3
READY_S = 60.0
VIDEO_S = 30.0

pytestmark = pytest.mark.timeout(240)


@dataclass
class Cluster:
    discord: DiscordDouble
    runcomfy: FakeRunComfy
    processes: list[BotProcess]
    guilds: list[GuildSpec]
    metrics_ports: list[int]
    """``guilds[shard]`` is routed to shard ``shard``, which process ``shard`` runs."""

    async def animate(self, shard: int, prompt: str) -> InteractionHandle:
        guild = self.guilds[shard]
        channel = next(c for c in guild.channels if c.name == "animate")
        return await self.discord.invoke_command(
            "animate",
            {"prompt": prompt},
            {"image": make_image(640, 480)},
            channel=channel,
            user=guild.members[1],
        )

    def unfinished_at_runcomfy(self) -> list[str]:
        return [rid for rid, view in self.runcomfy.jobs.items() if view.status in ("in_queue", "in_progress")]

    def complete(self, request_id: str) -> None:
        while self.runcomfy.jobs[request_id].status != "completed":
            self.runcomfy.advance(request_id)

    def output(self) -> str:
        return "\n".join(f"--- process {n} ---\n{p.output()}" for n, p in enumerate(self.processes))


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with (
        DiscordDouble(DoubleConfig(shard_count=SHARDS)) as discord,
        FakeRunComfy(RUNCOMFY_TOKEN, FakeConfig(manual=True)) as runcomfy,
        fresh_postgres_database() as database_url,
    ):
        guilds = [discord.add_guild(f"Guild on shard {shard}", shard=shard) for shard in range(SHARDS)]
        processes = []
        ports = [free_port() for _ in range(SHARDS)]
        for shard in range(SHARDS):
            workdir = tmp_path / f"bot-{shard}"
            workdir.mkdir()
            env = bot_environment(discord, runcomfy.base_url, workdir) | {
                "DATABASE_URL": database_url,
                "ANIMATE_SHARD_COUNT": str(SHARDS),
                "ANIMATE_SHARD_IDS": str(shard),
                "ANIMATE_INSTANCE_ID": f"bot-{shard}",
                "ANIMATE_LEASE_S": str(LEASE_S),
                "ANIMATE_MAX_ACTIVE": str(MAX_ACTIVE),
                "ANIMATE_METRICS_PORT": str(ports[shard]),
            }
            processes.append(BotProcess(env, workdir, on_exit=discord.poke))
        shared = Cluster(discord, runcomfy, processes, guilds, ports)
        for process in processes:
            await process.start()
        try:
            try:
                await discord.wait_for(
                    lambda: discord.bot_ready() or not all(p.running for p in processes), READY_S
                )
            except TimeoutError:
                pytest.fail(f"the processes did not become ready\n{shared.output()}")
            if not all(p.running for p in processes):
                pytest.fail(f"a process exited while starting\n{shared.output()}")
            yield shared
        finally:
            for process in processes:
                if process.running:
                    with contextlib.suppress(TimeoutError):
                        await process.terminate()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def scrape(port: int) -> tuple[int, dict[str, float]]:
    """``/healthz``'s status and ``/metrics``' samples (by name and labels) of the process on ``port``."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/healthz") as health:
            status = health.status
        async with http.get(f"http://127.0.0.1:{port}/metrics") as page:
            text = await page.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return status, samples


def most_at_once(intervals: list[tuple[datetime, datetime | None]]) -> int:
    """The most intervals open at one moment (an open end counts as still open)."""
    events = sorted(
        [(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals if end is not None],
        key=lambda event: (event[0], event[1]),
    )
    open_now = most = 0
    for _, change in events:
        open_now += change
        most = max(most, open_now)
    return most


async def test_three_processes_share_the_limit_the_turns_and_a_killed_siblings_jobs(cluster: Cluster) -> None:
    handles: dict[str, InteractionHandle] = {}
    for round_ in range(2):
        for shard in range(SHARDS):
            prompt = f"guild {shard} cat {round_} waves"
            handles[prompt] = handle = await cluster.animate(shard, prompt)
            await handle.wait_original(has_card, timeout=VIDEO_S)  # stored, so the queue's order is known
    fake = cluster.runcomfy
    await fake.wait_for_requests("submit", MAX_ACTIVE, timeout=VIDEO_S)
    first_two = {str(request.json["prompt"]) for request in fake.requests_to("submit")}
    assert first_two == {"guild 0 cat 0 waves", "guild 1 cat 0 waves"}, cluster.output()

    await cluster.processes[0].kill9()  # it holds guild 0's job at RunComfy and guild 0's second job
    killed_at = time.monotonic()
    for submitted in range(MAX_ACTIVE, len(handles)):
        cluster.complete(cluster.unfinished_at_runcomfy()[0])
        await fake.wait_for_requests("submit", submitted + 1, timeout=VIDEO_S)
    for request_id in cluster.unfinished_at_runcomfy():
        cluster.complete(request_id)
    try:
        finals = {
            prompt: await handle.wait_original(has_video, timeout=VIDEO_S)
            for prompt, handle in handles.items()
        }
    except TimeoutError:
        pytest.fail(f"not every video arrived\n{cluster.output()}")
    took_s = time.monotonic() - killed_at

    prompts = [str(request.json["prompt"]) for request in fake.requests_to("submit")]
    assert sorted(prompts) == sorted(handles)  # none lost, none sent twice
    assert set(prompts[:SHARDS]) == {f"guild {shard} cat 0 waves" for shard in range(SHARDS)}  # turns held
    views = list(fake.jobs.values())
    assert most_at_once([(view.created_at, view.finished_at) for view in views]) <= MAX_ACTIVE
    for final in finals.values():
        videos = [a for a in final.attachments if a["filename"].endswith(".mp4")]
        assert len(videos) == 1
        assert video_attachment(final) is not None
    assert len([m for m in public_messages(cluster.discord) if has_video(m)]) == len(handles)  # each once
    assert took_s < 4 * LEASE_S + VIDEO_S, cluster.output()
    survivors = "\n".join(process.output() for process in cluster.processes[1:])
    assert "took it over from bot-0" in survivors

    scraped = [await scrape(port) for port in cluster.metrics_ports[1:]]
    assert [status for status, _ in scraped] == [200, 200]
    for _, samples in scraped:  # each process reports the whole shared store
        finished = samples["animate_jobs{state=delivered}"] + samples["animate_jobs{state=completed}"]
        assert finished == len(handles)  # delivered, or its video shown and that being recorded now
    # Its job at RunComfy is adopted; its queued one may be, or be claimed straight from the queue instead.
    assert sum(samples["animate_lease_takeovers_total{}"] for _, samples in scraped) >= 1
