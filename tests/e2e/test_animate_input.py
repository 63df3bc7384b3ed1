"""/animate's input checks through the real bot: every bad input is answered ephemerally, in the member's
language, naming what is wrong and what would be right, and costs nothing (no request to the API, no public
message); the boundary cases that are fine go ahead."""

from __future__ import annotations

import pytest

from bot.i18n import t
from discord_double import InteractionHandle, LocalFile, make_image, rules
from tests.conftest import EndToEnd
from tests.e2e.helpers import (
    CHANNEL_MESSAGE,
    DEFERRED_MESSAGE,
    PROMPT,
    VIDEO_WAIT_S,
    animate,
    assert_clean,
    attachment_option,
    card,
    has_card,
    has_hangul,
    refused_bodies,
    status_line,
    text_pattern,
    versions,
)

MAX_PROMPT = 1900
HEAVY_BYTES = 30_000_000


async def _refusal(e2e: EndToEnd, handle: InteractionHandle, locale: str) -> list[str]:
    """Check the answer is one ephemeral message in ``locale``'s language that starts and ends as a refusal,
    and that nothing reached the API or the channel; return the answer's bullet lines."""
    assert await handle.wait_response() == CHANNEL_MESSAGE
    answer = await handle.wait_original()
    assert answer.ephemeral
    assert answer.flags & rules.FLAG_EPHEMERAL
    assert answer.embeds == []
    assert answer.components == []
    lines = answer.content.split("\n")
    assert text_pattern(locale, "input.header").fullmatch(lines[0]), lines[0]
    assert text_pattern(locale, "input.footer").fullmatch(lines[-1]), lines[-1]
    assert has_hangul(answer.content) is (locale == "ko"), answer.content

    # A valid request sent afterwards is the first thing the API sees: the refused one sent nothing.
    later = await animate(e2e, PROMPT)
    assert await later.wait_response() == DEFERRED_MESSAGE
    (submit,) = await e2e.runcomfy.wait_for_requests("submit", 1)
    assert e2e.runcomfy.requests[0] is submit
    assert submit.json["first_frame_image_url"] == attachment_option(later)["url"]
    assert [m.id for m in e2e.discord.messages() if m.interaction_id == handle.id] == [answer.id]
    assert_clean(e2e)
    return [line.removeprefix("• ") for line in lines[1:-1]]


def _says(locale: str, key: str, line: str, *values: object) -> None:
    assert text_pattern(locale, key).fullmatch(line), f"{line!r} is not {key}"
    for value in values:
        assert str(value) in line, f"{value!r} missing from {line!r}"


@pytest.mark.parametrize(
    ("picture", "locale"),
    [
        (LocalFile("notes.txt", b"a cat, waving\n", "text/plain"), "en-US"),
        (make_image(640, 480, "GIF"), "ko"),
    ],
    ids=["text-file", "gif"],
)
async def test_a_file_that_is_not_a_usable_picture_is_refused(
    e2e: EndToEnd, picture: LocalFile, locale: str
) -> None:
    handle = await animate(e2e, PROMPT, picture, locale=locale)

    (problem,) = await _refusal(e2e, handle, locale)
    _says(locale, "problem.not_a_picture", problem, "PNG", "JPEG", "WebP")


@pytest.mark.parametrize(
    ("width", "height", "key", "locale"),
    [
        (300, 300, "problem.too_small", "en-US"),
        (250, 500, "problem.too_small", "ko"),
        (6000, 3000, "problem.too_large", "en-US"),
    ],
    ids=["300x300", "250x500", "6000-wide"],
)
async def test_a_picture_with_a_side_out_of_range_is_refused(
    e2e: EndToEnd, width: int, height: int, key: str, locale: str
) -> None:
    handle = await animate(e2e, PROMPT, make_image(width, height), locale=locale)

    (problem,) = await _refusal(e2e, handle, locale)
    _says(locale, key, problem, f"{width}×{height}", 300, 6000)


@pytest.mark.parametrize(
    ("width", "height", "ratio", "locale"),
    [(1000, 400, "2.50", "en-US"), (1200, 400, "3.00", "ko"), (400, 1001, "0.40", "en-US")],
    ids=["exactly-2.5", "3.0", "just-under-0.4"],
)
async def test_a_picture_with_an_aspect_ratio_out_of_range_is_refused(
    e2e: EndToEnd, width: int, height: int, ratio: str, locale: str
) -> None:
    handle = await animate(e2e, PROMPT, make_image(width, height), locale=locale)

    (problem,) = await _refusal(e2e, handle, locale)
    _says(locale, "problem.aspect_ratio", problem, f"{width}×{height}", ratio, "0.4", "2.5")


async def test_a_picture_of_30_million_bytes_is_refused_as_too_heavy(e2e: EndToEnd) -> None:
    handle = await animate(e2e, PROMPT, make_image(640, 480, size=HEAVY_BYTES))

    (problem,) = await _refusal(e2e, handle, "en-US")
    _says("en-US", "problem.file_too_heavy", problem, "30.0 MB", "less than 30 MB")


