"""Fault injection on the fake RunComfy API."""

from __future__ import annotations

import time

import aiohttp
import pytest

from client.fake import FakeRunComfy, Fault, FaultKind, JobStatus
from tests.client.test_fake import (
    SUBMIT_PATH,
    call,
    fake_fixture,  # noqa: F401 (provides the `fake` fixture)
    http_fixture,  # noqa: F401 (provides the `http` fixture)
    request_url,
    submitted_id,
    valid_body,
)


async def test_an_http_fault_answers_its_status_for_its_count_then_stops(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    request_id = await submitted_id(http, fake)
    fake.inject(Fault.http(503, endpoint="status", times=2))
    url = request_url(fake, request_id, "status")
    answers = [await call(http, "GET", url) for _ in range(3)]
    assert [status for status, _ in answers] == [503, 503, 200]
    assert answers[0][1]["error_code"] == 500001
    assert answers[2][1]["status"] == "in_queue"
    assert [r.fault for r in fake.requests_to("status")] == [FaultKind.HTTP, FaultKind.HTTP, None]
    assert fake.pending_faults == ()


@pytest.mark.parametrize(("status", "code"), [(402, 400002), (401, 400004), (500, 500001), (502, 500001)])
async def test_an_http_fault_carries_the_documented_error_code(
    fake: FakeRunComfy, http: aiohttp.ClientSession, status: int, code: int
) -> None:
    fake.inject(Fault.http(status, endpoint="submit"))
    answer_status, body = await call(http, "POST", fake.base_url + SUBMIT_PATH, json=valid_body())
    assert (answer_status, body["error_code"]) == (status, code)
    assert body["error_message"]
    assert not fake.jobs


async def test_an_http_fault_can_carry_its_own_code_and_message(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    fake.inject(Fault.http(402, error_code=400002, message="Top up your balance."))
    assert await call(http, "POST", fake.base_url + SUBMIT_PATH, json=valid_body()) == (
        402,
        {"error_code": 400002, "error_message": "Top up your balance."},
    )


@pytest.mark.parametrize(("retry_after", "header"), [(1, "1"), (2.5, "2.5")])
async def test_rate_limiting_sends_retry_after(
    fake: FakeRunComfy, http: aiohttp.ClientSession, retry_after: float, header: str
) -> None:
    fake.inject(Fault.rate_limited(retry_after, endpoint="submit"))
    async with http.post(fake.base_url + SUBMIT_PATH, json=valid_body()) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == header
        assert response.content_type == "application/json"
    assert not fake.jobs


async def test_a_fault_spares_the_other_endpoints(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    request_id = await submitted_id(http, fake)
    fake.inject(Fault.http(500, endpoint="cancel"))
    assert (await call(http, "GET", request_url(fake, request_id, "status")))[0] == 200
    assert (await call(http, "GET", request_url(fake, request_id, "result")))[0] == 200
    assert (await call(http, "POST", request_url(fake, request_id, "cancel")))[0] == 500
    assert fake.jobs[request_id].status is JobStatus.IN_QUEUE


async def test_a_fault_without_a_count_stays(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    request_id = await submitted_id(http, fake)
    fake.inject(Fault.http(503, endpoint="result", times=None))
    for _ in range(4):
        assert (await call(http, "GET", request_url(fake, request_id, "result")))[0] == 503
    fake.clear_faults()
    assert (await call(http, "GET", request_url(fake, request_id, "result")))[0] == 200


def test_a_fault_used_zero_times_is_refused() -> None:
    with pytest.raises(ValueError, match="times"):
        Fault.http(500, times=0)


async def test_latency_delays_the_answer(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    request_id = await submitted_id(http, fake)
    fake.inject(Fault.latency(0.3, endpoint="status"), Fault.http(503, endpoint="status"))
    started = time.monotonic()
    status, _ = await call(http, "GET", request_url(fake, request_id, "status"))
    assert time.monotonic() - started >= 0.3
    assert status == 503
    assert fake.pending_faults == ()


async def test_a_drop_before_processing_creates_no_job(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    fake.inject(Fault.drop(endpoint="submit"))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, "POST", fake.base_url + SUBMIT_PATH, json=valid_body())
    assert not fake.jobs
    (logged,) = fake.requests_to("submit")
    assert (logged.status, logged.fault) == (None, FaultKind.DROP_BEFORE)


async def test_a_drop_after_processing_leaves_the_job_created(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    fake.inject(Fault.drop(after=True, endpoint="submit"))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, "POST", fake.base_url + SUBMIT_PATH, json=valid_body())
    assert len(fake.jobs) == 1
    (logged,) = fake.requests_to("submit")
    assert (logged.status, logged.fault) == (None, FaultKind.DROP_AFTER)


async def test_a_drop_after_a_cancel_still_cancels(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    request_id = await submitted_id(http, fake)
    fake.inject(Fault.drop(after=True, endpoint="cancel"))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, "POST", request_url(fake, request_id, "cancel"))
    assert fake.jobs[request_id].status is JobStatus.CANCELLED


async def test_an_http_fault_after_processing_leaves_the_job_created(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    fake.inject(Fault.http(502, endpoint="submit", after=True))
    status, body = await call(http, "POST", fake.base_url + SUBMIT_PATH, json=valid_body())
    assert (status, body["error_code"]) == (502, 500001)
    assert "request_id" not in body
    assert len(fake.jobs) == 1
    (logged,) = fake.requests_to("submit")
    assert (logged.status, logged.fault) == (502, FaultKind.HTTP_AFTER)


async def test_an_http_fault_after_a_cancel_still_cancels(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    request_id = await submitted_id(http, fake)
    fake.inject(Fault.http(503, endpoint="cancel", after=True, retry_after=3))
    async with http.post(request_url(fake, request_id, "cancel")) as response:
        assert response.status == 503
        assert response.headers["Retry-After"] == "3"
    assert fake.jobs[request_id].status is JobStatus.CANCELLED


async def test_malformed_json_follows_real_processing(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    fake.inject(Fault.malformed(endpoint="submit"))
    async with http.post(fake.base_url + SUBMIT_PATH, json=valid_body()) as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
            await response.json()
    assert len(fake.jobs) == 1


async def test_a_200_can_carry_an_error_body(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    fake.inject(Fault.error_200(endpoint="submit", message="Internal error, try again."))
    assert await call(http, "POST", fake.base_url + SUBMIT_PATH, json=valid_body()) == (
        200,
        {"error_code": 500001, "error_message": "Internal error, try again."},
    )
    assert not fake.jobs


async def test_media_faults_apply_to_the_video(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    request_id = await submitted_id(http, fake)
    fake.set_state(request_id, "completed")
    media_url = f"{fake.base_url}/media/{request_id}.mp4"
    fake.inject(Fault.malformed(endpoint="media"), Fault.http(503, endpoint="media"))
    async with http.get(media_url) as response:
        truncated = await response.read()
    assert len(truncated) == len(fake.video) // 2
    async with http.get(media_url) as response:
        assert response.status == 503
    async with http.get(media_url) as response:
        assert await response.read() == fake.video


async def test_an_any_fault_hits_whatever_comes_next(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    request_id = await submitted_id(http, fake)
    fake.inject(Fault.http(500))
    assert (await call(http, "GET", request_url(fake, request_id, "result")))[0] == 500
    assert (await call(http, "GET", request_url(fake, request_id, "status")))[0] == 200
