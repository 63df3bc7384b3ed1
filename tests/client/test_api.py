import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.client_reqrep import ConnectionKey
from aioresponses import aioresponses
from yarl import URL

from client.api import SUBMIT_PATH, RunComfyClient
from client.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InputValidationError,
    MalformedResponseError,
    MissingTokenError,
    NotCancellableError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitedError,
    ServerError,
    SubmissionUncertainError,
    UnexpectedAnswerError,
)
from client.fake import FakeConfig, FakeRunComfy, Fault
from client.models import AnimateInput, Cancelled, Completed, Failed, InProgress, Queued
from tests.client.conftest import MOCK_BASE, REQUEST_ID, TOKEN, RecordingSleep, serve

SUBMIT_URL = MOCK_BASE + SUBMIT_PATH
RESULT_URL = f"{MOCK_BASE}/v1/requests/{REQUEST_ID}/result"
STATUS_URL = f"{MOCK_BASE}/v1/requests/{REQUEST_ID}/status"
CANCEL_URL = f"{MOCK_BASE}/v1/requests/{REQUEST_ID}/cancel"
JOB = AnimateInput(prompt="a cat waves", first_frame_image_url="https://cdn.example/cat.png")
ACCEPTED = {
    "request_id": REQUEST_ID,
    "status_url": STATUS_URL,
    "result_url": RESULT_URL,
    "cancel_url": CANCEL_URL,
}


def sent(mock: aioresponses, method: str, url: str) -> list[Any]:
    return list(mock.requests.get((method, URL(url)), []))


def refused() -> aiohttp.ClientConnectorError:
    key = ConnectionKey("127.0.0.1", 8931, False, True, None, None, None, None)
    return aiohttp.ClientConnectorError(key, OSError(111, "Connection refused"))


def result_body(status: str, **extra: Any) -> dict[str, Any]:
    return {"request_id": REQUEST_ID, "status": status, **extra}


# --- construction ---------------------------------------------------------------------------------


def test_missing_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNCOMFY_API_TOKEN", raising=False)
    with pytest.raises(MissingTokenError, match="RUNCOMFY_API_TOKEN"):
        RunComfyClient()
    with pytest.raises(MissingTokenError):
        RunComfyClient("  ")


def test_token_and_base_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", TOKEN)
    monkeypatch.delenv("RUNCOMFY_API_BASE", raising=False)
    assert RunComfyClient().base_url == "https://model-api.runcomfy.net"
    monkeypatch.setenv("RUNCOMFY_API_BASE", "http://127.0.0.1:9/")
    assert RunComfyClient().base_url == "http://127.0.0.1:9"
    assert RunComfyClient(base_url="https://other.example").base_url == "https://other.example"


def test_repr_never_shows_the_token() -> None:
    text = repr(RunComfyClient(TOKEN, MOCK_BASE))
    assert TOKEN not in text
    assert MOCK_BASE in text


async def test_an_injected_session_is_left_open_and_an_own_one_is_closed() -> None:
    async with aiohttp.ClientSession() as shared:
        async with RunComfyClient(TOKEN, MOCK_BASE, session=shared):
            pass
        assert not shared.closed
    own = RunComfyClient(TOKEN, MOCK_BASE)
    async with own:
        session = own._session
        assert session is not None
    assert session.closed


# --- endpoints ------------------------------------------------------------------------------------


async def test_submit_posts_the_payload_with_the_token(client: RunComfyClient, mocked: aioresponses) -> None:
    mocked.post(SUBMIT_URL, payload=ACCEPTED)
    submission = await client.submit(JOB)
    assert submission.request_id == REQUEST_ID
    (call,) = sent(mocked, "POST", SUBMIT_URL)
    assert call.kwargs["json"] == JOB.to_payload()
    assert call.kwargs["headers"]["Authorization"] == f"Bearer {TOKEN}"


async def test_status_answers_a_status_type(client: RunComfyClient, mocked: aioresponses) -> None:
    mocked.get(STATUS_URL, payload=result_body("in_queue", queue_position=4))
    assert await client.status(REQUEST_ID) == Queued(4)


