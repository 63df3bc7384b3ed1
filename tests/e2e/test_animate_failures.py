"""/animate when RunComfy misbehaves: transient errors are retried (a refused submit charges once), an
uncertain submit is never resent, failures are shown in words, auth and credits problems stop submissions
without details for members, and a job past the maximum time is given up (and cancelled if still queued)."""

from __future__ import annotations

import re

import pytest

from client.fake import Fault, RecordedRequest
from tests.conftest import RUNCOMFY_TOKEN, EndToEnd
from tests.e2e.helpers import (
    VIDEO_WAIT_S,
    animate,
    assert_clean,
    cancel_button,
    end_notices,
    has_video,
    message_text,
    showing,
    wait_notice,
)

RETRY_AFTER_S = 1
FAILED_TITLE = "The video couldn't be made"
SERVICE_DOWN = "The video service is unavailable right now"


def gap_after_first(requests: list[RecordedRequest], status: int) -> float:
    """Seconds between the first answer with ``status`` and the request that followed it."""
    index = next(i for i, r in enumerate(requests) if r.status == status)
    return requests[index + 1].at - requests[index].at


async def test_status_errors_are_retried_and_the_job_completes(e2e: EndToEnd) -> None:
    fake = e2e.runcomfy
    fake.inject(
        Fault.http(500, endpoint="result", times=2),
        Fault.rate_limited(RETRY_AFTER_S, endpoint="result"),
        Fault.http(502, endpoint="result"),
    )
    handle = await animate(e2e)
    final = await handle.wait_original(has_video, timeout=VIDEO_WAIT_S)

    results = fake.requests_to("result")
    assert [r.status for r in results[:4]] == [500, 500, 429, 502]
    assert results[-1].status == 200
    assert gap_after_first(results, 429) >= RETRY_AFTER_S * 0.9
    assert len(fake.requests_to("submit")) == 1
    assert "your video is ready" in (await wait_notice(e2e)).content
    assert final.attachments
    assert_clean(e2e)


async def test_refused_submits_are_retried_and_charge_once(e2e: EndToEnd) -> None:
    fake = e2e.runcomfy
    fake.inject(
        Fault.http(503, endpoint="submit", retry_after=RETRY_AFTER_S),
        Fault.rate_limited(RETRY_AFTER_S, endpoint="submit"),
    )
    handle = await animate(e2e)
    await handle.wait_original(has_video, timeout=VIDEO_WAIT_S)

    submits = fake.requests_to("submit")
    assert [r.status for r in submits] == [503, 429, 200]
    assert gap_after_first(submits, 429) >= RETRY_AFTER_S * 0.9
    assert len(fake.jobs) == 1
    assert_clean(e2e)


async def test_a_submit_cut_off_after_sending_fails_without_resending(e2e: EndToEnd) -> None:
    fake = e2e.runcomfy
    fake.inject(Fault.drop(after=True, endpoint="submit"))
    handle = await animate(e2e)
    final = await handle.wait_original(showing(FAILED_TITLE))

    text = message_text(final)
    assert "to avoid charging twice it was not resent" in text
    assert "restarted" not in text  # the bot kept running: only the connection broke
    assert "Please try again with /animate." in text
    assert cancel_button(final) is None
    [submit] = fake.requests_to("submit")
    assert submit.status is None  # the connection was cut after RunComfy took the job
    assert len(fake.jobs) == 1
    assert "your video failed" in (await wait_notice(e2e)).content
    assert_clean(e2e)


async def test_a_job_that_fails_at_runcomfy_shows_the_reason_in_words(e2e: EndToEnd) -> None:
    e2e.runcomfy.fail_next_jobs(message="The image was flagged by the content filter.")
    handle = await animate(e2e)
    final = await handle.wait_original(showing(FAILED_TITLE), timeout=VIDEO_WAIT_S)

    text = message_text(final)
    assert "The generator couldn't make this video." in text
    assert "The generator said: The image was flagged by the content filter\\." in text  # escaped
    assert "try again" in text
    assert not final.attachments
    notice = await wait_notice(e2e)
    assert "The generator couldn't make this video." in notice.content
    assert_clean(e2e)


@pytest.mark.parametrize("status", [401, 402])
async def test_auth_or_credit_refusals_pause_submissions_without_details(e2e: EndToEnd, status: int) -> None:
    fake = e2e.runcomfy
    fake.inject(Fault.http(status, endpoint="submit"))
    first = await animate(e2e, "the first cat waves")
    shown = await first.wait_original(showing(SERVICE_DOWN))
    second = await animate(e2e, "the second cat waves")
    also_shown = await second.wait_original(showing(SERVICE_DOWN))

    assert len(fake.requests_to("submit")) == 1  # no further submissions while the service refuses us
    assert not fake.jobs
    for card in (shown, also_shown):
        text = message_text(card)
        assert "Waiting in this server's queue" in text
        assert not re.search(rf"\b{status}\b", text)  # ids and URLs may contain the digits, not the code
        for detail in ("token", "balance", "Missing or expired", "RunComfy refused"):
            assert detail not in text
        button = cancel_button(card)
        assert button is not None
        assert not button.get("disabled")
    output = e2e.bot.output()
    assert "RunComfy refused the bot's credentials or credits" in output
    assert RUNCOMFY_TOKEN not in output
    assert not end_notices(e2e.discord, e2e.discord.member.id)
    assert_clean(e2e)


@pytest.mark.bot_env(ANIMATE_JOB_MAX_S="1")
@pytest.mark.runcomfy_config(manual=True)
async def test_a_job_past_the_maximum_time_is_cancelled_at_runcomfy_and_failed(e2e: EndToEnd) -> None:
    fake = e2e.runcomfy
    handle = await animate(e2e)
    final = await handle.wait_original(showing(FAILED_TITLE), timeout=VIDEO_WAIT_S)

    assert "The video took too long" in message_text(final)
    [request_id] = list(fake.jobs)
    assert fake.jobs[request_id].status == "cancelled"
    assert len(fake.requests_to("cancel")) == 1
    assert "your video failed" in (await wait_notice(e2e)).content
    assert_clean(e2e)


@pytest.mark.bot_env(ANIMATE_JOB_MAX_S="3")
@pytest.mark.runcomfy_config(manual=True)
async def test_a_generating_job_past_the_maximum_time_is_failed(e2e: EndToEnd) -> None:
    fake = e2e.runcomfy
    handle = await animate(e2e)
    [submit] = await fake.wait_for_requests("submit", 1)
    assert submit.status == 200
    [request_id] = list(fake.jobs)
    fake.advance(request_id)
    await handle.wait_original(showing("Generating for"))
    final = await handle.wait_original(showing(FAILED_TITLE), timeout=VIDEO_WAIT_S)

    assert "The video took too long" in message_text(final)
    assert fake.jobs[request_id].status == "in_progress"
    assert not fake.requests_to("cancel")  # RunComfy cannot cancel a running job, so none was asked
    assert_clean(e2e)
