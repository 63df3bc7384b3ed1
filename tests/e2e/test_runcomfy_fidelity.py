"""/animate against the more faithful RunComfy double: an error answered after RunComfy took the job, a
request that expires at RunComfy, and refusals whose status is not the one a client would guess."""

from __future__ import annotations

import aiohttp
import pytest

from client.fake import Fault, FaultKind
from tests.conftest import EndToEnd
from tests.e2e.helpers import (
    VIDEO_WAIT_S,
    animate,
    assert_clean,
    cancel_button,
    end_notices,
    has_video,
    message_text,
    showing,
    video_attachment,
    wait_notice,
)

FAILED_TITLE = "The video couldn't be made"
NOT_RESENT = "to avoid charging twice it was not resent"
WAITING_AT_RUNCOMFY = "Waiting at RunComfy"
NOT_KNOWN = "The generator no longer knows this job."
SERVICE_DOWN = "The video service is unavailable right now"
TRY_AGAIN = "Please try again with /animate."


async def test_a_submit_answered_502_after_acceptance_fails_without_resending(e2e: EndToEnd) -> None:
    fake = e2e.runcomfy
    fake.inject(Fault.http(502, endpoint="submit", after=True))
    handle = await animate(e2e)
    final = await handle.wait_original(showing(FAILED_TITLE))

    text = message_text(final)
    assert NOT_RESENT in text
    assert TRY_AGAIN in text
    assert cancel_button(final) is None
    [submit] = fake.requests_to("submit")
    assert (submit.status, submit.fault) == (502, FaultKind.HTTP_AFTER)
    assert len(fake.jobs) == 1  # RunComfy holds the job the bot could not be sure of
    assert "your video failed" in (await wait_notice(e2e)).content
    assert len(fake.requests_to("submit")) == 1
    assert_clean(e2e)


@pytest.mark.runcomfy_config(manual=True)
async def test_a_request_that_expires_while_queued_at_runcomfy_fails_in_words(e2e: EndToEnd) -> None:
    fake = e2e.runcomfy
    handle = await animate(e2e)
    await handle.wait_original(showing(WAITING_AT_RUNCOMFY))
    [request_id] = list(fake.jobs)
    assert fake.jobs[request_id].status == "in_queue"
    fake.expire(request_id)
    final = await handle.wait_original(showing(FAILED_TITLE))

    text = message_text(final)
    assert NOT_KNOWN in text
    assert TRY_AGAIN in text
    assert cancel_button(final) is None
    assert "404" not in text.split()
    notice = await wait_notice(e2e)
    assert "your video failed" in notice.content
    assert NOT_KNOWN in notice.content
    expired_answers = [r for r in fake.requests_to("result") if r.status == 404]
    assert len(expired_answers) == 1  # the bot stopped asking once RunComfy said it no longer knew the job
    assert len(fake.requests_to("submit")) == 1
    assert_clean(e2e)


@pytest.mark.runcomfy_config(output_shape="videos")
async def test_a_result_that_lists_its_video_only_in_videos_is_delivered(e2e: EndToEnd) -> None:
    handle = await animate(e2e)
    final = await handle.wait_original(has_video, timeout=VIDEO_WAIT_S)

    [request_id] = list(e2e.runcomfy.jobs)
    [media] = e2e.runcomfy.requests_to("media")
    assert (media.path, media.status) == (f"/media/{request_id}.mp4", 200)
    attachment = video_attachment(final)
    assert attachment is not None
    assert attachment["size"] == len(e2e.runcomfy.video)
    assert "your video is ready" in (await wait_notice(e2e)).content
    assert_clean(e2e)


async def test_no_balance_answered_as_a_400_pauses_submissions_like_a_402(e2e: EndToEnd) -> None:
    fake = e2e.runcomfy
    fake.inject(Fault.http(400, endpoint="submit", error_code=400002, message="No remaining balance."))
    first = await animate(e2e, "the first cat waves")
    shown = await first.wait_original(showing(SERVICE_DOWN))
    second = await animate(e2e, "the second cat waves")
    also_shown = await second.wait_original(showing(SERVICE_DOWN))

    assert len(fake.requests_to("submit")) == 1  # not taken for a bad input: nothing failed, nothing resent
    assert not fake.jobs
    for card in (shown, also_shown):
        text = message_text(card)
        assert "Waiting in this server's queue" in text
        assert FAILED_TITLE not in text
        assert "balance" not in text
    assert "RunComfy refused the bot's credentials or credits" in e2e.bot.output()
    assert not end_notices(e2e.discord, e2e.discord.member.id)
    assert_clean(e2e)


async def test_a_call_to_a_route_runcomfy_does_not_have_fails_the_clean_check(e2e: EndToEnd) -> None:
    handle = await animate(e2e)
    await handle.wait_original(has_video, timeout=VIDEO_WAIT_S)
    assert_clean(e2e)  # the bot's own calls all went to routes the API has

    async with aiohttp.ClientSession() as http, http.get(f"{e2e.runcomfy.base_url}/v1/request/x/status") as r:
        assert r.status == 404
    with pytest.raises(AssertionError, match="GET /v1/request/x/status"):
        assert_clean(e2e)
