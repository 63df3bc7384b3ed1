"""The Cancel button on a job card: a persistent item whose ``custom_id`` carries the job id, so it answers
after restarts, and the translation of a press into the core's cancel."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

import discord

from bot import texts
from bot.access import Actor

if TYPE_CHECKING:
    from discord_app.bot import AnimateBot

log = logging.getLogger(__name__)

CANCEL_ID_PREFIX = "animate:cancel:"
CANCEL_ID_TEMPLATE = r"animate:cancel:(?P<job_id>[0-9a-f]{8})"


def actor_of(interaction: discord.Interaction) -> Actor:
    """The member who pressed, as plain facts: who, from which server, with which permissions and roles."""
    roles = getattr(interaction.user, "roles", ())
    return Actor(
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        permissions=frozenset(name for name, granted in interaction.permissions if granted),
        role_ids=frozenset(role.id for role in roles),
    )


async def handle_cancel_click(interaction: discord.Interaction, job_id: str) -> None:
    """Cancel the job as the member who pressed; whatever fails on the way, the member gets a private
    answer, never a "thinking…" that never ends."""
    try:
        await _cancel_as_pressed(interaction, job_id)
    except Exception:
        log.exception("job %s: handling a Cancel press failed", job_id)
        await answer_privately(interaction, texts.button_failed(str(interaction.locale)))


async def answer_privately(interaction: discord.Interaction, content: str) -> None:
    """Answer the interaction with an ephemeral message, as a followup when it was already answered."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True)
        else:
            await interaction.response.send_message(content, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not answer a button press (%s %s)", exc.status, exc.code)


async def _cancel_as_pressed(interaction: discord.Interaction, job_id: str) -> None:
    bot = cast("AnimateBot", interaction.client)
    locale = str(interaction.locale)
    actor = actor_of(interaction)
    refused = await bot.engine.scheduler.cancellation.refusal(job_id, actor)
    if refused is not None:
        await interaction.response.send_message(texts.cancel_outcome(locale, refused), ephemeral=True)
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    result = await bot.engine.scheduler.cancel(job_id, actor.user_id)
    await interaction.followup.send(texts.cancel_outcome(locale, result), ephemeral=True)


class CancelButtonItem(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CANCEL_ID_TEMPLATE):
    """The discord.py item for a card's :class:`bot.render.CancelButton`."""

    def __init__(self, job_id: str, *, label: str = "Cancel", enabled: bool = True) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.danger if enabled else discord.ButtonStyle.secondary,
                label=label,
                custom_id=f"{CANCEL_ID_PREFIX}{job_id}",
                disabled=not enabled,
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: Any,
        /,
    ) -> CancelButtonItem:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await handle_cancel_click(interaction, self.job_id)
