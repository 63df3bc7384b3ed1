"""/help: what the bot does and how to use it, in the member's language."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.texts import help_text
from cogs.translator import text


class Help(commands.Cog):
    @app_commands.command(name="help", description=text("command.help.description"))
    async def help(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(help_text(str(interaction.locale)), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Help())
