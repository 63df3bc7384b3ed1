"""Planted faults and the old-message edit cap, as discord.py meets them."""

from __future__ import annotations

import discord
import pytest
from discord.http import Route

from discord_double import DiscordDouble, DoubleError, rules

POST = "POST /channels/{channel_id}/messages"
EDIT = "PATCH /channels/{channel_id}/messages/{message_id}"


def _post(channel_id: int) -> Route:
    return Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)


def _edit(channel_id: int, message_id: str) -> Route:
    route = "/channels/{channel_id}/messages/{message_id}"
    return Route("PATCH", route, channel_id=channel_id, message_id=message_id)


async def test_a_planted_503_reaches_discordpy_as_a_server_error_and_is_used_up(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    double.inject(POST, 503)

    with pytest.raises(discord.DiscordServerError) as caught:
        await bot_http.request(_post(double.channel.id), json={"content": "lost"})
    assert caught.value.status == 503
    await bot_http.request(_post(double.channel.id), json={"content": "kept"})

    posts = double.requests_to(POST)
    assert [r.status for r in posts] == [503, 200]
    assert posts[0].response == {"message": "503: Service Unavailable", "code": 0}
    assert [m.content for m in double.messages(double.channel)] == ["kept"]


async def test_discordpy_retries_a_planted_500_and_the_retry_succeeds(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    double.inject(POST, 500, body={"message": "500: Internal Server Error", "code": 0})

    await bot_http.request(_post(double.channel.id), json={"content": "second try"})

    assert [r.status for r in double.requests_to(POST)] == [500, 200]
    assert [m.content for m in double.messages(double.channel)] == ["second try"]


async def test_a_planted_429_without_via_is_a_cloudflare_ban_that_discordpy_does_not_retry(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    double.inject(POST, 429, times=2)

    with pytest.raises(discord.HTTPException) as caught:
        await bot_http.request(_post(double.channel.id), json={"content": "banned"})
    assert caught.value.status == 429
    assert caught.value.text == "error code: 1015"
    assert [r.status for r in double.requests_to(POST)] == [429]
    assert double.rest.faults.pending(POST) == 1


async def test_a_planted_429_with_via_is_a_rate_limit_that_discordpy_waits_out(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    body = {"message": "You are being rate limited.", "retry_after": 0.05, "global": False}
    double.inject(POST, 429, body=body, headers={"Via": "1.1 google"})

    await bot_http.request(_post(double.channel.id), json={"content": "after the wait"})

    assert [r.status for r in double.requests_to(POST)] == [429, 200]


async def test_faults_can_only_be_planted_on_known_routes(discord_double: DiscordDouble) -> None:
    with pytest.raises(DoubleError):
        discord_double.inject("POST /channels/{channel_id}/mesages", 500)
    with pytest.raises(ValueError, match="times"):
        discord_double.inject(POST, 500, times=0)


@pytest.mark.double_config(old_message_edits_per_window=1, old_message_edit_window_s=0.3)
async def test_edits_of_messages_older_than_an_hour_run_out_with_30046(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    channel = double.channel.id
    old = str((await bot_http.request(_post(channel), json={"content": "old"}))["id"])
    double.advance_clock(3601)
    fresh = str((await bot_http.request(_post(channel), json={"content": "fresh"}))["id"])

    await bot_http.request(_edit(channel, old), json={"content": "one"})
    await bot_http.request(_edit(channel, fresh), json={"content": "a new message is not counted"})
    await bot_http.request(_edit(channel, old), json={"content": "two"})

    edits = double.requests_to(EDIT)
    assert [r.status for r in edits] == [200, 200, 429, 200]
    refused = edits[2].response
    assert refused["code"] == rules.MAX_OLD_MESSAGE_EDITS
    assert refused["message"] == (
        "Maximum number of edits to messages older than 1 hour reached. Try again later"
    )
    assert refused["global"] is False
    assert 0 < refused["retry_after"] <= 0.3
    assert double.message(int(old)).content == "two"