async def test_a_prompt_one_character_too_long_is_refused(e2e: EndToEnd) -> None:
    handle = await animate(e2e, "a" * (MAX_PROMPT + 1), locale="ko")

    (problem,) = await _refusal(e2e, handle, "ko")
    _says("ko", "problem.prompt_too_long", problem, MAX_PROMPT + 1, MAX_PROMPT)


async def test_a_blank_prompt_is_refused(e2e: EndToEnd) -> None:
    handle = await animate(e2e, " \n\t ")

    (problem,) = await _refusal(e2e, handle, "en-US")
    _says("en-US", "problem.prompt_missing", problem)


async def test_a_missing_image_is_refused(e2e: EndToEnd) -> None:
    handle = await animate(e2e, PROMPT, without_image=True, locale="ko")

    (problem,) = await _refusal(e2e, handle, "ko")
    _says("ko", "problem.image_missing", problem, "`image`")


async def test_a_missing_prompt_is_refused(e2e: EndToEnd) -> None:
    handle = await animate(e2e, None)

    (problem,) = await _refusal(e2e, handle, "en-US")
    _says("en-US", "problem.prompt_missing", problem)


async def test_a_bad_last_frame_is_refused_and_named_as_the_last_frame(e2e: EndToEnd) -> None:
    handle = await animate(e2e, PROMPT, last_frame=make_image(300, 600))

    (problem,) = await _refusal(e2e, handle, "en-US")
    _says("en-US", "problem.too_small", problem, "last-frame", "300×600")


async def test_several_problems_are_listed_together_in_the_order_to_fix_them(e2e: EndToEnd) -> None:
    handle = await animate(
        e2e,
        "b" * (MAX_PROMPT + 50),
        make_image(200, 500),
        last_frame=make_image(640, 480, "GIF"),
        locale="ko",
    )

    size, ratio, last_frame, prompt = await _refusal(e2e, handle, "ko")
    _says("ko", "problem.too_small", size, "200×500")
    _says("ko", "problem.aspect_ratio", ratio, "200×500", "0.40")
    _says("ko", "problem.not_a_picture", last_frame)
    _says("ko", "problem.prompt_too_long", prompt, MAX_PROMPT + 50)
    assert last_frame.startswith(t("ko", "picture.last_frame"))


async def test_a_last_frame_at_1080p_is_accepted_with_a_note_that_it_is_ignored(e2e: EndToEnd) -> None:
    handle = await animate(e2e, PROMPT, last_frame=make_image(640, 480), resolution="1080p", duration=10)

    assert await handle.wait_response() == DEFERRED_MESSAGE
    (submit,) = await e2e.runcomfy.wait_for_requests("submit", 1)
    assert submit.json["resolution"] == "1080p"
    assert submit.json["duration"] == 10
    note = text_pattern("en-US", "note.last_frame_ignored_1080p")
    shown = await handle.wait_original(lambda m: has_card(m) and bool(note.search(card(m)["description"])))
    assert not shown.ephemeral
    assert "1080p" in [f["value"] for f in card(shown)["fields"]]
    assert_clean(e2e)


async def test_a_prompt_of_1900_characters_is_accepted_and_fits_discords_embed_limits(e2e: EndToEnd) -> None:
    prompt = ("고양이가 천천히 고개를 돌린다 " * 200)[:MAX_PROMPT]
    assert len(prompt) == MAX_PROMPT
    handle = await animate(e2e, prompt, locale="ko")

    assert await handle.wait_response() == DEFERRED_MESSAGE
    delivered = text_pattern("ko", "card.status.delivered")
    final = await handle.wait_original(
        lambda m: has_card(m) and bool(delivered.fullmatch(status_line(m))), VIDEO_WAIT_S
    )

    (submit,) = e2e.runcomfy.requests_to("submit")
    assert submit.json["prompt"] == prompt
    cards = [card(v) for v in versions(final) if has_card(v)]
    assert len(cards) >= 2
    for shown in cards:
        assert prompt.strip() in shown["description"]
        assert rules.embed_text_length(shown) <= rules.EMBED_TOTAL_MAX
    assert not refused_bodies(e2e.discord)
    assert_clean(e2e)


@pytest.mark.parametrize("locale", ["en-US", "ko"])
async def test_a_channel_where_the_bot_cannot_post_is_refused_before_anything_is_stored(
    e2e: EndToEnd, locale: str
) -> None:
    discord = e2e.discord
    discord.deny_bot(discord.channel, send_messages=True)
    handle = await animate(e2e, PROMPT, locale=locale)

    assert await handle.wait_response() == CHANNEL_MESSAGE
    answer = await handle.wait_original()
    assert answer.ephemeral
    assert text_pattern(locale, "missing_permissions").fullmatch(answer.content), answer.content
    assert t(locale, "permission.send_messages") in answer.content
    assert t(locale, "permission.view_channel") not in answer.content
    assert e2e.runcomfy.requests == ()
    assert [m for m in discord.messages() if not m.ephemeral] == []
