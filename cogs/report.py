"""The Report button on a finished video, and the Remove button its report carries in the log channel.

Both are persistent items whose ``custom_id`` carries the job id, so they answer after restarts. Who may
remove is decided by the core on every press: a forged ``custom_id`` gains nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import discord

from bot.jobs import Job
from bot.moderation import messages
from bot.moderation_actions import NotAModeratorError
from cogs.moderator_facts import moderator_of

if TYPE_CHECKING:
    from discord_app.bot import AnimateBot

REPORT_ID_TEMPLATE = r"animate:report:(?P<job_id>[0-9a-f]{8})"
REMOVE_ID_TEMPLATE = r"animate:remove:(?P<job_id>[0-9a-f]{8})"
NO_MENTIONS = discord.AllowedMentions.none()


def video_link(job: Job) -> str:
    message_id = job.reply.fallback_message_id or job.reply.message_id
    return f"https://discord.com/channels/{job.guild_id}/{job.channel_id}/{message_id}"


def report_view(job_id: str, locale: str) -> discord.ui.View:
    """The view of a delivered job's reply: its Report button."""
    view = discord.ui.View(timeout=None)
    view.add_item(ReportButtonItem(job_id, label=messages.report_button_label(locale)))
    return view


def _server_locale(bot: AnimateBot, guild_id: int) -> str | None:
    guild = bot.get_guild(guild_id)
    return str(guild.preferred_locale) if guild is not None else None


async def handle_report(interaction: discord.Interaction, job_id: str) -> None:
    bot = cast("AnimateBot", interaction.client)
    locale = str(interaction.locale)
    found = None
    if interaction.guild_id is not None:
        found = await bot.engine.moderation.reported_video(interaction.guild_id, job_id)
    if found is None:
        await interaction.response.send_message(messages.video_gone(locale), ephemeral=True)
        return
    job, log_channel = found
    if log_channel is None:
        await interaction.response.send_message(messages.report_without_log_channel(locale), ephemeral=True)
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    server_locale = _server_locale(bot, job.guild_id)
    view = discord.ui.View(timeout=None)
    view.add_item(RemoveVideoItem(job.id, label=messages.remove_button_label(server_locale)))
    channel = bot.get_partial_messageable(log_channel, guild_id=job.guild_id)
    await channel.send(
        messages.report_post(server_locale, interaction.user.id, job.id, video_link(job)),
        view=view,
        allowed_mentions=NO_MENTIONS,
    )
    await interaction.edit_original_response(content=messages.report_sent(locale))


async def handle_remove(interaction: discord.Interaction, job_id: str) -> None:
    bot = cast("AnimateBot", interaction.client)
    locale = str(interaction.locale)
    if interaction.guild_id is None:
        await interaction.response.send_message(messages.moderator_only(locale), ephemeral=True)
        return

    async def delete(job: Job) -> bool:
        message_id = job.reply.fallback_message_id or job.reply.message_id
        if message_id is None:
            return False
        try:
            await bot.get_partial_messageable(job.channel_id).get_partial_message(message_id).delete()
        except discord.NotFound:
            return False
        return True

    try:
        entry = await bot.engine.moderation.remove_video(moderator_of(interaction), job_id, delete)
    except NotAModeratorError:
        await interaction.response.send_message(messages.moderator_only(locale), ephemeral=True)
        return
    if entry is None:
        await interaction.response.send_message(messages.video_gone(locale), ephemeral=True)
        return
    report = interaction.message.content if interaction.message is not None else ""
    removed = messages.video_removed(_server_locale(bot, entry.guild_id), entry.moderator_id)
    await interaction.response.edit_message(
        content=f"{report}\n{removed}", view=None, allowed_mentions=NO_MENTIONS
    )


class ReportButtonItem(discord.ui.DynamicItem[discord.ui.Button[Any]], template=REPORT_ID_TEMPLATE):
    def __init__(self, job_id: str, *, label: str = "Report") -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary, label=label, custom_id=f"animate:report:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> ReportButtonItem:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await handle_report(interaction, self.job_id)


class RemoveVideoItem(discord.ui.DynamicItem[discord.ui.Button[Any]], template=REMOVE_ID_TEMPLATE):
    def __init__(self, job_id: str, *, label: str = "Remove") -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.danger, label=label, custom_id=f"animate:remove:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> RemoveVideoItem:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await handle_remove(interaction, self.job_id)
