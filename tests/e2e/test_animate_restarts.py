"""/animate survives its process: kill -9 at every point of a job, SIGTERM, and the Cancel button after a
restart. Every job reaches its end state and the fake API's request log shows no job sent twice."""

from __future__ import annotations

import pytest

from client.fake import Fault
from discord_double import StoredMessage
from tests.conftest import EndToEnd
from tests.e2e.helpers import (
    VIDEO_WAIT_S,
    animate,
    assert_clean,
    cancel_button,
    has_video,
    message_text,
    only_request_id,
    public_messages,
    run_to_completion,
    showing,
    video_attachment,
    wait_notices,
)

WEBHOOK_EDIT = "PATCH /webhooks/{application_id}/{token}/messages/{message_id}"
SUBMIT_HOLD_S = 1.5


async def assert_one_video_and_one_notice(e2e: EndToEnd, final: StoredMessage) -> None:
    assert len([a for a in final.attachments if a["filename"].endswith(".mp4")]) == 1
    assert len(await wait_notices(e2e, 1)) == 1
    assert_clean(e2e)


@pytest.mark.bot_env(ANIMATE_MAX_ACTIVE="1")
@pytest.mark.runcomfy_config(manual=True)
async def test_kill9_while_a_job_waits_in_our_queue(e2e: EndToEnd) -> None:
    blocker = await animate(e2e, "the first cat waves")
    await blocker.wait_original(showing("Waiting at RunComfy"))
    waiting = await animate(e2e, "the second cat waves")
    await waiting.wait_original(showing("Waiting in this server's queue"))

    await e2e.kill9()
    await e2e.restart()

    first = only_request_id(e2e)
    await run_to_completion(e2e, blocker, first)
    await e2e.runcomfy.wait_for_requests("submit", 2)
    second = next(r for r in e2e.runcomfy.jobs if r != first)
    final = await run_to_completion(e2e, waiting, second)

    submits = e2e.runcomfy.requests_to("submit")
    assert [r.json["prompt"] for r in submits] == ["the first cat waves", "the second cat waves"]
    assert video_attachment(final) is not None
    assert len(await wait_notices(e2e, 2)) == 2
    assert_clean(e2e)


@pytest.mark.runcomfy_config(manual=True)
async def test_kill9_while_queued_at_runcomfy(e2e: EndToEnd) -> None:
    handle = await animate(e2e)
    await handle.wait_original(showing("Waiting at RunComfy"))

    await e2e.restart()
    final = await run_to_completion(e2e, handle, only_request_id(e2e))

    assert len(e2e.runcomfy.requests_to("submit")) == 1
    await assert_one_video_and_one_notice(e2e, final)


@pytest.mark.runcomfy_config(manual=True)
async def test_kill9_while_generating(e2e: EndToEnd) -> None:
    handle = await animate(e2e)
    await handle.wait_original(showing("Waiting at RunComfy"))
    request_id = only_request_id(e2e)
    e2e.runcomfy.advance(request_id)
    await handle.wait_original(showing("Generating for"))

    await e2e.restart()
    final = await run_to_completion(e2e, handle, request_id)

    assert len(e2e.runcomfy.requests_to("submit")) == 1
    await assert_one_video_and_one_notice(e2e, final)


@pytest.mark.runcomfy_config(manual=True)
async def test_kill9_after_completion_before_delivery(e2e: EndToEnd) -> None:
    discord = e2e.discord
    handle = await animate(e2e)
    await handle.wait_original(showing("Waiting at RunComfy"))
    request_id = only_request_id(e2e)
    e2e.runcomfy.advance(request_id)
    await handle.wait_original(showing("Generating for"))
    # Discord refuses every edit of the reply, so the finished job cannot be delivered.
    discord.set_rate_limit(WEBHOOK_EDIT, 0, per_s=1.0)
    e2e.runcomfy.advance(request_id)
    await discord.wait_for(
        lambda: [r for r in discord.requests_to(WEBHOOK_EDIT) if r.status == 429 and r.files]
    )

    await e2e.kill9()
    discord.set_rate_limit(WEBHOOK_EDIT, 5, per_s=2.0)
    await e2e.restart()
    final = await handle.wait_original(has_video, timeout=VIDEO_WAIT_S)

    assert len(e2e.runcomfy.requests_to("submit")) == 1
    await assert_one_video_and_one_notice(e2e, final)


