"""The client against the fake's more faithful behaviours: errors after acceptance, expired requests,
each shape of the completed output, and refusals whose HTTP status is not the one a client expects."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from client.api import RunComfyClient
from client.errors import (
    AuthenticationError,
    EndpointNotFoundError,
    InputValidationError,
    NotFoundError,
    PaymentRequiredError,
    RunComfyError,
    SubmissionUncertainError,
)
from client.fake import FakeConfig, FakeRunComfy, Fault, FaultKind, OutputShape
from client.models import AnimateInput, Completed
from tests.client.conftest import TOKEN, RecordingSleep

JOB = AnimateInput(prompt="a cat waves", first_frame_image_url="https://cdn.example/cat.png")


@pytest.fixture
async def fake() -> AsyncIterator[FakeRunComfy]:
    async with FakeRunComfy(TOKEN, FakeConfig(manual=True, check_images=False)) as double:
        yield double


@pytest.fixture
async def api(fake: FakeRunComfy, sleeps: RecordingSleep) -> AsyncIterator[RunComfyClient]:
    async with RunComfyClient(TOKEN, fake.base_url, sleep=sleeps, rand=lambda: 1.0) as client:
        yield client


# -- an error answered after the job was accepted ----------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_an_error_after_acceptance_is_uncertain_and_sent_once(
    fake: FakeRunComfy, api: RunComfyClient, sleeps: RecordingSleep, status: int
) -> None:
    fake.inject(Fault.http(status, endpoint="submit", after=True))
    with pytest.raises(SubmissionUncertainError) as caught:
        await api.submit(JOB)
    assert caught.value.status == status
    [submit] = fake.requests_to("submit")
    assert (submit.status, submit.fault) == (status, FaultKind.HTTP_AFTER)
    assert len(fake.jobs) == 1  # the job exists at RunComfy though the client was told otherwise
    assert sleeps.calls == []


async def test_a_503_with_retry_after_is_trusted_as_not_accepted(
    fake: FakeRunComfy, api: RunComfyClient, sleeps: RecordingSleep
) -> None:
    # Not a scenario RunComfy is expected to produce: it shows what the client's trust in Retry-After costs
    # if a 503 that says "come back later" had in fact created the job.
    fake.inject(Fault.http(503, endpoint="submit", retry_after=2, after=True))
    accepted = await api.submit(JOB)
    assert [r.status for r in fake.requests_to("submit")] == [503, 200]
    assert sleeps.calls == [2]
    assert len(fake.jobs) == 2
    assert accepted.request_id == list(fake.jobs)[-1]


# -- a request that expired at RunComfy ---------------------------------------------------------------------


@pytest.mark.parametrize("call", ["status", "result", "cancel", "wait"])
async def test_an_expired_request_raises_not_found_without_retrying(
    fake: FakeRunComfy, api: RunComfyClient, sleeps: RecordingSleep, call: str
) -> None:
    request_id = (await api.submit(JOB)).request_id
    fake.expire(request_id)
    with pytest.raises(NotFoundError) as caught:
        await getattr(api, call)(request_id)
    assert (caught.value.status, caught.value.error_code) == (404, 404001)
    assert sleeps.calls == []
    endpoint = "result" if call == "wait" else call
    assert len(fake.requests_to(endpoint)) == 1


# -- each shape of the completed output ------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["video", "videos", "both"])
async def test_the_client_finds_the_video_in_each_output_shape(shape: OutputShape) -> None:
    async with (
        FakeRunComfy(TOKEN, FakeConfig(manual=True, check_images=False, output_shape=shape)) as fake,
        RunComfyClient(TOKEN, fake.base_url) as client,
    ):
        request_id = (await client.submit(JOB)).request_id
        fake.set_state(request_id, "completed")
        result = await client.result(request_id)
        final = await client.wait(request_id, poll_min_s=0.01, poll_max_s=0.01)
        async with aiohttp.ClientSession() as http, http.get(str(result.video_url)) as response:
            video = await response.read()
    expected = f"{fake.base_url}/media/{request_id}.mp4"
    assert result.video_url == expected
    assert final == Completed(expected, result.output)
    assert video == fake.video


# -- refusals: the documented code decides, whatever status carries it -------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, 400002, PaymentRequiredError),  # the documented code in its own family's status
        (402, None, PaymentRequiredError),  # the fake's guess: 402 with 400002
        (400, 400004, AuthenticationError),
        (401, None, AuthenticationError),
        (400, None, InputValidationError),  # 400001, unknown model
    ],
)
async def test_a_refused_submit_is_classified_by_its_code_and_not_resent(
    fake: FakeRunComfy,
    api: RunComfyClient,
    sleeps: RecordingSleep,
    status: int,
    code: int | None,
    error: type[RunComfyError],
) -> None:
    fake.inject(Fault.http(status, endpoint="submit", error_code=code))
    with pytest.raises(error) as caught:
        await api.submit(JOB)
    assert type(caught.value) is error
    assert caught.value.status == status
    assert len(fake.requests_to("submit")) == 1
    assert not fake.jobs
    assert sleeps.calls == []


async def test_no_balance_while_polling_is_payment_too(fake: FakeRunComfy, api: RunComfyClient) -> None:
    request_id = (await api.submit(JOB)).request_id
    fake.inject(Fault.http(400, endpoint="result", error_code=400002))
    with pytest.raises(PaymentRequiredError):
        await api.result(request_id)
    assert len(fake.requests_to("result")) == 1


# -- a route the API does not have ------------------------------------------------------------------------


async def test_a_submission_to_a_route_the_api_does_not_have_is_a_configuration_problem(
    fake: FakeRunComfy,
) -> None:
    async with RunComfyClient(TOKEN, fake.base_url + "/typo") as misconfigured:
        with pytest.raises(EndpointNotFoundError, match="RUNCOMFY_API_BASE"):
            await misconfigured.submit(JOB)
    assert [r.path for r in fake.unknown_requests] == [
        "/typo/v1/models/bytedance/seedance-1-0/lite/image-to-video"
    ]
    assert fake.jobs == {}
