"""Members whose jobs end together in one channel are told in a few messages, not one each: Discord lets a bot
post only 5 messages per 5 s in a channel. Each member is pinged once, and only where their line is."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping

import pytest

from discord_double import StoredMessage
from tests.conftest import EndToEnd
from tests.e2e.helpers import animate, assert_clean, end_notices, has_video

MEMBERS = 12


@pytest.mark.bot_env(ANIMATE_MAX_ACTIVE=str(MEMBERS))
@pytest.mark.runcomfy_config(manual=True)
async def test_jobs_ending_together_are_told_in_a_few_messages_each_member_pinged_once(e2e: EndToEnd) -> None:
    discord, runcomfy = e2e.discord, e2e.runcomfy
    members = [discord.add_user(f"member{n}") for n in range(MEMBERS)]
    handles = await asyncio.gather(*(animate(e2e, f"the cat of {m.username} waves", user=m) for m in members))
    await runcomfy.wait_for_requests("submit", MEMBERS)
    for request_id in list(runcomfy.jobs):
        runcomfy.advance(request_id)
        runcomfy.advance(request_id)
    finals = [await handle.wait_original(has_video, timeout=60) for handle in handles]

    def everyone_told() -> list[list[StoredMessage]] | None:
        told = [end_notices(discord, m.id) for m in members]
        return told if all(told) else None

    notices = await discord.wait_for(everyone_told)

    assert all(len(told) == 1 for told in notices)
    messages = {told[0].id: told[0] for told in notices}
    assert len(messages) < MEMBERS  # those that came while a message waited for the window shared one
    pinged = _pinged_by_message(e2e)
    for message in messages.values():
        mentioned = sorted(re.findall(r"<@(\d+)>", message.content))
        assert sorted(pinged[str(message.id)]) == mentioned
    for member, told, final in zip(members, notices, finals, strict=True):
        [line] = [line for line in told[0].content.splitlines() if f"<@{member.id}>" in line]
        assert f"/{final.channel_id}/{final.id}" in line  # each line links to its own member's card
    assert_clean(e2e)


def _pinged_by_message(e2e: EndToEnd) -> dict[str, list[str]]:
    """The users each posted message was allowed to ping, from the request that created it."""
    pinged: dict[str, list[str]] = {}
    for request in e2e.discord.requests:
        body = request.json if isinstance(request.json, Mapping) else {}
        answer = request.response
        if "allowed_mentions" in body and isinstance(answer, Mapping):
            allowed = body["allowed_mentions"]
            assert not allowed.get("parse"), allowed
            pinged[str(answer.get("id"))] = [str(u) for u in allowed.get("users") or []]
    return pinged
