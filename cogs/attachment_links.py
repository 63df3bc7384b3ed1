"""Renew Discord's signed attachment URLs (``POST /attachments/refresh-urls``)."""

from __future__ import annotations

from typing import Any

import discord
from discord.http import Route


async def refresh_attachment_urls(bot: discord.Client, urls: list[str]) -> dict[str, str]:
    """Fresh links for ``urls``, keyed by the original; a URL Discord did not renew is left out."""
    answer: Any = await bot.http.request(
        Route("POST", "/attachments/refresh-urls"), json={"attachment_urls": urls}
    )
    renewed = answer.get("refreshed_urls", []) if isinstance(answer, dict) else []
    return {
        item["original"]: item["refreshed"]
        for item in renewed
        if isinstance(item, dict)
        and isinstance(item.get("original"), str)
        and isinstance(item.get("refreshed"), str)
    }
