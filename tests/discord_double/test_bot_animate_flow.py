"""One /animate through the real bot, the double and the fake RunComfy API, ending with the video."""

from __future__ import annotations

import time

from discord_double import StoredMessage, make_image, rules
from tests.conftest import EndToEnd

DEFERRED_MESSAGE = 5


def has_video(message: StoredMessage) -> bool:
    return any(a["filename"].endswith(".mp4") for a in message.attachments)


async def test_animate_ends_with_the_video_in_the_reply(e2e: EndToEnd) -> None:
    discord = e2e.discord
    started = time.monotonic()
    handle = await discord.invoke_command(
        "animate", {"prompt": "the cat waves"}, {"image": make_image(640, 480)}
    )

    assert await handle.wait_response() == DEFERRED_MESSAGE
    final = await handle.wait_original(has_video, timeout=20)

    video = next(a for a in final.attachments if a["filename"].endswith(".mp4"))
    filename, data = discord.attachment_bytes(video)
    assert filename == video["filename"]
    assert data[4:8] == b"ftyp"
    assert video["size"] == len(data)
    assert not final.flags & rules.FLAG_LOADING
    assert final.edit_count >= 1
    assert not discord.unknown_requests
    assert time.monotonic() - started < 15