async def test_result_answers_output_and_status(client: RunComfyClient, mocked: aioresponses) -> None:
    mocked.get(RESULT_URL, payload=result_body("completed", output={"videos": ["https://v/1.mp4"]}))
    result = await client.result(REQUEST_ID)
    assert result.video_url == "https://v/1.mp4"
    assert isinstance(result.status, Completed)
    assert result.status.video_url == "https://v/1.mp4"


async def test_failed_result_keeps_the_error(client: RunComfyClient, mocked: aioresponses) -> None:
    mocked.get(RESULT_URL, payload=result_body("failed", error={"code": 7, "message": "gpu fell over"}))
    assert (await client.result(REQUEST_ID)).status == Failed("gpu fell over (code 7)")


@pytest.mark.parametrize(
    ("status", "body", "cancelled"),
    [
        (200, result_body("cancelled", outcome="cancelled"), True),
        (200, result_body("in_progress", outcome="not_cancellable"), False),
        (409, {"error_code": 409001, "error_message": "in progress"}, False),
        (400, {"error_message": "cannot cancel"}, False),
    ],
)
async def test_cancel_says_whether_it_cancelled(
    client: RunComfyClient, mocked: aioresponses, status: int, body: dict[str, Any], cancelled: bool
) -> None:
    mocked.post(CANCEL_URL, status=status, payload=body)
    outcome = await client.cancel(REQUEST_ID)
    assert (outcome.request_id, outcome.cancelled) == (REQUEST_ID, cancelled)


async def test_cancel_or_raise_raises_when_not_cancellable(
    client: RunComfyClient, mocked: aioresponses
) -> None:
    mocked.post(CANCEL_URL, payload=result_body("cancelled", outcome="cancelled"))
    mocked.post(CANCEL_URL, payload=result_body("in_progress", outcome="not_cancellable"))
    assert (await client.cancel_or_raise(REQUEST_ID)).cancelled
    with pytest.raises(NotCancellableError, match="in progress"):
        await client.cancel_or_raise(REQUEST_ID)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"error_code": 400004, "error_message": "token expired"}, AuthenticationError),
        (404, {"error_code": 404001, "error_message": "gone"}, NotFoundError),
        (400, {"error_code": 400002, "error_message": "no balance"}, PaymentRequiredError),
    ],
)
async def test_cancel_raises_other_errors(
    client: RunComfyClient, mocked: aioresponses, status: int, body: dict[str, Any], error: type[Exception]
) -> None:
    mocked.post(CANCEL_URL, status=status, payload=body)
    with pytest.raises(error):
        await client.cancel(REQUEST_ID)


UNSAFE_IDS = ["a/b", "..", "../../admin", "has space", "a?b", "a#b", "", "%2F", "-x", "a.b", "é", "x" * 129]


@pytest.mark.parametrize("bad_id", UNSAFE_IDS)
async def test_unsafe_request_ids_are_refused_before_any_request(
    client: RunComfyClient, mocked: aioresponses, bad_id: str
) -> None:
    for call in (client.status, client.result, client.cancel):
        with pytest.raises(UnexpectedAnswerError, match="not URL-safe") as caught:
            await call(bad_id)
        assert not isinstance(caught.value, ValueError)
        assert bad_id not in str(caught.value) or bad_id in ("", "..")
    assert not mocked.requests


@pytest.mark.parametrize("bad_id", ["../../admin", "has space", "a/b?x=1", "x\u202ey"])
async def test_a_submission_answering_an_unsafe_request_id_is_an_unexpected_answer(
    client: RunComfyClient, mocked: aioresponses, bad_id: str
) -> None:
    mocked.post(SUBMIT_URL, payload={**ACCEPTED, "request_id": bad_id})
    with pytest.raises(UnexpectedAnswerError, match="not URL-safe") as caught:
        await client.submit(JOB)
    assert bad_id not in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert len(sent(mocked, "POST", SUBMIT_URL)) == 1


