"""/animate within Discord's limits: the interaction token dies mid-job, edits are rate limited, and only the
member who asked (or a moderator) may press Cancel, which does what the job's place allows."""

from __future__ import annotations

import pytest
from discord import Permissions

from discord_double import InteractionHandle, StoredMessage
from tests.conftest import EndToEnd
from tests.e2e.helpers import (
    VIDEO_WAIT_S,
    animate,
    assert_clean,
    assert_holds_the_video,
    cancel_button,
    first_public_message,
    has_video,
    message_text,
    public_messages,
    run_to_completion,
    showing,
    wait_notice,
)

WEBHOOK_EDIT = "PATCH /webhooks/{application_id}/{token}/messages/{message_id}"
CHANNEL_EDIT = "PATCH /channels/{channel_id}/messages/{message_id}"
TOKEN_TTL_S = 2.0
AT_RUNCOMFY = "Waiting at RunComfy"
GENERATING = "Generating for"


def expire_token(handle: InteractionHandle) -> None:
    """Age the interaction past its token's lifetime on the double's clock."""
    handle.age(TOKEN_TTL_S + 0.1)


async def queued_at_runcomfy(e2e: EndToEnd) -> tuple[InteractionHandle, StoredMessage, str]:
    """An /animate job held in RunComfy's queue by the manual fake: its handle, card and request id."""
    handle = await animate(e2e, "the cat waves")
    card = await handle.wait_original(showing(AT_RUNCOMFY))
    [request_id] = list(e2e.runcomfy.jobs)
    return handle, card, request_id


def cancel_id(card: StoredMessage) -> str:
    button = cancel_button(card)
    assert button is not None, "the card has no Cancel button"
    return str(button["custom_id"])


# ---- the interaction token expires mid-job ---------------------------------------------------------------


@pytest.mark.double_config(token_ttl_s=TOKEN_TTL_S)
@pytest.mark.runcomfy_config(manual=True)
async def test_the_reply_is_edited_through_the_channel_after_the_token_expired(e2e: EndToEnd) -> None:
    discord = e2e.discord
    handle, _, request_id = await queued_at_runcomfy(e2e)
    expire_token(handle)

    e2e.runcomfy.advance(request_id)
    await handle.wait_original(showing(GENERATING))
    final = await run_to_completion(e2e, handle, request_id)

    assert final.id == handle.record.original_message_id
    assert [r.status for r in discord.requests_to(WEBHOOK_EDIT) if r.status != 200] == [401]
    assert all(r.status == 200 for r in discord.requests_to(CHANNEL_EDIT))
    assert len(discord.requests_to(CHANNEL_EDIT)) >= 2
    notice = await wait_notice(e2e)
    assert "your video is ready" in notice.content
    assert len(public_messages(discord)) == 2
    assert_clean(e2e)


@pytest.mark.double_config(token_ttl_s=TOKEN_TTL_S)
@pytest.mark.runcomfy_config(manual=True)
async def test_a_new_message_carries_the_job_when_the_old_reply_is_gone(e2e: EndToEnd) -> None:
    discord = e2e.discord
    handle, card, request_id = await queued_at_runcomfy(e2e)
    expire_token(handle)
    discord.message(card.id).deleted = True  # a moderator removed the reply

    e2e.runcomfy.advance(request_id)
    moved = await first_public_message(e2e, lambda m: "this job continues here" in m.content)
    assert f"<@{discord.member.id}>" in moved.content
    assert GENERATING in message_text(moved)
    e2e.runcomfy.advance(request_id)
    final = await discord.wait_for(lambda: moved if has_video(moved) else None)

    assert cancel_button(final) is None
    assert "your video is ready" in (await wait_notice(e2e)).content
    assert_clean(e2e)


@pytest.mark.double_config(token_ttl_s=TOKEN_TTL_S)
@pytest.mark.runcomfy_config(manual=True, video_size_bytes=11 * 1024 * 1024)
async def test_a_video_too_large_to_upload_is_linked_in_the_new_message(e2e: EndToEnd) -> None:
    discord = e2e.discord
    handle, card, request_id = await queued_at_runcomfy(e2e)
    expire_token(handle)
    discord.message(card.id).deleted = True

    e2e.runcomfy.set_state(request_id, "completed")
    moved = await first_public_message(e2e, lambda m: "this job continues here" in m.content)
    assert "The video is too large to upload here, so here is the link:" in moved.content
    assert f"/media/{request_id}.mp4" in moved.content
    assert not has_video(moved)
    assert "your video is ready" in (await wait_notice(e2e)).content
    assert_clean(e2e)


