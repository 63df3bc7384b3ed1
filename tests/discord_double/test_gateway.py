"""The gateway's protocol as Discord speaks it: HELLO, IDENTIFY/READY, heartbeats, RESUME and refusals."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from discord_double import DiscordDouble

GUILDS_INTENT = 1
MESSAGE_CONTENT_INTENT = 1 << 15


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


async def _frame(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await ws.receive(timeout=5)
    assert message.type is aiohttp.WSMsgType.TEXT, message
    frame: dict[str, Any] = json.loads(message.data)
    return frame


async def _identify(ws: aiohttp.ClientWebSocketResponse, token: str, intents: int = GUILDS_INTENT) -> None:
    await ws.send_json({"op": 2, "d": {"token": token, "intents": intents, "properties": {}}})


async def test_hello_identify_ready_guild_create_and_heartbeat(
    discord_double: DiscordDouble, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(discord_double.gateway_url) as ws:
        hello = await _frame(ws)
        assert hello["op"] == 10
        assert hello["d"]["heartbeat_interval"] > 0
        await _identify(ws, discord_double.token)
        ready, guild = await _frame(ws), await _frame(ws)
        await ws.send_json({"op": 1, "d": 2})
        ack = await _frame(ws)

    assert (ready["t"], ready["s"]) == ("READY", 1)
    assert ready["d"]["resume_gateway_url"] == discord_double.gateway_url
    assert ready["d"]["user"]["id"] == str(discord_double.bot_user.id)
    assert ready["d"]["application"]["id"] == str(discord_double.application_id)
    assert ready["d"]["guilds"] == [{"id": str(discord_double.guild.id), "unavailable": True}]
    assert (guild["t"], guild["s"]) == ("GUILD_CREATE", 2)
    assert {c["name"] for c in guild["d"]["channels"]} == {"general", "animate"}
    assert guild["d"]["owner_id"] == str(discord_double.owner.id)
    assert ack["op"] == 11


async def test_a_wrong_token_closes_with_4004(
    discord_double: DiscordDouble, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(discord_double.gateway_url) as ws:
        await _frame(ws)
        await _identify(ws, "wrong")
        closing = await ws.receive(timeout=5)
    assert closing.type is aiohttp.WSMsgType.CLOSE
    assert closing.data == 4004


async def test_privileged_intents_close_with_4014(
    discord_double: DiscordDouble, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(discord_double.gateway_url) as ws:
        await _frame(ws)
        await _identify(ws, discord_double.token, GUILDS_INTENT | MESSAGE_CONTENT_INTENT)
        closing = await ws.receive(timeout=5)
    assert closing.data == 4014


async def test_resume_replays_missed_dispatches_then_resumed(
    discord_double: DiscordDouble, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(discord_double.gateway_url) as ws:
        await _frame(ws)
        await _identify(ws, discord_double.token)
        ready = await _frame(ws)
        await _frame(ws)
    await discord_double.wait_for(lambda: not discord_double.gateway.connected)
    await discord_double.gateway.dispatch("CHANNEL_UPDATE", {"id": "1"})

    async with session.ws_connect(ready["d"]["resume_gateway_url"]) as ws:
        await _frame(ws)
        resume = {"token": discord_double.token, "session_id": ready["d"]["session_id"], "seq": 1}
        await ws.send_json({"op": 6, "d": resume})
        frames = [await _frame(ws) for _ in range(3)]

    assert [(f["t"], f["s"]) for f in frames] == [("GUILD_CREATE", 2), ("CHANNEL_UPDATE", 3), ("RESUMED", 4)]
    assert isinstance(frames[-1]["d"], dict)


async def test_resuming_an_unknown_session_is_invalid(
    discord_double: DiscordDouble, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(discord_double.gateway_url) as ws:
        await _frame(ws)
        await ws.send_json({"op": 6, "d": {"token": discord_double.token, "session_id": "gone", "seq": 3}})
        answer = await _frame(ws)
    assert answer == {"op": 9, "d": False, "s": None, "t": None}


async def test_gateway_bot_names_the_double(
    discord_double: DiscordDouble, session: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": f"Bot {discord_double.token}"}
    async with session.get(discord_double.api_base + "/gateway/bot", headers=headers) as answer:
        assert answer.headers["Content-Type"] == "application/json"
        body = await answer.json()
    assert body["url"] == discord_double.gateway_url
    assert body["shards"] == 1
    assert body["session_start_limit"]["max_concurrency"] == 1