@pytest.mark.parametrize("good_id", ["3f2b8c1e-9a4d-4e6f-b1c2-7d8e9f0a1b2c", "req_01", "A" * 128])
async def test_uuid_like_request_ids_are_used(
    client: RunComfyClient, mocked: aioresponses, good_id: str
) -> None:
    mocked.post(SUBMIT_URL, payload={**ACCEPTED, "request_id": good_id})
    assert (await client.submit(JOB)).request_id == good_id
    status_url = f"{MOCK_BASE}/v1/requests/{good_id}/status"
    mocked.get(status_url, payload={"request_id": good_id, "status": "in_queue"})
    assert isinstance(await client.status(good_id), Queued)


# --- error mapping --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"error_code": 400004, "error_message": "bad token"}, AuthenticationError),
        (403, {"error_code": 403001, "error_message": "not yours"}, AuthenticationError),
        (402, {"error_message": "pay up"}, PaymentRequiredError),
        (404, {"error_code": 404001, "error_message": "expired"}, NotFoundError),
        (422, {"error_code": 422001, "detail": [{"loc": ["body", "x"], "msg": "bad"}]}, InputValidationError),
        (200, {"error_code": 400002, "error_message": "no balance"}, PaymentRequiredError),
        (200, {"error_code": 404001, "message": "gone"}, NotFoundError),
    ],
)
async def test_error_answers_become_named_errors(
    client: RunComfyClient, mocked: aioresponses, status: int, body: dict[str, Any], error: type[Exception]
) -> None:
    mocked.get(RESULT_URL, status=status, payload=body)
    with pytest.raises(error):
        await client.result(REQUEST_ID)
    assert len(sent(mocked, "GET", RESULT_URL)) == 1


async def test_a_body_that_is_not_json_is_malformed(client: RunComfyClient, mocked: aioresponses) -> None:
    mocked.get(RESULT_URL, body="<html>oops</html>", content_type="text/html")
    with pytest.raises(MalformedResponseError):
        await client.result(REQUEST_ID)


async def test_the_token_never_leaks_into_errors_or_logs(
    client: RunComfyClient, mocked: aioresponses, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = {"error_code": 400004, "error_message": f"token {TOKEN} is not valid"}
    mocked.get(RESULT_URL, status=401, payload=echo)
    mocked.get(STATUS_URL, status=500, payload={"error_code": 500001, "error_message": f"{TOKEN}?"})
    mocked.get(STATUS_URL, status=200, payload=result_body("in_progress"))
    with pytest.raises(AuthenticationError) as info:
        await client.result(REQUEST_ID)
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value)
    assert "***" in info.value.message
    assert await client.status(REQUEST_ID) == InProgress()
    assert any(r.name == "client" for r in caplog.records)
    for record in caplog.records:
        assert TOKEN not in record.getMessage()


# --- retries --------------------------------------------------------------------------------------


async def test_gets_are_retried_on_5xx_and_connection_errors(
    client: RunComfyClient, mocked: aioresponses, sleeps: RecordingSleep
) -> None:
    mocked.get(RESULT_URL, status=500, payload={"error_code": 500001})
    mocked.get(RESULT_URL, exception=aiohttp.ServerDisconnectedError())
    mocked.get(RESULT_URL, status=502, body="bad gateway")
    mocked.get(RESULT_URL, payload=result_body("in_progress"))
    assert (await client.result(REQUEST_ID)).status == InProgress()
    assert len(sent(mocked, "GET", RESULT_URL)) == 4
    assert sleeps.calls == [0.5, 1.0, 2.0]  # full jitter at its ceiling (rand = 1.0)


async def test_gets_give_up_after_max_attempts(
    client: RunComfyClient, mocked: aioresponses, sleeps: RecordingSleep
) -> None:
    mocked.get(STATUS_URL, status=503, payload={"error_message": "down"}, repeat=True)
    with pytest.raises(ServerError):
        await client.status(REQUEST_ID)
    assert len(sent(mocked, "GET", STATUS_URL)) == client.max_attempts == 4
    assert len(sleeps.calls) == 3


