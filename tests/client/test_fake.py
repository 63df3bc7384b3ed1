"""The fake RunComfy API, driven over HTTP with a plain aiohttp session."""

from __future__ import annotations

import asyncio
import base64
import io
import signal
import struct
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from client.fake import FakeConfig, FakeRunComfy, Fault, JobStatus, OutputShape
from client.fake.media import padded_video, sample_video

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SUBMIT_PATH = "/v1/models/bytedance/seedance-1-0/lite/image-to-video"
REPO_ROOT = Path(__file__).resolve().parents[2]


def png_data_uri(width: int = 640, height: int = 360) -> str:
    buffer = io.BytesIO()
    Image.new("L", (width, height)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


VALID_IMAGE = png_data_uri()


def valid_body(**changes: Any) -> dict[str, Any]:
    return {"prompt": "a cat waves", "first_frame_image_url": VALID_IMAGE, **changes}


@pytest.fixture(name="fake")
async def fake_fixture() -> AsyncIterator[FakeRunComfy]:
    async with FakeRunComfy(TOKEN, FakeConfig(manual=True)) as running:
        yield running


@pytest.fixture(name="http")
async def http_fixture() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with http.request(method, url, **kwargs) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json()


async def submit(
    http: aiohttp.ClientSession, fake: FakeRunComfy, **changes: Any
) -> tuple[int, dict[str, Any]]:
    return await call(http, "POST", fake.base_url + SUBMIT_PATH, json=valid_body(**changes))


async def submitted_id(http: aiohttp.ClientSession, fake: FakeRunComfy) -> str:
    status, body = await submit(http, fake)
    assert status == 200, body
    return str(body["request_id"])


def request_url(fake: FakeRunComfy, request_id: str, action: str) -> str:
    return f"{fake.base_url}/v1/requests/{request_id}/{action}"


# -- auth ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
@pytest.mark.parametrize(
    ("method", "action"), [("POST", None), ("GET", "status"), ("GET", "result"), ("POST", "cancel")]
)
async def test_every_endpoint_refuses_a_missing_or_wrong_token(
    fake: FakeRunComfy, http: aiohttp.ClientSession, headers: dict[str, str], method: str, action: str | None
) -> None:
    request_id = await submitted_id(http, fake)
    url = fake.base_url + SUBMIT_PATH if action is None else request_url(fake, request_id, action)
    async with aiohttp.ClientSession(headers=headers) as anonymous:
        status, body = await call(anonymous, method, url, json=valid_body())
    assert status == 401
    assert body["error_code"] == 400004
    assert TOKEN not in str(body)
    assert len(fake.jobs) == 1
    assert fake.jobs[request_id].status is JobStatus.IN_QUEUE


async def test_a_request_made_with_another_token_is_forbidden(http: aiohttp.ClientSession) -> None:
    config = FakeConfig(manual=True, other_tokens=("other-account",))
    async with FakeRunComfy(TOKEN, config) as fake:
        request_id = await submitted_id(http, fake)
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer other-account"}) as other:
            for method, action in (("GET", "status"), ("GET", "result"), ("POST", "cancel")):
                status, body = await call(other, method, request_url(fake, request_id, action))
                assert (status, body["error_code"]) == (403, 403001)
        assert fake.jobs[request_id].status is JobStatus.IN_QUEUE


# -- submit ----------------------------------------------------------------------------------------------


async def test_submit_answers_an_id_and_absolute_urls_and_fills_defaults(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    status, body = await submit(http, fake)
    assert status == 200
    request_id = body["request_id"]
    assert uuid.UUID(request_id)
    base = f"{fake.base_url}/v1/requests/{request_id}"
    assert body == {
        "request_id": request_id,
        "status_url": f"{base}/status",
        "result_url": f"{base}/result",
        "cancel_url": f"{base}/cancel",
    }
    job = fake.jobs[request_id]
    assert job.status is JobStatus.IN_QUEUE
    assert job.input == {**valid_body(), "resolution": "480p", "duration": 5}


async def test_submit_keeps_the_options_given(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    status, body = await submit(http, fake, resolution="1080p", duration=10, last_frame_image_url=VALID_IMAGE)
    assert status == 200
    job_input = fake.jobs[body["request_id"]].input
    assert (job_input["resolution"], job_input["duration"]) == ("1080p", 10)
    assert job_input["last_frame_image_url"] == VALID_IMAGE


async def test_an_unknown_model_is_refused(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, "POST", fake.base_url + "/v1/models/acme/nothing", json=valid_body())
    assert (status, body["error_code"]) == (400, 400001)
    assert not fake.jobs


async def test_a_body_that_is_not_json_is_a_400(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, "POST", fake.base_url + SUBMIT_PATH, data=b"prompt=hello")
    assert status == 400
    assert body["detail"][0]["type"] == "json_invalid"
    assert not fake.jobs


async def test_a_json_body_that_is_not_an_object_is_a_422(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    status, body = await call(http, "POST", fake.base_url + SUBMIT_PATH, json=["prompt"])
    assert (status, body["error_code"]) == (422, 422001)
    assert body["detail"] == [
        {
            "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "type": "model_attributes_type",
        }
    ]


@pytest.mark.parametrize(
    ("changes", "field", "msg", "kind"),
    [
        ({"prompt": None}, "prompt", "Field required", "missing"),
        ({"first_frame_image_url": None}, "first_frame_image_url", "Field required", "missing"),
        ({"prompt": "x" * 1901}, "prompt", "String should have at most 1900 characters", "string_too_long"),
        ({"prompt": 42}, "prompt", "Input should be a valid string", "string_type"),
        (
            {"first_frame_image_url": ["u"]},
            "first_frame_image_url",
            "Input should be a valid string",
            "string_type",
        ),
        (
            {"last_frame_image_url": 1},
            "last_frame_image_url",
            "Input should be a valid string",
            "string_type",
        ),
        ({"resolution": 720}, "resolution", "Input should be a valid string", "string_type"),
        ({"resolution": "4k"}, "resolution", "Input should be '480p', '720p' or '1080p'", "literal_error"),
        ({"resolution": "720P"}, "resolution", "Input should be '480p', '720p' or '1080p'", "literal_error"),
        ({"duration": 7}, "duration", "Input should be 5 or 10", "literal_error"),
        ({"duration": "5"}, "duration", "Input should be a valid integer", "int_type"),
        ({"duration": True}, "duration", "Input should be a valid integer", "int_type"),
        ({"duration": 5.5}, "duration", "Input should be a valid integer", "int_type"),
    ],
)
async def test_each_schema_rule_is_a_422_naming_the_field(
    fake: FakeRunComfy,
    http: aiohttp.ClientSession,
    changes: dict[str, Any],
    field: str,
    msg: str,
    kind: str,
) -> None:
    body_sent = {k: v for k, v in valid_body(**changes).items() if v is not None}
    status, body = await call(http, "POST", fake.base_url + SUBMIT_PATH, json=body_sent)
    assert (status, body["error_code"]) == (422, 422001)
    assert body["detail"] == [{"loc": ["body", field], "msg": msg, "type": kind}]
    assert body["error_message"] == f"{field}: {msg}"
    assert not fake.jobs


async def test_every_schema_issue_is_reported_at_once(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    status, body = await call(http, "POST", fake.base_url + SUBMIT_PATH, json={"duration": 3})
    assert status == 422
    assert [d["loc"][1] for d in body["detail"]] == ["prompt", "first_frame_image_url", "duration"]
    assert body["error_message"].count(";") == 2


async def test_the_longest_prompt_and_an_empty_prompt_are_accepted(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    assert (await submit(http, fake, prompt="x" * 1900))[0] == 200
    assert (await submit(http, fake, prompt=""))[0] == 200


# -- status, result, cancel ------------------------------------------------------------------------------


async def test_status_counts_the_jobs_ahead_only_while_queued(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    ids = [await submitted_id(http, fake) for _ in range(3)]
    positions = [
        (await call(http, "GET", request_url(fake, rid, "status")))[1]["queue_position"] for rid in ids
    ]
    assert positions == [0, 1, 2]

    fake.advance(ids[0])
    status, body = await call(http, "GET", request_url(fake, ids[0], "status"))
    assert status == 200
    assert body == {
        "request_id": ids[0],
        "status": "in_progress",
        "status_url": request_url(fake, ids[0], "status"),
        "result_url": request_url(fake, ids[0], "result"),
    }
    await call(http, "POST", request_url(fake, ids[1], "cancel"))
    assert (await call(http, "GET", request_url(fake, ids[2], "status")))[1]["queue_position"] == 0


@pytest.mark.parametrize(("method", "action"), [("GET", "status"), ("GET", "result"), ("POST", "cancel")])
async def test_an_unknown_request_id_is_a_404(
    fake: FakeRunComfy, http: aiohttp.ClientSession, method: str, action: str
) -> None:
    status, body = await call(http, method, request_url(fake, str(uuid.uuid4()), action))
    assert (status, body["error_code"]) == (404, 404001)


async def test_result_answers_the_status_until_the_job_is_done(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    request_id = await submitted_id(http, fake)
    result_url = request_url(fake, request_id, "result")
    assert await call(http, "GET", result_url) == (200, {"request_id": request_id, "status": "in_queue"})
    fake.advance(request_id)
    assert await call(http, "GET", result_url) == (200, {"request_id": request_id, "status": "in_progress"})
    assert await call(http, "GET", result_url, params={"include_cost": "true"}) == (
        200,
        {"request_id": request_id, "status": "in_progress"},
    )

    fake.advance(request_id)
    status, body = await call(http, "GET", result_url)
    video_url = f"{fake.base_url}/media/{request_id}.mp4"
    assert status == 200
    assert body["status"] == "completed"
    assert body["output"] == {"video": video_url, "videos": [video_url]}
    created, finished = (
        datetime.fromisoformat(body["created_at"]),
        datetime.fromisoformat(body["finished_at"]),
    )
    assert created.tzinfo is not None
    assert created <= finished
    assert "cost" not in body


@pytest.mark.parametrize(
    ("shape", "fields"), [("video", {"video"}), ("videos", {"videos"}), ("both", {"video", "videos"})]
)
async def test_the_output_carries_the_configured_fields(
    http: aiohttp.ClientSession, shape: OutputShape, fields: set[str]
) -> None:
    async with FakeRunComfy(TOKEN, FakeConfig(manual=True, output_shape=shape)) as fake:
        request_id = await submitted_id(http, fake)
        fake.set_state(request_id, "completed")
        _, body = await call(http, "GET", request_url(fake, request_id, "result"))
    video_url = f"{fake.base_url}/media/{request_id}.mp4"
    assert set(body["output"]) == fields
    assert body["output"].get("video", video_url) == video_url
    assert body["output"].get("videos", [video_url]) == [video_url]


def test_an_unknown_output_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="output_shape"):
        FakeConfig(output_shape="image")  # type: ignore[arg-type]


async def test_include_cost_adds_a_numeric_cost(http: aiohttp.ClientSession) -> None:
    async with FakeRunComfy(TOKEN, FakeConfig(manual=True, job_cost=0.25)) as fake:
        done, cancelled = await submitted_id(http, fake), await submitted_id(http, fake)
        fake.set_state(done, "completed")
        fake.set_state(cancelled, "cancelled")
        _, body = await call(http, "GET", request_url(fake, done, "result"), params={"include_cost": "true"})
        assert body["cost"] == 0.25
        _, body = await call(
            http, "GET", request_url(fake, cancelled, "result"), params={"include_cost": "true"}
        )
        assert body == {"request_id": cancelled, "status": "cancelled", "cost": 0.0}


async def test_a_failed_job_reports_its_error(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    request_id = await submitted_id(http, fake)
    fake.set_state(request_id, "failed", message="GPU melted", code=500002)
    assert await call(http, "GET", request_url(fake, request_id, "result")) == (
        200,
        {"request_id": request_id, "status": "failed", "error": {"code": 500002, "message": "GPU melted"}},
    )
    assert (await call(http, "GET", request_url(fake, request_id, "status")))[1]["status"] == "failed"


async def test_cancel_works_only_while_queued(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    queued, running, done = [await submitted_id(http, fake) for _ in range(3)]
    fake.advance(running)
    fake.set_state(done, JobStatus.COMPLETED)

    assert await call(http, "POST", request_url(fake, queued, "cancel")) == (
        200,
        {"request_id": queued, "status": "cancelled", "outcome": "cancelled"},
    )
    assert await call(http, "GET", request_url(fake, queued, "result")) == (
        200,
        {"request_id": queued, "status": "cancelled"},
    )
    assert await call(http, "POST", request_url(fake, running, "cancel")) == (
        200,
        {"request_id": running, "status": "in_progress", "outcome": "not_cancellable"},
    )
    assert fake.jobs[running].status is JobStatus.IN_PROGRESS
    assert (await call(http, "POST", request_url(fake, done, "cancel")))[1]["outcome"] == "not_cancellable"
    assert (await call(http, "POST", request_url(fake, queued, "cancel")))[1] == {
        "request_id": queued,
        "status": "cancelled",
        "outcome": "not_cancellable",
    }


# -- lifecycle -------------------------------------------------------------------------------------------


async def test_jobs_move_on_their_own_with_timings(http: aiohttp.ClientSession) -> None:
    async with FakeRunComfy(TOKEN, FakeConfig(queue_s=0.05, run_s=0.1)) as fake:
        request_id = await submitted_id(http, fake)
        running = await fake.wait_for_status(request_id, "in_progress", timeout=2)
        assert running.started_at is not None
        assert running.finished_at is None
        done = await fake.wait_for_status(request_id, "completed", timeout=2)
        assert done.finished_at is not None
        assert done.created_at <= running.started_at <= done.finished_at
        assert (done.finished_at - running.started_at).total_seconds() >= 0.09


async def test_a_running_limit_keeps_later_jobs_queued_in_order(http: aiohttp.ClientSession) -> None:
    async with FakeRunComfy(TOKEN, FakeConfig(queue_s=0.01, run_s=0.15, max_running=1)) as fake:
        first, second, third = [await submitted_id(http, fake) for _ in range(3)]
        await fake.wait_for_status(first, "in_progress", timeout=2)
        assert [fake.jobs[rid].queue_position for rid in (second, third)] == [0, 1]
        await fake.wait_for_status(third, "completed", timeout=3)
        jobs = fake.jobs
        for earlier, later in ((first, second), (second, third)):
            finished, started = jobs[earlier].finished_at, jobs[later].started_at
            assert finished is not None
            assert started is not None
            assert finished <= started


async def test_cancelling_a_queued_job_stops_its_timers(http: aiohttp.ClientSession) -> None:
    async with FakeRunComfy(TOKEN, FakeConfig(queue_s=0.1, run_s=0.05)) as fake:
        cancelled, other = await submitted_id(http, fake), await submitted_id(http, fake)
        await call(http, "POST", request_url(fake, cancelled, "cancel"))
        await fake.wait_for_status(other, "completed", timeout=2)
        assert fake.jobs[cancelled].status is JobStatus.CANCELLED


async def test_manual_mode_moves_only_when_told(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    request_id = await submitted_id(http, fake)
    assert fake.jobs[request_id].status is JobStatus.IN_QUEUE
    assert fake.advance(request_id) is JobStatus.IN_PROGRESS
    assert fake.advance(request_id) is JobStatus.COMPLETED
    with pytest.raises(ValueError, match="already finished"):
        fake.advance(request_id)


async def test_a_job_moved_by_hand_leaves_automatic_mode(http: aiohttp.ClientSession) -> None:
    async with FakeRunComfy(TOKEN, FakeConfig(queue_s=0.01, run_s=0.01)) as fake:
        held, other = await submitted_id(http, fake), await submitted_id(http, fake)
        fake.set_state(held, "in_progress")
        await fake.wait_for_status(other, "completed", timeout=2)
        assert fake.jobs[held].status is JobStatus.IN_PROGRESS


async def test_the_next_jobs_can_be_made_to_fail(http: aiohttp.ClientSession) -> None:
    async with FakeRunComfy(TOKEN, FakeConfig(queue_s=0.01, run_s=0.01)) as fake:
        fake.fail_next_jobs(2, message="content policy", code="policy")
        ids = [await submitted_id(http, fake) for _ in range(3)]
        await fake.wait_for(lambda: all(job.status.is_finished for job in fake.jobs.values()), timeout=2)
        assert [fake.jobs[rid].status for rid in ids] == [
            JobStatus.FAILED,
            JobStatus.FAILED,
            JobStatus.COMPLETED,
        ]
        failure = fake.jobs[ids[0]].failure
        assert failure is not None
        assert (failure.message, failure.code) == ("content policy", "policy")


async def test_one_job_can_be_made_to_fail(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    doomed, fine = await submitted_id(http, fake), await submitted_id(http, fake)
    fake.fail_job(doomed, message="out of memory")
    for rid in (doomed, fine):
        fake.advance(rid)
        fake.advance(rid)
    assert fake.jobs[doomed].status is JobStatus.FAILED
    assert fake.jobs[fine].status is JobStatus.COMPLETED
    _, body = await call(http, "GET", request_url(fake, doomed, "result"))
    assert body["error"]["message"] == "out of memory"


# -- media -----------------------------------------------------------------------------------------------


def mp4_boxes(data: bytes) -> list[tuple[bytes, int]]:
    boxes, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        assert size >= 8
        boxes.append((kind, size))
        offset += size
    assert offset == len(data)
    return boxes


def test_the_sample_is_a_small_real_mp4() -> None:
    video = sample_video()
    assert 1000 < len(video) < 20_000
    kinds = [kind for kind, _ in mp4_boxes(video)]
    assert kinds[0] == b"ftyp"
    assert b"moov" in kinds
    assert b"mdat" in kinds
    assert b"avc1" in video


async def test_the_video_is_served_once_the_job_completed(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    request_id = await submitted_id(http, fake)
    media_url = f"{fake.base_url}/media/{request_id}.mp4"
    async with aiohttp.ClientSession() as no_token, no_token.get(media_url) as response:
        assert response.status == 404
    fake.set_state(request_id, "completed")
    _, body = await call(http, "GET", request_url(fake, request_id, "result"))
    async with aiohttp.ClientSession() as no_token, no_token.get(body["output"]["video"]) as response:
        assert response.status == 200
        assert response.content_type == "video/mp4"
        data = await response.read()
    assert data == sample_video()
    assert data[4:8] == b"ftyp"


async def test_the_video_can_be_padded_to_an_exact_size(http: aiohttp.ClientSession) -> None:
    size = 26 * 1024 * 1024
    async with FakeRunComfy(TOKEN, FakeConfig(manual=True, video_size_bytes=size)) as fake:
        request_id = await submitted_id(http, fake)
        fake.set_state(request_id, "completed")
        async with http.get(f"{fake.base_url}/media/{request_id}.mp4") as response:
            data = await response.read()
    assert len(data) == size
    assert data.startswith(sample_video())
    assert mp4_boxes(data)[-1] == (b"free", size - len(sample_video()))


@pytest.mark.parametrize("extra", [-1, 1, 7])
def test_a_size_no_free_box_can_reach_is_refused(extra: int) -> None:
    with pytest.raises(ValueError, match="cannot pad"):
        padded_video(sample_video(), len(sample_video()) + extra)
    with pytest.raises(ValueError, match="cannot pad"):
        FakeRunComfy(TOKEN, FakeConfig(video_size_bytes=len(sample_video()) + extra))


def test_padding_by_exactly_a_box_header_is_valid() -> None:
    video = padded_video(sample_video(), len(sample_video()) + 8)
    assert mp4_boxes(video)[-1] == (b"free", 8)


# -- the request log and waiting ---------------------------------------------------------------------------


async def test_every_request_is_recorded_without_the_token(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    request_id = await submitted_id(http, fake)
    await call(http, "GET", request_url(fake, request_id, "status"), params={"x": "1"})
    async with aiohttp.ClientSession() as anonymous:
        await call(anonymous, "GET", request_url(fake, request_id, "result"))

    submit_log, status_log, result_log = fake.requests
    assert (submit_log.method, submit_log.path, submit_log.endpoint, submit_log.status) == (
        "POST",
        SUBMIT_PATH,
        "submit",
        200,
    )
    assert submit_log.json == valid_body()
    assert submit_log.headers["Content-Type"] == "application/json"
    assert (status_log.endpoint, status_log.query, status_log.json) == ("status", {"x": "1"}, None)
    assert (result_log.endpoint, result_log.status) == ("result", 401)
    assert submit_log.at <= status_log.at <= result_log.at
    for logged in fake.requests:
        assert "authorization" not in {name.lower() for name in logged.headers}
        assert TOKEN not in repr(logged)
    assert TOKEN not in repr(fake)
    assert [r.endpoint for r in fake.requests_to("status")] == ["status"]
    assert len(fake.requests_to("any")) == 3


async def test_wait_for_requests_returns_once_enough_arrived(
    fake: FakeRunComfy, http: aiohttp.ClientSession
) -> None:
    request_id = await submitted_id(http, fake)

    async def poll_twice() -> None:
        for _ in range(2):
            await call(http, "GET", request_url(fake, request_id, "status"))

    poller = asyncio.create_task(poll_twice())
    seen = await fake.wait_for_requests("status", 2, timeout=2)
    await poller
    assert [r.status for r in seen] == [200, 200]


async def test_wait_for_gives_up_after_its_timeout(fake: FakeRunComfy) -> None:
    with pytest.raises(TimeoutError):
        await fake.wait_for(lambda: bool(fake.jobs), timeout=0.05)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/nothing"),
        ("GET", "/v1/request/{id}/status"),  # a typo: "request", not "requests"
        ("GET", "/v1/requests/{id}/cancel"),  # the right path with the wrong method
        ("POST", "/v1/requests/{id}/results"),
    ],
)
async def test_an_unknown_route_is_a_plain_404_recorded_as_unknown(
    fake: FakeRunComfy, http: aiohttp.ClientSession, method: str, path: str
) -> None:
    request_id = await submitted_id(http, fake)
    status, body = await call(http, method, fake.base_url + path.format(id=request_id))
    assert (status, body) == (404, {"detail": "Not Found"})  # no error_code: not an expired request
    [unknown] = fake.unknown_requests
    assert (unknown.method, unknown.endpoint, unknown.status) == (method, None, 404)
    assert fake.jobs[request_id].status is JobStatus.IN_QUEUE


async def test_an_unknown_route_uses_no_fault(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    fake.inject(Fault.http(500))
    assert (await call(http, "GET", fake.base_url + "/v2/nothing"))[0] == 404
    assert len(fake.pending_faults) == 1
    assert (await submit(http, fake))[0] == 500


async def test_known_routes_are_not_unknown(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    request_id = await submitted_id(http, fake)
    for method, action in (("GET", "status"), ("GET", "result"), ("POST", "cancel")):
        await call(http, method, request_url(fake, request_id, action))
    await call(http, "GET", request_url(fake, str(uuid.uuid4()), "status"))
    assert len(fake.requests) == 5
    assert fake.unknown_requests == []


# -- standalone ----------------------------------------------------------------------------------------------


async def test_the_standalone_server_serves_until_interrupted() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "client.fake",
        "--port",
        "0",
        "--token",
        "cli-token",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        base_url = (await asyncio.wait_for(process.stdout.readline(), timeout=20)).decode().strip()
        assert base_url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer cli-token"}) as session:
            status, body = await call(session, "GET", f"{base_url}/v1/requests/nope/status")
        assert (status, body["error_code"]) == (404, 404001)
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
