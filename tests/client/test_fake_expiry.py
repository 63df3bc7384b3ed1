"""Requests that expire at the fake: the API forgets them (404, code 404001) and their video goes too."""

from __future__ import annotations

import aiohttp
import pytest

from client.fake import FakeConfig, FakeRunComfy, JobStatus
from tests.client.test_fake import (
    TOKEN,
    call,
    fake_fixture,  # noqa: F401 (provides the `fake` fixture)
    http_fixture,  # noqa: F401 (provides the `http` fixture)
    request_url,
    submitted_id,
)


@pytest.mark.parametrize(("method", "action"), [("GET", "status"), ("GET", "result"), ("POST", "cancel")])
async def test_an_expired_request_is_not_found(
    fake: FakeRunComfy, http: aiohttp.ClientSession, method: str, action: str
) -> None:
    request_id = await submitted_id(http, fake)
    assert (await call(http, method, request_url(fake, request_id, action)))[0] == 200
    fake.expire(request_id)
    status, body = await call(http, method, request_url(fake, request_id, action))
    assert (status, body["error_code"]) == (404, 404001)
    view = fake.jobs[request_id]
    assert view.expired
    assert view.status is (JobStatus.CANCELLED if action == "cancel" else JobStatus.IN_QUEUE)


async def test_the_video_of_an_expired_request_is_gone(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    request_id = await submitted_id(http, fake)
    fake.set_state(request_id, "completed")
    _, result = await call(http, "GET", request_url(fake, request_id, "result"))
    video_url = result["output"]["video"]
    async with http.get(video_url) as response:
        assert response.status == 200
    fake.expire(request_id)
    async with http.get(video_url) as response:
        assert response.status == 404
    assert fake.jobs[request_id].status is JobStatus.COMPLETED


async def test_an_expired_job_gives_up_its_place_in_the_queue(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    first, second = await submitted_id(http, fake), await submitted_id(http, fake)
    assert fake.jobs[second].queue_position == 1
    fake.expire(first)
    assert fake.jobs[second].queue_position == 0
    assert fake.jobs[first].queue_position is None
    assert (await call(http, "GET", request_url(fake, second, "status")))[1]["queue_position"] == 0


async def test_an_expired_running_job_frees_its_slot_and_stops(http: aiohttp.ClientSession) -> None:
    async with FakeRunComfy(TOKEN, FakeConfig(queue_s=0.01, run_s=0.2, max_running=1)) as fake:
        first, second = await submitted_id(http, fake), await submitted_id(http, fake)
        await fake.wait_for_status(first, "in_progress", timeout=2)
        fake.expire(first)
        await fake.wait_for_status(second, "completed", timeout=2)
        assert fake.jobs[first].status is JobStatus.IN_PROGRESS  # it never finished


async def test_an_expired_job_can_no_longer_be_moved(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    request_id = await submitted_id(http, fake)
    fake.expire(request_id)
    for move in (
        lambda: fake.advance(request_id),
        lambda: fake.set_state(request_id, "completed"),
        lambda: fake.fail_job(request_id),
        lambda: fake.expire(request_id),
    ):
        with pytest.raises(ValueError, match="expired"):
            move()