async def test_each_retry_is_logged_with_the_attempt_that_failed_and_the_pause(
    client: RunComfyClient, mocked: aioresponses, sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    mocked.get(STATUS_URL, status=503, payload={"error_message": "down"}, repeat=True)
    with caplog.at_level(logging.WARNING, logger="client.api"), pytest.raises(ServerError):
        await client.status(REQUEST_ID)
    logged = [r.getMessage() for r in caplog.records if "RunComfy call failed" in r.getMessage()]
    assert [line.split("(attempt ")[1].split(")")[0] for line in logged] == ["1", "2", "3"]
    assert [line.rsplit("retrying in ", 1)[1] for line in logged] == [f"{s:.1f}s" for s in sleeps.calls]


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), ("3600", 60.0)])
async def test_retry_after_is_honoured_and_capped(
    client: RunComfyClient, mocked: aioresponses, sleeps: RecordingSleep, header: str, expected: float
) -> None:
    mocked.get(STATUS_URL, status=429, headers={"Retry-After": header}, payload={"error_message": "slow"})
    mocked.get(STATUS_URL, payload=result_body("in_queue"))
    assert await client.status(REQUEST_ID) == Queued(None)
    assert sleeps.calls == [expected]


async def test_not_found_is_not_retried(
    client: RunComfyClient, mocked: aioresponses, sleeps: RecordingSleep
) -> None:
    mocked.get(STATUS_URL, status=404, payload={"error_code": 404001}, repeat=True)
    with pytest.raises(NotFoundError):
        await client.status(REQUEST_ID)
    assert (len(sent(mocked, "GET", STATUS_URL)), sleeps.calls) == (1, [])


@pytest.mark.parametrize(
    "first",
    [
        {"status": 429, "payload": {"error_message": "slow"}},
        {"status": 503, "payload": {"error_message": "unavailable"}, "headers": {"Retry-After": "1"}},
        {"exception": refused()},
    ],
)
async def test_submit_is_retried_when_certainly_not_accepted(
    client: RunComfyClient, mocked: aioresponses, sleeps: RecordingSleep, first: dict[str, Any]
) -> None:
    mocked.post(SUBMIT_URL, **first)
    mocked.post(SUBMIT_URL, payload=ACCEPTED)
    assert (await client.submit(JOB)).request_id == REQUEST_ID
    assert len(sent(mocked, "POST", SUBMIT_URL)) == 2
    assert len(sleeps.calls) == 1


@pytest.mark.parametrize(
    "first",
    [
        {"status": 500, "payload": {"error_code": 500001, "error_message": "internal"}},
        {"status": 502, "body": "bad gateway"},
        {"status": 503, "payload": {"error_message": "unavailable"}},
        {"status": 504, "body": "gateway timeout"},
        {"status": 200, "payload": {"error_code": 500001, "error_message": "internal"}},
        {"status": 200, "body": "not json"},
        {"status": 200, "payload": {"status_url": "no id"}},
        {"exception": aiohttp.ServerDisconnectedError()},
        {"exception": TimeoutError()},
    ],
)
async def test_submit_that_may_have_been_accepted_is_never_sent_twice(
    client: RunComfyClient, mocked: aioresponses, sleeps: RecordingSleep, first: dict[str, Any]
) -> None:
    mocked.post(SUBMIT_URL, **first)
    mocked.post(SUBMIT_URL, payload=ACCEPTED)
    with pytest.raises(SubmissionUncertainError, match="do not resubmit"):
        await client.submit(JOB)
    assert len(sent(mocked, "POST", SUBMIT_URL)) == 1
    assert sleeps.calls == []


async def test_submit_refused_by_the_api_is_a_plain_error(
    client: RunComfyClient, mocked: aioresponses
) -> None:
    mocked.post(SUBMIT_URL, status=422, payload={"error_code": 422001, "error_message": "prompt too long"})
    with pytest.raises(InputValidationError, match="prompt too long"):
        await client.submit(JOB)
    assert len(sent(mocked, "POST", SUBMIT_URL)) == 1


