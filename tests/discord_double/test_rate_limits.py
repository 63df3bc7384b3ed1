"""Rate limits with Discord's headers: discord.py waits when told, and retries after a 429."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord.http import Route

from discord_double import DiscordDouble, DoubleConfig
from discord_double.ratelimits import RateLimiter, RateLimitRule
from tests.discord_double.conftest import ProbeBot

EDIT = "PATCH /channels/{channel_id}/messages/{message_id}"
POST = "POST /channels/{channel_id}/messages"


def _edit(channel_id: int, message_id: str) -> Route:
    route = "/channels/{channel_id}/messages/{message_id}"
    return Route("PATCH", route, channel_id=channel_id, message_id=message_id)


@pytest.fixture
async def second_http(discordpy_at_double: DiscordDouble) -> AsyncIterator[discord.http.HTTPClient]:
    """Another process's client sharing the bot's buckets (it has not seen their headers)."""
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    await http.static_login(discordpy_at_double.token)
    try:
        yield http
    finally:
        await http.close()


async def _message(http: discord.http.HTTPClient, channel_id: int) -> str:
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
    sent = await http.request(route, json={"content": "card"})
    return str(sent["id"])


async def test_discordpy_retries_after_a_429_and_both_requests_are_counted(
    bot_http: discord.http.HTTPClient,
    second_http: discord.http.HTTPClient,
    discordpy_at_double: DiscordDouble,
) -> None:
    double = discordpy_at_double
    double.set_rate_limit(EDIT, 1, per_s=0.3)
    channel = double.channel.id
    message_id = await _message(bot_http, channel)

    # The first client exhausts the bucket (and then sleeps it out); the second, unaware, is told 429.
    first = asyncio.create_task(bot_http.request(_edit(channel, message_id), json={"content": "one"}))
    await double.wait_for(lambda: double.requests_to(EDIT))
    await second_http.request(_edit(channel, message_id), json={"content": "two"})
    await first

    edits = double.requests_to(EDIT)
    assert [r.status for r in edits] == [200, 429, 200]
    limited = edits[1]
    assert limited.response["message"] == "You are being rate limited."
    assert limited.response["global"] is False
    assert 0 < limited.response["retry_after"] <= 0.3
    headers = limited.response_headers
    assert headers["X-RateLimit-Scope"] == "user"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert {"X-RateLimit-Limit", "X-RateLimit-Reset", "X-RateLimit-Reset-After", "X-RateLimit-Bucket"} <= set(
        headers
    )
    assert edits[2].time - limited.time >= limited.response["retry_after"] * 0.9
    assert double.message(int(message_id)).content == "two"


async def test_message_edits_are_limited_per_channel(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    double.set_rate_limit(EDIT, 5, per_s=0.4)
    other = double.add_channel("other")
    first, second = await _message(bot_http, double.channel.id), await _message(bot_http, other.id)

    started = time.monotonic()
    for n in range(4):
        await bot_http.request(_edit(double.channel.id, first), json={"content": str(n)})
    await asyncio.gather(
        bot_http.request(_edit(double.channel.id, first), json={"content": "fifth"}),
        bot_http.request(_edit(other.id, second), json={"content": "another channel has its own bucket"}),
    )
    await bot_http.request(_edit(double.channel.id, first), json={"content": "sixth"})

    edits = double.requests_to(EDIT)
    assert all(r.status == 200 for r in edits)
    in_channel = [r for r in edits if r.path.startswith(f"/channels/{double.channel.id}/")]
    assert [r.response_headers["X-RateLimit-Remaining"] for r in in_channel] == ["4", "3", "2", "1", "0", "4"]
    assert in_channel[4].time - started < 0.3
    assert in_channel[5].time - in_channel[0].time >= 0.35
    other_edit = next(r for r in edits if r.path.startswith(f"/channels/{other.id}/"))
    assert other_edit.time - started < 0.3


def test_a_window_resets_after_its_period() -> None:
    limiter = RateLimiter(rules={"GET /x": RateLimitRule(2, 1.0)})
    verdicts = [limiter.check("GET /x", "a", now=t) for t in (0.0, 0.1, 0.2, 0.5, 1.01)]
    assert [v.allowed if v else None for v in verdicts] == [True, True, False, False, True]
    other = limiter.check("GET /x", "b", now=0.2)
    assert other is not None
    assert other.allowed
    assert limiter.check("GET /unlimited", "a") is None


def test_the_default_rules_limit_channel_message_edits_to_5_per_5_seconds() -> None:
    assert RateLimiter().rules[EDIT] == RateLimitRule(5, 5.0)


async def _raw_post(double: DiscordDouble, content: str) -> tuple[int, dict[str, str], Any]:
    url = f"{double.api_base}/channels/{double.channel.id}/messages"
    headers = {"Authorization": f"Bot {double.token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json={"content": content}, headers=headers) as r,
    ):
        return r.status, dict(r.headers), await r.json()


async def test_a_shared_limit_says_so_in_its_scope(discord_double: DiscordDouble) -> None:
    discord_double.set_rate_limit(POST, 1, per_s=5.0, shared=True)
    assert (await _raw_post(discord_double, "one"))[0] == 200

    status, headers, body = await _raw_post(discord_double, "two")

    assert status == 429
    assert headers["X-RateLimit-Scope"] == "shared"
    assert body["global"] is False
    assert "X-RateLimit-Global" not in headers


async def test_the_global_limit_answers_with_discords_global_headers_and_discordpy_waits(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    double.set_global_rate_limit(2, per_s=0.3)
    channel = double.channel.id

    for n in range(3):
        await bot_http.request(
            Route("POST", "/channels/{channel_id}/messages", channel_id=channel), json={"content": str(n)}
        )

    posts = double.requests_to(POST)
    assert [r.status for r in posts] == [200, 200, 429, 200]
    limited = posts[2]
    assert limited.response["global"] is True
    assert 0 < limited.response["retry_after"] <= 0.3
    assert limited.response_headers["X-RateLimit-Global"] == "true"
    assert limited.response_headers["X-RateLimit-Scope"] == "global"
    assert "X-RateLimit-Bucket" not in limited.response_headers
    assert posts[3].time - limited.time >= limited.response["retry_after"] * 0.9


async def test_interaction_routes_are_exempt_from_the_global_limit(probe_bot: ProbeBot) -> None:
    double = probe_bot.double
    handle, interaction = await probe_bot.invoke()
    double.set_global_rate_limit(1, per_s=30.0)
    assert (await _raw_post(double, "uses the global allowance"))[0] == 200
    assert (await _raw_post(double, "refused"))[0] == 429

    await interaction.response.send_message("answered")
    await interaction.followup.send("followed up")

    assert handle.response_type == 4
    assert [m.content for m in handle.messages] == ["answered", "followed up"]


def test_the_global_limit_is_off_unless_configured() -> None:
    assert RateLimiter().check_global() is None
    assert DiscordDouble(DoubleConfig(global_rate_limit_per_s=50)).limiter.global_rule == RateLimitRule(
        50, 1.0
    )
