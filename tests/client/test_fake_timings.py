"""Per-job durations of the fake: a seeded, varied distribution, and the fake keeping to it."""

from __future__ import annotations

import statistics
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest

from client.fake import FakeConfig, FakeRunComfy, JobStatus, JobTiming, SeededTimings
from tests.client.test_fake import AUTH, SUBMIT_PATH, valid_body


def job(prompt: str, resolution: str = "480p", duration: int = 5) -> dict[str, Any]:
    return {"prompt": prompt, "resolution": resolution, "duration": duration}


def test_the_same_seed_and_prompt_give_the_same_durations_whatever_the_order() -> None:
    plan = SeededTimings(seed=3)
    prompts = [f"scene {i}" for i in range(50)]
    forward = {p: plan.timing(job(p)) for p in prompts}
    backward = {p: SeededTimings(seed=3).timing(job(p)) for p in reversed(prompts)}
    assert forward == backward
    assert forward != {p: SeededTimings(seed=4).timing(job(p)) for p in prompts}


def test_durations_vary_and_stay_in_their_ranges() -> None:
    plan = SeededTimings(seed=1, queue_s=(0.0, 20.0), run_s=(20.0, 60.0))
    timings = [
        plan.timing(job(f"p{i}", res, dur)) for i in range(200) for res, dur in (("480p", 5), ("1080p", 10))
    ]
    assert all(0.0 <= t.queue_s <= 20.0 and 20.0 <= t.run_s <= 60.0 for t in timings)
    assert statistics.pstdev(t.queue_s for t in timings) > 2.0
    assert len({round(t.run_s, 3) for t in timings}) > 100


def test_larger_and_longer_videos_take_longer_to_generate() -> None:
    plan = SeededTimings(seed=9)

    def mean_run(resolution: str, duration: int) -> float:
        return statistics.mean(plan.timing(job(f"p{i}", resolution, duration)).run_s for i in range(100))

    assert mean_run("480p", 5) < mean_run("720p", 5) < mean_run("1080p", 5) < mean_run("1080p", 10)


def test_a_range_the_wrong_way_round_is_refused() -> None:
    with pytest.raises(ValueError, match="run_s"):
        SeededTimings(seed=0, run_s=(5.0, 1.0))


class ByPrompt:
    """A plan that gives each prompt the timing a test chose."""

    def __init__(self, timings: Mapping[str, JobTiming]) -> None:
        self.timings = timings

    def timing(self, job_input: Mapping[str, Any]) -> JobTiming:
        return self.timings[str(job_input["prompt"])]


@pytest.fixture(name="http")
async def http_fixture() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def test_the_fake_runs_each_job_for_its_own_time(http: aiohttp.ClientSession) -> None:
    plan = ByPrompt({"slow": JobTiming(queue_s=0.0, run_s=0.6), "quick": JobTiming(queue_s=0.0, run_s=0.05)})
    async with FakeRunComfy("test-token", FakeConfig(timings=plan, check_images=False)) as fake:
        ids = {}
        for prompt in ("slow", "quick"):
            async with http.post(fake.base_url + SUBMIT_PATH, json=valid_body(prompt=prompt)) as response:
                ids[prompt] = (await response.json())["request_id"]
        quick = await fake.wait_for_status(ids["quick"], JobStatus.COMPLETED, timeout=5)
        assert fake.jobs[ids["slow"]].status is JobStatus.IN_PROGRESS
        slow = await fake.wait_for_status(ids["slow"], JobStatus.COMPLETED, timeout=5)
        assert quick.finished_at is not None
        assert slow.finished_at is not None
        assert slow.started_at is not None
        assert quick.finished_at < slow.finished_at
        assert (slow.finished_at - slow.started_at).total_seconds() >= 0.55