async def test_submit_gives_up_after_max_attempts_of_rate_limiting(
    client: RunComfyClient, mocked: aioresponses
) -> None:
    mocked.post(SUBMIT_URL, status=429, payload={"error_message": "slow"}, repeat=True)
    with pytest.raises(RateLimitedError):
        await client.submit(JOB)
    assert len(sent(mocked, "POST", SUBMIT_URL)) == 4


# --- real loopback sockets ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused_submit_is_retried_then_raised(sleeps: RecordingSleep) -> None:
    async with RunComfyClient(TOKEN, f"http://127.0.0.1:{free_port()}", sleep=sleeps, max_attempts=3) as api:
        with pytest.raises(APIConnectionError) as info:
            await api.submit(JOB)
    assert info.value.request_sent is False
    assert len(sleeps.calls) == 2


async def test_dropped_after_send_and_timeouts_are_uncertain_with_one_post(sleeps: RecordingSleep) -> None:
    posts: list[str] = []
    release = asyncio.Event()

    async def drop(request: web.Request) -> web.Response:
        posts.append("drop")
        assert request.transport is not None
        request.transport.close()
        await release.wait()
        return web.Response()

    async def hang(request: web.Request) -> web.Response:
        posts.append("hang")
        await release.wait()
        return web.Response()

    app = web.Application()
    app.router.add_post(SUBMIT_PATH, drop)
    app.router.add_post("/hang" + SUBMIT_PATH, hang)
    async with serve(app) as base:
        async with RunComfyClient(TOKEN, base, sleep=sleeps) as api:
            with pytest.raises(SubmissionUncertainError) as dropped:
                await api.submit(JOB)
        async with RunComfyClient(TOKEN, base + "/hang", sleep=sleeps, timeout_s=0.2) as api:
            with pytest.raises(SubmissionUncertainError) as timed_out:
                await api.submit(JOB)
        release.set()
    assert posts == ["drop", "hang"]
    assert isinstance(dropped.value.__cause__, APIConnectionError)
    assert isinstance(timed_out.value.__cause__, APITimeoutError)
    assert sleeps.calls == []


async def test_a_get_that_times_out_is_retried(sleeps: RecordingSleep) -> None:
    calls: list[int] = []
    release = asyncio.Event()

    async def slow_then_fine(request: web.Request) -> web.Response:
        calls.append(1)
        if len(calls) == 1:
            await release.wait()
        return web.json_response(result_body("in_progress"))

    app = web.Application()
    app.router.add_get("/v1/requests/{id}/status", slow_then_fine)
    async with serve(app) as base, RunComfyClient(TOKEN, base, sleep=sleeps, timeout_s=0.2) as api:
        assert await api.status(REQUEST_ID) == InProgress()
        release.set()
    assert len(calls) == 2


# --- follow / wait --------------------------------------------------------------------------------


async def test_follow_yields_each_change_and_polls_adaptively(
    client: RunComfyClient, mocked: aioresponses, sleeps: RecordingSleep
) -> None:
    answers = [
        result_body("in_queue", queue_position=2),
        result_body("in_queue", queue_position=2),
        result_body("in_queue", queue_position=1),
        result_body("in_progress"),
        result_body("in_progress"),
        result_body("in_progress"),
        result_body("in_progress"),
        result_body("completed", output={"video": "https://v/1.mp4"}),
    ]
    for answer in answers:
        mocked.get(RESULT_URL, payload=answer)
    seen = [status async for status in client.follow(REQUEST_ID, poll_min_s=1, poll_max_s=3)]
    assert seen[:3] == [Queued(2), Queued(1), InProgress()]
    assert isinstance(seen[3], Completed)
    assert seen[3].video_url == "https://v/1.mp4"
    assert len(seen) == 4
    assert sleeps.calls == [1, 1.5, 1, 1, 1.5, 2.25, 3]
    assert len(sent(mocked, "GET", RESULT_URL)) == 8
    assert not sent(mocked, "GET", STATUS_URL)


