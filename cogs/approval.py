"""Approval mode on Discord: the request in the log channel with Approve and Deny, and Deny's form.

The buttons are persistent items whose ``custom_id`` carries the job id; the core checks the presser's
rights on every press and every submitted form."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.jobs import Job
from bot.moderation import messages
from bot.moderation.audit import MAX_REASON_CHARS, log_line
from bot.moderation_actions import NotAModeratorError
from cogs.moderator_facts import moderator_of

if TYPE_CHECKING:
    from discord_app.bot import AnimateBot

log = logging.getLogger(__name__)

APPROVE_ID_TEMPLATE = r"animate:approve:(?P<job_id>[0-9a-f]{8})"
DENY_ID_TEMPLATE = r"animate:deny:(?P<job_id>[0-9a-f]{8})"
DENY_FORM_ID = re.compile(r"animate:deny-form:(?P<job_id>[0-9a-f]{8})")
NO_MENTIONS = discord.AllowedMentions.none()


def _server_locale(bot: AnimateBot, guild_id: int) -> str | None:
    guild = bot.get_guild(guild_id)
    return str(guild.preferred_locale) if guild is not None else None


async def post_approval_request(bot: AnimateBot, job: Job) -> None:
    """Ask the server's moderators, in its log channel, to approve or deny ``job``."""
    log_channel = (await bot.engine.moderation.settings(job.guild_id)).log_channel
    if log_channel is None:
        log.warning("job %s waits for approval but guild %s has no log channel", job.id, job.guild_id)
        return
    locale = _server_locale(bot, job.guild_id)
    approve, deny = messages.approval_labels(locale)
    view = discord.ui.View(timeout=None)
    view.add_item(ApproveItem(job.id, label=approve))
    view.add_item(DenyItem(job.id, label=deny))
    picture = discord.Embed().set_image(url=job.request.image.url)
    channel = bot.get_partial_messageable(log_channel, guild_id=job.guild_id)
    try:
        await channel.send(
            messages.approval_request(locale, job), embed=picture, view=view, allowed_mentions=NO_MENTIONS
        )
    except discord.HTTPException as exc:
        log.warning("job %s: the approval request could not be posted (HTTP %s)", job.id, exc.status)


async def _closed(interaction: discord.Interaction, line: str) -> None:
    """Show the decision under the request and take its buttons away."""
    request = interaction.message.content if interaction.message is not None else ""
    await interaction.response.edit_message(
        content=f"{request}\n{line}", view=None, allowed_mentions=NO_MENTIONS
    )


async def handle_approve(interaction: discord.Interaction, job_id: str) -> None:
    bot = cast("AnimateBot", interaction.client)
    locale = str(interaction.locale)
    if interaction.guild_id is None:
        await interaction.response.send_message(messages.moderator_only(locale), ephemeral=True)
        return
    try:
        entry = await bot.engine.moderation.approve(moderator_of(interaction), job_id)
    except NotAModeratorError:
        await interaction.response.send_message(messages.moderator_only(locale), ephemeral=True)
        return
    if entry is None:
        await interaction.response.send_message(messages.no_longer_waiting(locale), ephemeral=True)
        return
    await _closed(interaction, log_line(_server_locale(bot, entry.guild_id), entry))


async def handle_deny_press(interaction: discord.Interaction, job_id: str) -> None:
    bot = cast("AnimateBot", interaction.client)
    locale = str(interaction.locale)
    if interaction.guild_id is None or not await bot.engine.moderation.may_moderate(
        moderator_of(interaction)
    ):
        await interaction.response.send_message(messages.moderator_only(locale), ephemeral=True)
        return
    await interaction.response.send_modal(DenyForm(job_id, locale))


class DenyForm(discord.ui.Modal):
    """Asks the moderator why; :func:`handle_deny_form` carries the reason back to the member."""

    def __init__(self, job_id: str, locale: str) -> None:
        title, label = messages.deny_form(locale)
        super().__init__(title=title, custom_id=f"animate:deny-form:{job_id}", timeout=None)
        self.job_id = job_id
        self.reason: discord.ui.TextInput[DenyForm] = discord.ui.TextInput(
            label=label,
            custom_id="reason",
            style=discord.TextStyle.paragraph,
            max_length=MAX_REASON_CHARS,
            required=True,
        )
        self.add_item(self.reason)


def _reason_of(data: Any) -> str:
    """The text of the form's ``reason`` input in a MODAL_SUBMIT's data (empty when missing)."""
    rows = data.get("components") if isinstance(data, dict) else None
    for row in rows if isinstance(rows, list) else []:
        inputs = row.get("components") if isinstance(row, dict) else None
        for field in inputs if isinstance(inputs, list) else []:
            if isinstance(field, dict) and field.get("custom_id") == "reason":
                return str(field.get("value") or "")
    return ""


async def handle_deny_form(interaction: discord.Interaction) -> None:
    """A submitted Deny form, found by its ``custom_id`` (so it still counts when submitted after a
    restart, or before discord.py registered the form it sent)."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return
    data: dict[str, Any] = dict(interaction.data or {})
    found = DENY_FORM_ID.fullmatch(str(data.get("custom_id", "")))
    if found is None:
        return
    bot = cast("AnimateBot", interaction.client)
    locale = str(interaction.locale)
    reason = _reason_of(data)[:MAX_REASON_CHARS]
    if interaction.guild_id is None:
        await interaction.response.send_message(messages.moderator_only(locale), ephemeral=True)
        return
    try:
        denied = await bot.engine.moderation.deny(moderator_of(interaction), found["job_id"], reason)
    except NotAModeratorError:
        await interaction.response.send_message(messages.moderator_only(locale), ephemeral=True)
        return
    if denied is None:
        await interaction.response.send_message(messages.no_longer_waiting(locale), ephemeral=True)
        return
    entry, job = denied
    await _closed(interaction, log_line(_server_locale(bot, entry.guild_id), entry))
    await bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id).send(
        messages.denied_notice(job.locale, job, reason),
        allowed_mentions=discord.AllowedMentions(
            users=[discord.Object(job.user_id)], roles=False, everyone=False
        ),
    )


class ApproveItem(discord.ui.DynamicItem[discord.ui.Button[Any]], template=APPROVE_ID_TEMPLATE):
    def __init__(self, job_id: str, *, label: str = "Approve") -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.success, label=label, custom_id=f"animate:approve:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> ApproveItem:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await handle_approve(interaction, self.job_id)


class DenyItem(discord.ui.DynamicItem[discord.ui.Button[Any]], template=DENY_ID_TEMPLATE):
    def __init__(self, job_id: str, *, label: str = "Deny") -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.danger, label=label, custom_id=f"animate:deny:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> DenyItem:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await handle_deny_press(interaction, self.job_id)
