"""Point discord.py at another Discord API (the contract's ``DISCORD_API_BASE``)."""

from __future__ import annotations

import aiohttp
import discord.gateway
import discord.http
import yarl


class GatewayDiscoveryError(RuntimeError):
    pass


async def use_discord_api(base_url: str, token: str, session: aiohttp.ClientSession) -> str:
    """Send every REST call to ``base_url`` and connect to the gateway that server names.

    discord.py's non-sharded client never asks for its gateway, so the bot asks ``GET /gateway/bot`` itself.
    Returns the gateway URL.
    """
    base = base_url.rstrip("/")
    discord.http.Route.BASE = base
    timeout = aiohttp.ClientTimeout(total=15)
    try:
        async with session.get(
            f"{base}/gateway/bot", headers={"Authorization": f"Bot {token}"}, timeout=timeout
        ) as answer:
            if answer.status != 200:
                raise GatewayDiscoveryError(f"GET /gateway/bot answered HTTP {answer.status}")
            body = await answer.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise GatewayDiscoveryError(f"cannot reach DISCORD_API_BASE: {type(exc).__name__}") from None
    url = body.get("url") if isinstance(body, dict) else None
    if not isinstance(url, str) or not url:
        raise GatewayDiscoveryError("GET /gateway/bot answered without a gateway url")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
    return url