async def test_wait_returns_the_terminal_status(client: RunComfyClient, mocked: aioresponses) -> None:
    mocked.get(RESULT_URL, payload=result_body("in_queue"))
    mocked.get(RESULT_URL, payload=result_body("canceled"))
    assert await client.wait(REQUEST_ID, poll_min_s=0.1, poll_max_s=0.1) == Cancelled()


# --- against the local RunComfy double ------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeRunComfy]:
    async with FakeRunComfy(TOKEN, FakeConfig(manual=True, check_images=False)) as double:
        yield double


async def test_fake_job_goes_from_queue_to_video(fake: FakeRunComfy) -> None:
    async with RunComfyClient(TOKEN, fake.base_url) as api:
        request_id = (await api.submit(JOB)).request_id
        assert isinstance(await api.status(request_id), Queued)
        fake.advance(request_id)
        assert await api.status(request_id) == InProgress()
        fake.advance(request_id)
        final = await api.wait(request_id, poll_min_s=0.01, poll_max_s=0.01)
    assert isinstance(final, Completed)
    assert final.video_url


async def test_fake_cancel_works_only_while_queued(fake: FakeRunComfy) -> None:
    async with RunComfyClient(TOKEN, fake.base_url) as api:
        queued = (await api.submit(JOB)).request_id
        running = (await api.submit(JOB)).request_id
        fake.advance(running)
        assert (await api.cancel(queued)).cancelled
        assert not (await api.cancel(running)).cancelled
        assert await api.status(queued) == Cancelled()


async def test_fake_failed_job_reports_its_error(fake: FakeRunComfy) -> None:
    fake.fail_next_jobs(message="upstream exploded")
    async with RunComfyClient(TOKEN, fake.base_url) as api:
        request_id = (await api.submit(JOB)).request_id
        fake.advance(request_id)
        fake.advance(request_id)
        status = (await api.result(request_id)).status
    assert isinstance(status, Failed)
    assert "upstream exploded" in (status.error or "")


async def test_fake_503_with_retry_after_on_submit_is_retried_and_creates_one_job(
    fake: FakeRunComfy, sleeps: RecordingSleep
) -> None:
    fake.inject(Fault.http(503, endpoint="submit", retry_after=2))
    async with RunComfyClient(TOKEN, fake.base_url, sleep=sleeps) as api:
        await api.submit(JOB)
    assert len(fake.requests_to("submit")) == 2
    assert len(fake.jobs) == 1


async def test_fake_bare_503_on_submit_is_uncertain_and_not_resent(
    fake: FakeRunComfy, sleeps: RecordingSleep
) -> None:
    fake.inject(Fault.http(503, endpoint="submit"))
    async with RunComfyClient(TOKEN, fake.base_url, sleep=sleeps) as api:
        with pytest.raises(SubmissionUncertainError):
            await api.submit(JOB)
    assert len(fake.requests_to("submit")) == 1


async def test_fake_drop_after_submit_is_uncertain_and_not_resent(
    fake: FakeRunComfy, sleeps: RecordingSleep
) -> None:
    fake.inject(Fault.drop(after=True, endpoint="submit"))
    async with RunComfyClient(TOKEN, fake.base_url, sleep=sleeps) as api:
        with pytest.raises(SubmissionUncertainError):
            await api.submit(JOB)
    assert len(fake.requests_to("submit")) == 1
    assert len(fake.jobs) == 1  # the job exists: resubmitting would have paid twice


async def test_fake_refuses_a_wrong_token(fake: FakeRunComfy) -> None:
    async with RunComfyClient("not-the-token", fake.base_url) as api:
        with pytest.raises(AuthenticationError):
            await api.submit(JOB)
    assert not fake.jobs


async def test_a_closed_client_does_not_open_a_new_session() -> None:
    client = RunComfyClient("rc-token-for-closing-0001", "http://127.0.0.1:9")
    async with client:
        pass
    with pytest.raises(RuntimeError, match="closed"):
        await client.status("req-1")
