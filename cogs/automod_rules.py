"""The server's own AutoMod keyword rules, read where the bot has Manage Server, for prompts to honour.

Rules are read once a minute at most per server (a busy server's burst of ``/animate`` is one read), and a
read Discord refuses leaves prompts to the bot's own blocked words."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.moderation.automod import PromptRules, rule_from_payload

if TYPE_CHECKING:
    from discord_app.bot import AnimateBot

log = logging.getLogger(__name__)

RULES_FRESH_S = 60.0


class AutoModRules:
    def __init__(self, bot: AnimateBot, *, fresh_s: float = RULES_FRESH_S) -> None:
        self._bot = bot
        self._fresh_s = fresh_s
        self._read: dict[int, tuple[float, PromptRules]] = {}

    async def for_guild(self, guild_id: int, bot_permissions: discord.Permissions) -> PromptRules | None:
        """The server's rules as prompts apply them; None when the bot may not read them."""
        if not bot_permissions.manage_guild:
            return None
        now = asyncio.get_running_loop().time()
        cached = self._read.get(guild_id)
        if cached is not None and now - cached[0] < self._fresh_s:
            return cached[1]
        try:
            payloads: list[Any] = list(await self._bot.http.get_auto_moderation_rules(guild_id))
        except discord.HTTPException as exc:
            log.warning("guild %s: AutoMod rules could not be read (HTTP %s)", guild_id, exc.status)
            return None
        rules = PromptRules(r for r in map(rule_from_payload, payloads) if r is not None)
        if rules.skipped:
            log.info(
                "guild %s: %d AutoMod patterns cannot be applied to prompts", guild_id, len(rules.skipped)
            )
        self._read[guild_id] = (now, rules)
        return rules
