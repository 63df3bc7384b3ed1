"""/animate: translate between Discord and the core, nothing more (its button: cogs/cancel_button.py)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import texts
from bot.admission_desk import MemberRequest
from bot.input_check import check_animate_input, describe_all
from bot.jobs import INTERACTION_TOKEN_LIFETIME, ImageRef, Job, JobRequest, ReplyTarget
from bot.moderation.admission import Refused
from bot.moderation.messages import refusal_text
from client.models import DEFAULT_DURATION, DEFAULT_RESOLUTION, DURATIONS, PROMPT_MAX_CHARS, Resolution
from cogs.approval import post_approval_request
from cogs.automod_rules import AutoModRules
from cogs.cancel_button import CancelButtonItem
from cogs.translator import text

if TYPE_CHECKING:
    from discord_app.bot import AnimateBot

log = logging.getLogger(__name__)


def image_ref(attachment: discord.Attachment | None) -> ImageRef | None:
    if attachment is None:
        return None
    return ImageRef(
        url=attachment.url,
        filename=attachment.filename,
        content_type=attachment.content_type,
        width=attachment.width,
        height=attachment.height,
        size=attachment.size,
    )


def missing_channel_permissions(permissions: discord.Permissions, *, in_thread: bool) -> list[str]:
    """What the bot lacks here to keep a reply alive once the interaction token has died."""
    needed = texts.REQUIRED_THREAD_PERMISSIONS if in_thread else texts.REQUIRED_CHANNEL_PERMISSIONS
    return [name for name in needed if not getattr(permissions, name)]


def locale_of(interaction: discord.Interaction) -> str:
    return str(interaction.locale)


def role_ids_of(interaction: discord.Interaction) -> frozenset[int]:
    return frozenset(role.id for role in getattr(interaction.user, "roles", ()))


class Animate(commands.Cog):
    def __init__(self, bot: AnimateBot) -> None:
        self.bot = bot
        self.automod = AutoModRules(bot)

    @app_commands.command(name="animate", description=text("command.animate.description"))
    @app_commands.guild_only()
    @app_commands.describe(
        image=text("command.animate.image"),
        prompt=text("command.animate.prompt"),
        last_frame=text("command.animate.last_frame"),
        resolution=text("command.animate.resolution"),
        duration=text("command.animate.duration"),
    )
    @app_commands.choices(
        duration=[app_commands.Choice(name=text(f"command.animate.duration.{s}"), value=s) for s in DURATIONS]
    )
    async def animate(
        self,
        interaction: discord.Interaction,
        image: discord.Attachment,
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS],
        last_frame: discord.Attachment | None = None,
        resolution: Resolution = DEFAULT_RESOLUTION,
        duration: int = DEFAULT_DURATION,
    ) -> None:
        locale = locale_of(interaction)
        if interaction.guild_id is None or interaction.channel_id is None:
            await interaction.response.send_message(texts.guild_only(locale), ephemeral=True)
            return
        first, last = image_ref(image), image_ref(last_frame)
        check = check_animate_input(first, prompt, last, resolution, duration)
        if not check.ok or first is None:
            await interaction.response.send_message(describe_all(check, locale), ephemeral=True)
            return
        in_thread = isinstance(interaction.channel, discord.Thread)
        missing = missing_channel_permissions(interaction.app_permissions, in_thread=in_thread)
        if missing:
            await interaction.response.send_message(
                texts.missing_permissions(locale, missing), ephemeral=True
            )
            return
        guild_id, channel_id = interaction.guild_id, interaction.channel_id
        asked = MemberRequest(
            guild_id,
            channel_id,
            interaction.user.id,
            role_ids_of(interaction),
            prompt,
            resolution,
            duration,
            automod=await self.automod.for_guild(guild_id, interaction.app_permissions),
        )
        refused = await self.bot.engine.admission.check(asked)
        if isinstance(refused, Refused):
            await interaction.response.send_message(refusal_text(locale, refused), ephemeral=True)
            return
        await interaction.response.defer(thinking=True)
        request = JobRequest(
            prompt=prompt, image=first, last_frame=last, resolution=resolution, duration=duration
        )
        reply = ReplyTarget(
            application_id=interaction.application_id,
            interaction_token=interaction.token,
            token_expires_at=interaction.created_at + INTERACTION_TOKEN_LIFETIME,
            upload_limit=interaction.filesize_limit,
        )

        def new_job(job_id: str, now: datetime) -> Job:
            return Job(
                id=job_id,
                guild_id=guild_id,
                channel_id=channel_id,
                user_id=interaction.user.id,
                locale=locale,
                request=request,
                reply=reply,
                created_at=now,
                updated_at=now,
            )

        try:
            outcome = await self.bot.engine.admission.submit(asked, new_job)
        except Exception:
            log.exception("a job of user %s could not be stored", interaction.user.id)
            await interaction.edit_original_response(content=texts.service_unavailable(locale))
            return
        if isinstance(outcome, Refused):  # another request of this server was admitted in between
            await interaction.delete_original_response()
            await interaction.followup.send(refusal_text(locale, outcome), ephemeral=True)
            return
        job = outcome.job
        if outcome.admitted.needs_approval:
            await post_approval_request(self.bot, job)
        log.info("job %s queued for user %s in guild %s", job.id, job.user_id, job.guild_id)

    @animate.error
    async def animate_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        locale = locale_of(interaction)
        if isinstance(error, app_commands.CommandSignatureMismatch | app_commands.TransformerError):
            namespace = interaction.namespace
            check = check_animate_input(
                image_ref(getattr(namespace, "image", None)),
                getattr(namespace, "prompt", None),
                image_ref(getattr(namespace, "last_frame", None)),
                str(getattr(namespace, "resolution", None) or DEFAULT_RESOLUTION),
                int(getattr(namespace, "duration", None) or DEFAULT_DURATION),
            )
            if not check.ok:
                await answer_privately(interaction, describe_all(check, locale))
                return
        log.error("/animate failed", exc_info=error)
        await answer_privately(interaction, texts.service_unavailable(locale))


async def answer_privately(interaction: discord.Interaction, message: str) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(message, ephemeral=True)
    else:
        await interaction.response.send_message(message, ephemeral=True)


async def setup(bot: AnimateBot) -> None:
    bot.add_dynamic_items(CancelButtonItem)
    await bot.add_cog(Animate(bot))
