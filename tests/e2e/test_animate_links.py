"""A job that waits in the bot's queue longer than Discord keeps its picture link alive still reaches
RunComfy with a working link: the bot renews it just before submitting."""

from __future__ import annotations

import pytest

from discord_double.signed_urls import SIGNED_URL_TTL_S
from tests.conftest import EndToEnd
from tests.e2e.helpers import animate, assert_clean, attachment_option, only_request_id, showing


@pytest.mark.bot_env(ANIMATE_MAX_ACTIVE="1")
@pytest.mark.runcomfy_config(manual=True)
async def test_a_picture_link_that_died_in_the_queue_is_renewed_before_submission(e2e: EndToEnd) -> None:
    discord, fake = e2e.discord, e2e.runcomfy
    await animate(e2e, "the first cat waves")
    await fake.wait_for_requests("submit", 1)
    blocker = only_request_id(e2e)

    discord.world.signer.ttl_s = 30 * 60  # the second member's link lives half an hour
    waiting = await animate(e2e, "the second cat waves")
    sent_url = attachment_option(waiting)["url"]
    await waiting.wait_original(showing("Waiting in this server's queue"))
    discord.world.signer.ttl_s = SIGNED_URL_TTL_S
    discord.advance_clock(40 * 60)  # the link the member sent is dead now

    fake.set_state(blocker, "completed")
    submits = await fake.wait_for_requests("submit", 2, timeout=10)
    assert submits[1].status == 200
    submitted_url = submits[1].json["first_frame_image_url"]
    assert submitted_url != sent_url
    assert [r.status for r in discord.requests_to("POST /attachments/refresh-urls")] == [200]
    assert len(fake.jobs) == 2
    assert_clean(e2e)
