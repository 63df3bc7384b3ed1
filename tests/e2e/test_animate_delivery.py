"""/animate from the command to the delivered video, through the real bot, the Discord double and the fake
RunComfy API: what the channel sees while the job runs and once it ends, in English and in Korean, and a
video too large for the server's upload limit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.i18n import t
from discord_double import InteractionHandle, StoredMessage, rules
from tests.conftest import EndToEnd
from tests.e2e.helpers import (
    CANCEL_PREFIX,
    DEFERRED_MESSAGE,
    PROMPT,
    RESPONSE_DEADLINE_S,
    VIDEO_WAIT_S,
    animate,
    assert_clean,
    assert_holds_the_video,
    attachment_option,
    buttons,
    cancel_button,
    card,
    end_notices,
    field_values,
    has_card,
    has_hangul,
    has_video,
    message_text,
    public_messages,
    short_job_id,
    status_line,
    text_pattern,
    versions,
    video_attachment,
)

TEN_MIB = 10 * 1024 * 1024


async def _deferred_in_time(handle: InteractionHandle) -> None:
    assert await handle.wait_response() == DEFERRED_MESSAGE
    record = handle.record
    assert record.responded_at is not None
    assert record.responded_at - record.created_at < RESPONSE_DEADLINE_S


def _is_delivered(locale: str) -> Callable[[StoredMessage], bool]:
    delivered = text_pattern(locale, "card.status.delivered")

    def check(message: StoredMessage) -> bool:
        return has_card(message) and bool(delivered.fullmatch(status_line(message)))

    return check


@pytest.mark.parametrize(("locale", "korean"), [("en-US", False), ("ko", True)], ids=["english", "korean"])
async def test_happy_path_ends_with_the_uploaded_video(e2e: EndToEnd, locale: str, korean: bool) -> None:
    discord, member = e2e.discord, e2e.discord.member
    handle = await animate(e2e, PROMPT, locale=locale)
    await _deferred_in_time(handle)

    final = await handle.wait_original(lambda m: has_video(m) and _is_delivered(locale)(m), VIDEO_WAIT_S)
    notices = await discord.wait_for(lambda: end_notices(discord, member.id))

    # While it waited, the card showed the picture, prompt, settings, requester, job id and a Cancel button.
    waiting = next(v for v in versions(final) if has_card(v) and cancel_button(v) is not None)
    waiting_titles = {t(locale, f"card.title.{state}") for state in ("queued", "submitting", "in_queue")}
    assert card(waiting)["title"] in waiting_titles
    job_id = short_job_id(waiting)
    assert cancel_button(waiting)["custom_id"] == CANCEL_PREFIX + job_id  # type: ignore[index]
    picture = attachment_option(handle)
    settings = [
        f"<@{member.id}>",
        "480p",
        t(locale, "card.duration_value", seconds=5),
        t(locale, "cost.units", units=1),
    ]
    for shown in (waiting, final):
        embed = card(shown)
        assert embed["thumbnail"]["url"] == picture["url"]
        assert PROMPT in embed["description"]
        assert field_values(shown) == settings
        assert short_job_id(shown) == job_id

    # At the end: the MP4 uploaded into the reply, its link too, no button, not loading, and one notice.
    assert card(final)["title"] == t(locale, "card.title.delivered")
    video = video_attachment(final)
    assert video is not None
    filename, data = discord.attachment_bytes(video)
    assert filename.endswith(".mp4")
    assert data[4:8] == b"ftyp"
    assert data == e2e.runcomfy.video
    (request_id,) = e2e.runcomfy.jobs
    # The double's plain-http link is shown as code, not as a link (only https URLs are links).
    address = f"`{e2e.runcomfy.base_url}/media/{request_id}.mp4`"
    assert t(locale, "card.video_address", url=address) in card(final)["description"]
    assert [b["custom_id"] for b in buttons(final)] == [f"animate:report:{short_job_id(final)}"]
    assert not final.ephemeral
    assert not final.flags & rules.FLAG_LOADING
    (notice,) = notices
    assert str(final.id) in notice.content

    for shown in (waiting, final, notice):
        text = message_text(shown)
        assert has_hangul(text) is korean, text
    assert len(e2e.runcomfy.requests_to("submit")) == 1
    assert [m.id for m in public_messages(discord)] == [final.id, notice.id]
    assert_clean(e2e)


async def _delivered_as_link(
    e2e: EndToEnd, *, upload_limit_after_command: int | None = None
) -> StoredMessage:
    """Run one job to its end and check it ended delivered as a link, with no video file anywhere.
    ``upload_limit_after_command`` lowers the upload limit once the command told the bot a larger one."""
    discord, member = e2e.discord, e2e.discord.member
    handle = await animate(e2e, PROMPT)
    if upload_limit_after_command is not None:
        discord.set_upload_limit(upload_limit_after_command)
    await _deferred_in_time(handle)
    final = await handle.wait_original(_is_delivered("en-US"), VIDEO_WAIT_S)
    await discord.wait_for(lambda: end_notices(discord, member.id))

    (request_id,) = e2e.runcomfy.jobs
    note = text_pattern("en-US", "notice.video_too_large").fullmatch(final.content)
    assert note is not None
    assert request_id in final.content
    assert text_pattern("en-US", "card.video_address").search(card(final)["description"])
    assert [b["custom_id"] for b in buttons(final)] == [f"animate:report:{short_job_id(final)}"]
    assert not any(a for m in discord.messages() for v in versions(m) for a in v.get("attachments", []))
    assert len(e2e.runcomfy.requests_to("submit")) == 1
    assert_clean(e2e)
    return final


@pytest.mark.runcomfy_config(video_size_bytes=TEN_MIB + 1024 * 1024)
async def test_a_video_above_the_default_upload_limit_is_linked_without_trying(e2e: EndToEnd) -> None:
    await _delivered_as_link(e2e)

    assert not [r for r in e2e.discord.requests if r.files]


async def test_a_video_discord_refuses_as_too_large_is_linked_instead(e2e: EndToEnd) -> None:
    await _delivered_as_link(e2e, upload_limit_after_command=len(e2e.runcomfy.video) - 1)

    refused = [r for r in e2e.discord.requests if r.files]
    assert refused
    assert all(r.status == 413 for r in refused)


@pytest.mark.runcomfy_config(video_size_bytes=TEN_MIB + 2 * 1024 * 1024)
async def test_a_video_within_the_limit_discord_gave_with_the_command_is_uploaded(e2e: EndToEnd) -> None:
    e2e.discord.set_upload_limit(25 * 1024 * 1024)  # more than the server's boost tier alone allows
    handle = await animate(e2e)
    assert attachment_option(handle) is not None
    assert handle.record.payload["attachment_size_limit"] == 25 * 1024 * 1024

    final = await handle.wait_original(has_video, timeout=VIDEO_WAIT_S)
    assert_holds_the_video(e2e, final)
    assert_clean(e2e)
