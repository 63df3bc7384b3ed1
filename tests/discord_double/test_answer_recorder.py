"""Every REST answer of the double is recorded as sent, for the session's check against Discord's spec."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from discord_double import DiscordDouble, recorder


async def _send(double: DiscordDouble, method: str, path: str, body: Any = None) -> int:
    headers = {"Authorization": f"Bot {double.token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, double.api_base + path, json=body, headers=headers) as response,
    ):
        await response.read()
        return response.status


async def test_every_route_of_the_double_is_recorded_under_its_template(
    discord_double: DiscordDouble,
) -> None:
    routes = discord_double.rest.routes
    with recorder.collecting() as log:
        for route in routes:
            await _send(discord_double, route.method, re.sub(r"\{\w+\}", "1", route.template))

    assert [a.key for a in log.answers] == [route.key for route in routes]
    assert all(a.body and a.is_json for a in log.answers if a.status != 204)


async def test_an_answer_is_recorded_as_sent_even_if_the_message_changes_later(
    discord_double: DiscordDouble,
) -> None:
    channel = discord_double.channel.id
    with recorder.collecting() as log:
        await _send(discord_double, "POST", f"/channels/{channel}/messages", {"content": "first"})
        message = discord_double.messages(channel)[-1]
        await _send(
            discord_double, "PATCH", f"/channels/{channel}/messages/{message.id}", {"content": "second"}
        )

    created, edited = log.answers
    assert (created.key, created.status) == ("POST /channels/{channel_id}/messages", 200)
    assert created.json()["content"] == "first"
    assert edited.json()["content"] == "second"


async def test_unknown_routes_planted_faults_and_empty_answers_are_recorded(
    discord_double: DiscordDouble,
) -> None:
    channel = discord_double.channel.id
    discord_double.inject("GET /channels/{channel_id}", 503)
    discord_double.inject("GET /channels/{channel_id}", 429)
    with recorder.collecting() as log:
        await _send(discord_double, "GET", "/nowhere")
        await _send(discord_double, "PUT", f"/channels/{channel}")
        await _send(discord_double, "GET", f"/channels/{channel}")
        await _send(discord_double, "GET", f"/channels/{channel}")
        await _send(discord_double, "POST", f"/channels/{channel}/messages", {"content": "x"})
        message = discord_double.messages(channel)[-1]
        await _send(discord_double, "DELETE", f"/channels/{channel}/messages/{message.id}")

    seen = [(a.route, a.status, a.is_json) for a in log.answers]
    assert seen[:4] == [
        ("<unknown>", 404, True),
        ("<unknown>", 405, True),
        ("/channels/{channel_id}", 503, True),
        ("/channels/{channel_id}", 429, False),
    ]
    assert log.answers[3].body == b"error code: 1015"
    assert (log.answers[-1].status, log.answers[-1].body, log.answers[-1].json()) == (204, b"", None)


async def test_a_stopped_log_receives_nothing_more(discord_double: DiscordDouble) -> None:
    with recorder.collecting() as log:
        await _send(discord_double, "GET", "/users/@me")
    await _send(discord_double, "GET", "/users/@me")
    with recorder.collecting() as other:
        await _send(discord_double, "GET", "/gateway")

    assert [a.key for a in log.answers] == ["GET /users/@me"]
    assert [a.key for a in other.answers] == ["GET /gateway"]


async def test_stopping_one_log_leaves_another_that_began_alike_collecting(
    discord_double: DiscordDouble,
) -> None:
    outer = recorder.start_collecting()
    try:
        with recorder.collecting():
            await _send(discord_double, "GET", "/users/@me")
        await _send(discord_double, "GET", "/gateway")
    finally:
        recorder.stop_collecting(outer)

    assert [a.key for a in outer.answers] == ["GET /users/@me", "GET /gateway"]
