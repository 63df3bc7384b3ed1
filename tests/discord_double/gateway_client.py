"""A bare gateway client for tests: IDENTIFY (optionally on a shard) and collect every dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from discord_double import DiscordDouble

GUILDS = 1
GUILD_MESSAGES = 1 << 9
AUTO_MODERATION_CONFIGURATION = 1 << 20


@dataclass
class RawSession:
    """One connection: the dispatches it got, and the close code if the gateway closed it."""

    ws: aiohttp.ClientWebSocketResponse
    events: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e["d"] for e in self.events if e.get("t") == event]


@contextlib.asynccontextmanager
async def connect(
    double: DiscordDouble, *, intents: int = GUILDS, shard: list[Any] | None = None
) -> AsyncIterator[RawSession]:
    async with aiohttp.ClientSession() as http, http.ws_connect(double.gateway_url) as ws:
        session = RawSession(ws)
        await ws.receive_json(timeout=5)  # HELLO
        identify: dict[str, Any] = {"token": double.token, "intents": intents, "properties": {}}
        if shard is not None:
            identify["shard"] = shard
        await ws.send_json({"op": 2, "d": identify})

        async def read() -> None:
            async for message in ws:
                if message.type is aiohttp.WSMsgType.TEXT:
                    session.events.append(json.loads(message.data))
                    await double.poke()
            session.close_code = ws.close_code
            await double.poke()

        reader = asyncio.create_task(read())
        try:
            yield session
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
