"""/mod: the moderators' commands. Each reads the interaction into plain facts, asks
:class:`bot.moderation_actions.ModerationActions` (which checks again that the member may moderate), and
answers privately. Discord hides the command from members without Manage Server; that is no proof."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.cancellation import CancelResult
from bot.moderation import messages
from bot.moderation.audit import MAX_REASON_CHARS, ModAction, TargetKind
from bot.moderation.server_settings import (
    MAX_COOLDOWN_S,
    MODERATOR_SETTINGS,
    UNSETTABLE,
    ServerSettings,
    SettingError,
    SettingProblem,
)
from bot.moderation_actions import MAX_BLOCK_HOURS, Moderator, NotAModeratorError, SettingsChange
from bot.texts import cancel_outcome
from client.models import DURATIONS, Resolution
from cogs.approval import ApproveItem, DenyItem, handle_deny_form, post_approval_request
from cogs.mod_log import ModLog
from cogs.moderator_facts import moderator_of
from cogs.report import RemoveVideoItem, ReportButtonItem
from cogs.translator import text

if TYPE_CHECKING:
    from bot.moderation_actions import ModerationActions
    from discord_app.bot import AnimateBot

Reason = app_commands.Range[str, 1, MAX_REASON_CHARS]
JobId = app_commands.Range[str, 1, 32]
AUTOCOMPLETE_CHOICES = 25
ALLOWED_MARK = {True: "✓", False: "✗"}


async def answer(interaction: discord.Interaction, content: str) -> None:
    if interaction.response.is_done():
        await interaction.edit_original_response(
            content=content, allowed_mentions=discord.AllowedMentions.none()
        )
    else:
        await interaction.response.send_message(
            content, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )


def setting_change(name: str, value: object) -> SettingsChange:
    """The change ``/mod settings`` makes, checked against the settings as stored when it is applied:
    approval mode never ends up on without a log channel, whatever another moderator did meanwhile."""

    def change(kept: ServerSettings) -> ServerSettings:
        changed = kept.with_setting(name, value)
        if changed.approval and changed.log_channel is None:
            raise SettingError(name, SettingProblem.NEEDS_LOG_CHANNEL)
        return changed

    return change


class Mod(commands.Cog):
    mod = app_commands.Group(
        name="mod",
        description=text("command.mod.description"),
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: AnimateBot) -> None:
        self.bot = bot

    @property
    def actions(self) -> ModerationActions:
        return self.bot.engine.moderation

    async def _as_moderator(
        self, interaction: discord.Interaction, work: Callable[[Moderator, str], Awaitable[str]]
    ) -> None:
        """Run ``work`` for a moderator and answer privately with what it returns; anyone else is told
        who may."""
        locale = str(interaction.locale)
        moderator = moderator_of(interaction)
        if not await self.actions.may_moderate(moderator):
            await answer(interaction, messages.moderator_only(locale))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            reply = await work(moderator, locale)
        except NotAModeratorError:
            reply = messages.moderator_only(locale)
        except SettingError as error:
            reply = messages.setting_error_text(locale, error)
        await answer(interaction, reply)

    async def _job_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """This server's waiting jobs whose id starts with what was typed (for moderators only)."""
        if interaction.guild_id is None or not await self.actions.may_moderate(moderator_of(interaction)):
            return []
        jobs = await self.actions.waiting_jobs(interaction.guild_id)
        typed = current.strip().lower()
        return [
            app_commands.Choice(name=f"{job.id} · {job.request.prompt[:60]}", value=job.id)
            for job in jobs
            if job.id.startswith(typed)
        ][:AUTOCOMPLETE_CHOICES]

    @mod.command(name="pause", description=text("command.mod.pause.description"))
    @app_commands.describe(reason=text("command.mod.reason"))
    async def pause(self, interaction: discord.Interaction, reason: Reason | None = None) -> None:
        async def work(moderator: Moderator, locale: str) -> str:
            return messages.action_done(locale, await self.actions.pause(moderator, reason))

        await self._as_moderator(interaction, work)

    @mod.command(name="resume", description=text("command.mod.resume.description"))
    async def resume(self, interaction: discord.Interaction) -> None:
        async def work(moderator: Moderator, locale: str) -> str:
            return messages.action_done(locale, await self.actions.resume(moderator))

        await self._as_moderator(interaction, work)

    @mod.command(name="clear", description=text("command.mod.clear.description"))
    @app_commands.describe(reason=text("command.mod.reason"))
    async def clear(self, interaction: discord.Interaction, reason: Reason | None = None) -> None:
        async def work(moderator: Moderator, locale: str) -> str:
            return messages.action_done(locale, await self.actions.clear(moderator, reason))

        await self._as_moderator(interaction, work)

    @mod.command(name="cancel", description=text("command.mod.cancel.description"))
    @app_commands.describe(job=text("command.mod.job"), reason=text("command.mod.reason"))
    async def cancel(
        self, interaction: discord.Interaction, job: JobId, reason: Reason | None = None
    ) -> None:
        async def work(moderator: Moderator, locale: str) -> str:
            result, entry = await self.actions.cancel(moderator, job.strip().lower(), reason)
            if result is CancelResult.NOT_FOUND:
                return messages.no_such_job(locale, job)
            outcome = cancel_outcome(locale, result)
            return outcome if entry is None else f"{messages.action_done(locale, entry)}\n{outcome}"

        await self._as_moderator(interaction, work)

    @mod.command(name="front", description=text("command.mod.front.description"))
    @app_commands.describe(job=text("command.mod.job"))
    async def front(self, interaction: discord.Interaction, job: JobId) -> None:
        async def work(moderator: Moderator, locale: str) -> str:
            entry = await self.actions.front(moderator, job.strip().lower())
            return messages.no_such_job(locale, job) if entry is None else messages.action_done(locale, entry)

        await self._as_moderator(interaction, work)

    @cancel.autocomplete("job")
    @front.autocomplete("job")
    async def job_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._job_choices(interaction, current)

    @mod.command(name="block", description=text("command.mod.block.description"))
    @app_commands.describe(
        member=text("command.mod.member"),
        hours=text("command.mod.block.hours"),
        reason=text("command.mod.reason"),
    )
    async def block(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        hours: app_commands.Range[int, 1, MAX_BLOCK_HOURS] | None = None,
        reason: Reason | None = None,
    ) -> None:
        async def work(moderator: Moderator, locale: str) -> str:
            entry, until = await self.actions.block(moderator, member.id, hours, reason)
            return messages.block_done(locale, entry, until)

        await self._as_moderator(interaction, work)

    @mod.command(name="unblock", description=text("command.mod.unblock.description"))
    @app_commands.describe(member=text("command.mod.member"))
    async def unblock(self, interaction: discord.Interaction, member: discord.Member) -> None:
        async def work(moderator: Moderator, locale: str) -> str:
            entry = await self.actions.unblock(moderator, member.id)
            return (
                messages.not_blocked(locale, member.id)
                if entry is None
                else messages.action_done(locale, entry)
            )

        await self._as_moderator(interaction, work)

    @mod.command(name="settings", description=text("command.mod.settings.description"))
    @app_commands.describe(
        **{name: text(f"command.mod.settings.{name}") for name in MODERATOR_SETTINGS},
        unset=text("command.mod.settings.unset"),
    )
    @app_commands.choices(
        max_duration=[
            app_commands.Choice(name=text(f"command.animate.duration.{s}"), value=s) for s in DURATIONS
        ]
    )
    @app_commands.choices(
        unset=[
            app_commands.Choice(name=text(f"command.mod.settings.unset.{name}"), value=name)
            for name in UNSETTABLE
        ]
    )
    async def settings(
        self,
        interaction: discord.Interaction,
        member_active: app_commands.Range[int, 0, 100] | None = None,
        member_daily: app_commands.Range[int, 0, 1000] | None = None,
        cooldown_s: app_commands.Range[int, 0, MAX_COOLDOWN_S] | None = None,
        queue_max: app_commands.Range[int, 0, 1000] | None = None,
        max_resolution: Resolution | None = None,
        max_duration: int | None = None,
        daily_budget: app_commands.Range[int, 0, 100_000] | None = None,
        approval: bool | None = None,
        log_channel: discord.TextChannel | None = None,
        moderator_role: discord.Role | None = None,
        unset: str | None = None,
    ) -> None:
        given: dict[str, object] = {
            "member_active": member_active,
            "member_daily": member_daily,
            "cooldown_s": cooldown_s,
            "queue_max": queue_max,
            "max_resolution": max_resolution,
            "max_duration": max_duration,
            "daily_budget": daily_budget,
            "approval": approval,
            "log_channel": log_channel.id if log_channel is not None else None,
            "moderator_role": moderator_role.id if moderator_role is not None else None,
        }
        changes = {name: value for name, value in given.items() if value is not None}

        async def work(moderator: Moderator, locale: str) -> str:
            if not changes and unset is None:
                return messages.settings_text(locale, await self.actions.settings(moderator.guild_id))
            if unset in changes:
                return messages.set_and_unset(locale, unset)
            kept = await self.actions.settings(moderator.guild_id)
            turns_approval_on = changes.get("approval") is True and not kept.approval
            approval_after = changes.get("approval", kept.approval) is True
            log_channel_after = (
                None if unset == "log_channel" else changes.get("log_channel") or kept.log_channel
            )
            if approval_after and log_channel_after is None:
                return messages.approval_needs_log_channel(locale)
            lines = []
            # The log channel first: a job admitted in approval mode needs it for its request.
            for name, value in sorted(changes.items(), key=lambda change: change[0] != "log_channel"):
                entry = await self.actions.change_settings(
                    moderator,
                    setting_change(name, value),
                    ModAction.SETTING,
                    TargetKind.SETTING,
                    name,
                    detail=str(value),
                )
                lines.append(messages.action_done(locale, entry))
            if unset is not None:
                entry = await self.actions.change_settings(
                    moderator, setting_change(unset, None), ModAction.UNSET, TargetKind.SETTING, unset
                )
                lines.append(messages.action_done(locale, entry))
            if turns_approval_on:
                await self._ask_approval_for_waiting_jobs(moderator.guild_id)
            return "\n".join(lines)

        await self._as_moderator(interaction, work)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await handle_deny_form(interaction)

    async def _ask_approval_for_waiting_jobs(self, guild_id: int) -> None:
        """Jobs already waiting when approval mode starts wait for it too; each gets its request."""
        held = await self.bot.engine.scheduler.awaiting_approval()
        for job in await self.actions.waiting_jobs(guild_id):
            if job.id in held:
                await post_approval_request(self.bot, job)

    @mod.command(name="channels", description=text("command.mod.channels.description"))
    @app_commands.describe(channel=text("command.mod.channels.channel"), allowed=text("command.mod.allowed"))
    async def channels(
        self, interaction: discord.Interaction, channel: discord.TextChannel, allowed: bool
    ) -> None:
        async def work(moderator: Moderator, locale: str) -> str:
            entry = await self.actions.change_settings(
                moderator,
                lambda kept: kept.with_channel(channel.id, allowed=allowed),
                ModAction.CHANNEL,
                TargetKind.CHANNEL,
                str(channel.id),
                detail=ALLOWED_MARK[allowed],
            )
            return messages.action_done(locale, entry)

        await self._as_moderator(interaction, work)

    @mod.command(name="roles", description=text("command.mod.roles.description"))
    @app_commands.describe(role=text("command.mod.roles.role"), allowed=text("command.mod.allowed"))
    async def roles(self, interaction: discord.Interaction, role: discord.Role, allowed: bool) -> None:
        async def work(moderator: Moderator, locale: str) -> str:
            entry = await self.actions.change_settings(
                moderator,
                lambda kept: kept.with_role(role.id, allowed=allowed),
                ModAction.ROLE,
                TargetKind.ROLE,
                str(role.id),
                detail=ALLOWED_MARK[allowed],
            )
            return messages.action_done(locale, entry)

        await self._as_moderator(interaction, work)

    @mod.command(name="words", description=text("command.mod.words.description"))
    @app_commands.describe(action=text("command.mod.words.action"), word=text("command.mod.words.word"))
    @app_commands.choices(
        action=[
            app_commands.Choice(name=text(f"command.mod.words.action.{choice}"), value=choice)
            for choice in ("add", "remove", "list")
        ]
    )
    async def words(
        self,
        interaction: discord.Interaction,
        action: str,
        word: app_commands.Range[str, 1, 60] | None = None,
    ) -> None:
        async def work(moderator: Moderator, locale: str) -> str:
            if action == "list":
                settings = await self.actions.settings(moderator.guild_id)
                return messages.words_text(locale, settings.blocked_words)
            if word is None:
                return messages.word_missing(locale)
            adding = action == "add"
            entry = await self.actions.change_settings(
                moderator,
                (lambda kept: kept.with_word(word)) if adding else (lambda kept: kept.without_word(word)),
                ModAction.WORD,
                detail=("+ " if adding else "− ") + word,
            )
            return messages.action_done(locale, entry)

        await self._as_moderator(interaction, work)


async def setup(bot: AnimateBot) -> None:
    bot.add_dynamic_items(ReportButtonItem, RemoveVideoItem, ApproveItem, DenyItem)
    bot.engine.moderation.add_listener(ModLog(bot))
    await bot.add_cog(Mod(bot))
