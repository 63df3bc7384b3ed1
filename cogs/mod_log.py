"""The server's log channel: every recorded moderator action posted there, when one is set."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.moderation.audit import AuditEntry, log_line
from bot.tasks import TaskSet

if TYPE_CHECKING:
    from discord_app.bot import AnimateBot

log = logging.getLogger(__name__)


class ModLog:
    """An :class:`bot.moderation_actions.AuditListener` that posts each entry, mentions disabled."""

    def __init__(self, bot: AnimateBot) -> None:
        self._bot = bot
        self._posts = TaskSet()

    def action_recorded(self, entry: AuditEntry) -> None:
        self._posts.start(self._post(entry), name=f"mod-log-{entry.guild_id}")

    async def _post(self, entry: AuditEntry) -> None:
        settings = await self._bot.engine.moderation.settings(entry.guild_id)
        if settings.log_channel is None:
            return
        guild = self._bot.get_guild(entry.guild_id)
        locale = str(guild.preferred_locale) if guild is not None else None
        channel = self._bot.get_partial_messageable(settings.log_channel, guild_id=entry.guild_id)
        try:
            await channel.send(log_line(locale, entry), allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.warning("guild %s: the log channel refused an entry: %s", entry.guild_id, exc.status)