@pytest.mark.double_config(token_ttl_s=TOKEN_TTL_S)
@pytest.mark.runcomfy_config(manual=True)
async def test_a_channel_without_attach_files_gets_the_video_as_a_link(e2e: EndToEnd) -> None:
    discord = e2e.discord
    handle, card, request_id = await queued_at_runcomfy(e2e)
    expire_token(handle)
    discord.deny_bot(discord.channel, attach_files=True)

    e2e.runcomfy.set_state(request_id, "completed")
    final = await handle.wait_original(showing("here is the link"), timeout=VIDEO_WAIT_S)
    assert final.id == card.id
    assert f"/media/{request_id}.mp4" in final.content
    assert not has_video(final)
    assert 403 in [r.status for r in discord.requests_to(CHANNEL_EDIT)]
    assert "your video is ready" in (await wait_notice(e2e)).content
    assert_clean(e2e)


@pytest.mark.runcomfy_config(manual=True)
async def test_a_reply_deleted_while_the_token_lives_still_gets_its_video(e2e: EndToEnd) -> None:
    discord = e2e.discord
    _, card, request_id = await queued_at_runcomfy(e2e)
    discord.message(card.id).deleted = True

    e2e.runcomfy.set_state(request_id, "completed")
    moved = await first_public_message(e2e, has_video)
    assert "this job continues here" in moved.content
    assert_holds_the_video(e2e, moved)
    assert "your video is ready" in (await wait_notice(e2e)).content
    assert_clean(e2e)


@pytest.mark.double_config(token_ttl_s=TOKEN_TTL_S)
@pytest.mark.runcomfy_config(manual=True)
async def test_a_video_sent_again_after_the_token_died_is_whole(e2e: EndToEnd) -> None:
    discord = e2e.discord
    handle, card, request_id = await queued_at_runcomfy(e2e)
    expire_token(handle)

    e2e.runcomfy.set_state(request_id, "completed")  # the first request after expiry carries the file
    final = await handle.wait_original(has_video, timeout=VIDEO_WAIT_S)
    assert final.id == card.id
    assert [r.status for r in discord.requests_to(WEBHOOK_EDIT) if r.status != 200] == [401]
    assert_holds_the_video(e2e, final)
    assert_clean(e2e)


# ---- Discord answers 429 to edits ------------------------------------------------------------------------


@pytest.mark.runcomfy_config(manual=True)
async def test_rate_limited_edits_wait_and_the_final_edit_is_not_lost(e2e: EndToEnd) -> None:
    discord = e2e.discord
    handle, _, request_id = await queued_at_runcomfy(e2e)
    e2e.runcomfy.advance(request_id)
    await handle.wait_original(showing(GENERATING))

    discord.set_rate_limit(WEBHOOK_EDIT, 0, per_s=1.0)
    e2e.runcomfy.advance(request_id)
    await discord.wait_for(lambda: sum(r.status == 429 for r in discord.requests_to(WEBHOOK_EDIT)) >= 2)
    discord.set_rate_limit(WEBHOOK_EDIT, 5, per_s=2.0)
    final = await handle.wait_original(has_video, timeout=VIDEO_WAIT_S)

    edits = discord.requests_to(WEBHOOK_EDIT)
    limited = [i for i, r in enumerate(edits) if r.status == 429]
    for index in limited:
        waited = edits[index + 1].time - edits[index].time
        assert waited >= edits[index].response["retry_after"] * 0.9, "the bot did not wait as told"
    assert edits[-1].status == 200
    assert edits[-1].files
    assert "Your video is ready" in message_text(final)
    assert "your video is ready" in (await wait_notice(e2e)).content
    assert_clean(e2e)


@pytest.mark.double_config(token_ttl_s=TOKEN_TTL_S)
@pytest.mark.runcomfy_config(manual=True)
async def test_rate_limited_channel_edits_after_the_token_expired_still_deliver(e2e: EndToEnd) -> None:
    discord = e2e.discord
    handle, _, request_id = await queued_at_runcomfy(e2e)
    expire_token(handle)
    discord.set_rate_limit(CHANNEL_EDIT, 0, per_s=1.0)

    e2e.runcomfy.advance(request_id)
    e2e.runcomfy.advance(request_id)
    await discord.wait_for(lambda: any(r.status == 429 for r in discord.requests_to(CHANNEL_EDIT)))
    discord.set_rate_limit(CHANNEL_EDIT, 5, per_s=5.0)
    final = await handle.wait_original(has_video, timeout=VIDEO_WAIT_S)

    edits = discord.requests_to(CHANNEL_EDIT)
    first_429 = next(i for i, r in enumerate(edits) if r.status == 429)
    assert edits[first_429 + 1].time - edits[first_429].time >= edits[first_429].response["retry_after"] * 0.9
    assert final.id == handle.record.original_message_id
    assert "your video is ready" in (await wait_notice(e2e)).content
    assert_clean(e2e)


