"""/queue: this server's queue for everyone, with the viewer's own usage, all shown privately."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import texts
from bot.moderation.messages import queue_page_text, usage_text
from bot.moderation.queue_listing import page_of_own_job, paginate
from cogs.translator import text

if TYPE_CHECKING:
    from discord_app.bot import AnimateBot

MAX_PAGE = 100


class Queue(commands.Cog):
    def __init__(self, bot: AnimateBot) -> None:
        self.bot = bot

    @app_commands.command(name="queue", description=text("command.queue.description"))
    @app_commands.guild_only()
    @app_commands.describe(page=text("command.queue.page"))
    async def queue(
        self, interaction: discord.Interaction, page: app_commands.Range[int, 1, MAX_PAGE] | None = None
    ) -> None:
        locale = str(interaction.locale)
        if interaction.guild_id is None:
            await interaction.response.send_message(texts.guild_only(locale), ephemeral=True)
            return
        rows, usage = await self.bot.engine.admission.queue_of(interaction.guild_id, interaction.user.id)
        shown = paginate(rows, page or page_of_own_job(rows))
        usage_card = discord.Embed(description=usage_text(locale, usage, self.bot.engine.writer.clock()))
        await interaction.response.send_message(
            queue_page_text(locale, shown),
            embed=usage_card,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def setup(bot: AnimateBot) -> None:
    await bot.add_cog(Queue(bot))