@pytest.mark.runcomfy_config(manual=True)
async def test_kill9_while_the_submit_is_in_flight_fails_the_job_without_resending(e2e: EndToEnd) -> None:
    e2e.runcomfy.inject(Fault.latency(SUBMIT_HOLD_S, endpoint="submit"))
    handle = await animate(e2e)
    await handle.wait_original(showing("Sending to the generator"))

    await e2e.kill9()
    # The fake answers the held POST after the process died: the job exists at RunComfy, unknown to us.
    await e2e.runcomfy.wait_for_requests("submit", 1)
    await e2e.restart()
    final = await handle.wait_original(showing("The video couldn't be made"))

    text = message_text(final)
    assert "to avoid charging twice it was not resent" in text
    assert "Please try again with /animate." in text
    assert cancel_button(final) is None
    assert len(e2e.runcomfy.requests_to("submit")) == 1
    [notice] = await wait_notices(e2e, 1)
    assert "your video failed" in notice.content
    assert_clean(e2e)


@pytest.mark.runcomfy_config(manual=True)
async def test_cancel_button_works_after_a_restart(e2e: EndToEnd) -> None:
    handle = await animate(e2e)
    card = await handle.wait_original(showing("Waiting at RunComfy"))
    button = cancel_button(card)
    assert button is not None
    assert not button.get("disabled")

    await e2e.restart()
    click = await e2e.discord.click(card, button["custom_id"])
    answer = await click.wait_original(showing("Cancelled at RunComfy"))
    final = await handle.wait_original(showing("🚫 Cancelled"))

    assert answer.ephemeral
    assert cancel_button(final) is None
    assert "before generation started" in message_text(final)
    assert e2e.runcomfy.jobs[only_request_id(e2e)].status == "cancelled"
    assert len(e2e.runcomfy.requests_to("cancel")) == 1
    assert len(e2e.runcomfy.requests_to("submit")) == 1
    assert_clean(e2e)


@pytest.mark.runcomfy_config(manual=True)
async def test_sigterm_exits_cleanly_and_a_restart_finishes_the_job(e2e: EndToEnd) -> None:
    handle = await animate(e2e)
    await handle.wait_original(showing("Waiting at RunComfy"))
    request_id = only_request_id(e2e)
    e2e.runcomfy.advance(request_id)
    await handle.wait_original(showing("Generating for"))

    assert await e2e.terminate() == 0
    assert "Traceback" not in e2e.bot.output()
    await e2e.restart()
    final = await run_to_completion(e2e, handle, request_id)

    assert len(e2e.runcomfy.requests_to("submit")) == 1
    await assert_one_video_and_one_notice(e2e, final)


@pytest.mark.runcomfy_config(manual=True)
async def test_sigterm_during_the_submit_keeps_its_request_id(e2e: EndToEnd) -> None:
    e2e.runcomfy.inject(Fault.latency(SUBMIT_HOLD_S, endpoint="submit"))
    handle = await animate(e2e)
    await handle.wait_original(showing("Sending to the generator"))

    assert await e2e.terminate() == 0
    await e2e.restart()
    await handle.wait_original(showing("Waiting at RunComfy"))
    final = await run_to_completion(e2e, handle, only_request_id(e2e))

    assert len(e2e.runcomfy.requests_to("submit")) == 1
    await assert_one_video_and_one_notice(e2e, final)
    assert len(public_messages(e2e.discord)) == 2