# ---- Cancel ----------------------------------------------------------------------------------------------


@pytest.mark.bot_env(ANIMATE_MAX_ACTIVE="1")
@pytest.mark.runcomfy_config(manual=True)
async def test_cancel_in_our_queue_makes_no_api_call(e2e: EndToEnd) -> None:
    await queued_at_runcomfy(e2e)
    waiting = await animate(e2e, "the second cat waves")
    card = await waiting.wait_original(showing("Waiting in this server's queue"))

    click = await e2e.discord.click(card, cancel_id(card))
    answer = await click.wait_original(showing("Cancelled."))
    final = await waiting.wait_original(showing("🚫 Cancelled"))

    assert answer.ephemeral
    assert "nothing was charged" in answer.content
    assert "nothing was sent, so nothing was charged" in message_text(final)
    assert cancel_button(final) is None
    assert [r.json["prompt"] for r in e2e.runcomfy.requests_to("submit")] == ["the cat waves"]
    assert not e2e.runcomfy.requests_to("cancel")
    assert "your video was cancelled" in (await wait_notice(e2e)).content
    assert_clean(e2e)


@pytest.mark.runcomfy_config(manual=True)
async def test_cancel_while_queued_at_runcomfy_cancels_it_there(e2e: EndToEnd) -> None:
    handle, card, request_id = await queued_at_runcomfy(e2e)

    click = await e2e.discord.click(card, cancel_id(card))
    answer = await click.wait_original(showing("Cancelled at RunComfy"))
    final = await handle.wait_original(showing("🚫 Cancelled"))

    assert answer.ephemeral
    assert "Cancelled while waiting at RunComfy, before generation started." in message_text(final)
    assert e2e.runcomfy.jobs[request_id].status == "cancelled"
    assert [r.status for r in e2e.runcomfy.requests_to("cancel")] == [200]
    assert_clean(e2e)


@pytest.mark.runcomfy_config(manual=True)
async def test_cancel_while_generating_is_refused_plainly_and_the_job_completes(e2e: EndToEnd) -> None:
    handle, card, request_id = await queued_at_runcomfy(e2e)
    e2e.runcomfy.advance(request_id)
    generating = await handle.wait_original(showing(GENERATING))
    button = cancel_button(generating)
    assert button is not None
    assert button.get("disabled") is True
    assert button["label"] == "Generating — can't cancel"

    # A member whose client still shows the earlier card presses its enabled button.
    click = await e2e.discord.click(card, cancel_id(card), stale=True)
    answer = await click.wait_original(showing("can't be cancelled"))
    final = await run_to_completion(e2e, handle, request_id)

    assert answer.ephemeral
    assert "already being generated" in answer.content
    assert not e2e.runcomfy.requests_to("cancel")
    assert cancel_button(final) is None
    assert "your video is ready" in (await wait_notice(e2e)).content
    assert_clean(e2e)


@pytest.mark.runcomfy_config(manual=True)
async def test_a_stranger_cannot_cancel(e2e: EndToEnd) -> None:
    handle, card, request_id = await queued_at_runcomfy(e2e)
    stranger = e2e.discord.add_user("stranger")

    click = await e2e.discord.click(card, cancel_id(card), user=stranger)
    answer = await click.wait_original()

    assert answer.ephemeral
    assert answer.content == "Only the member who asked for this video or a moderator can cancel it."
    assert not e2e.runcomfy.requests_to("cancel")
    assert e2e.runcomfy.jobs[request_id].status == "in_queue"
    assert AT_RUNCOMFY in message_text(e2e.discord.message(card.id))
    await run_to_completion(e2e, handle, request_id)
    assert_clean(e2e)


@pytest.mark.runcomfy_config(manual=True)
async def test_a_moderator_can_cancel_someone_elses_job(e2e: EndToEnd) -> None:
    discord = e2e.discord
    handle, card, request_id = await queued_at_runcomfy(e2e)
    moderators = discord.add_role("moderators", Permissions(manage_messages=True).value)
    moderator = discord.add_user("moderator")

    click = await discord.click(card, cancel_id(card), user=moderator, roles=[moderators])
    answer = await click.wait_original(showing("Cancelled at RunComfy"))
    final = await handle.wait_original(showing("🚫 Cancelled"))

    assert answer.ephemeral
    assert f"Cancelled by <@{moderator.id}>." in message_text(final)
    assert e2e.runcomfy.jobs[request_id].status == "cancelled"
    assert "your video was cancelled" in (await wait_notice(e2e)).content
    assert_clean(e2e)
