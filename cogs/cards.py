"""Turn the core's neutral :class:`bot.render.Card` into what discord.py sends."""

from __future__ import annotations

from typing import Any

import discord

from bot.render import Card

CANCEL_ID_PREFIX = "animate:cancel:"
CANCEL_ID_TEMPLATE = r"animate:cancel:(?P<job_id>[0-9a-f]{8})"


class CancelButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CANCEL_ID_TEMPLATE):
    """The Cancel button on a job card. Its ``custom_id`` carries the job id, so it works after restarts."""

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
    ) -> CancelButton:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        from cogs.animate import handle_cancel_click

        await handle_cancel_click(interaction, self.job_id)


def to_embed(card: Card) -> discord.Embed:
    embed = discord.Embed(title=card.title, description=card.description, colour=card.color)
    for field in card.fields:
        embed.add_field(name=field.name, value=field.value, inline=field.inline)
    if card.thumbnail_url:
        embed.set_thumbnail(url=card.thumbnail_url)
    embed.set_footer(text=card.footer)
    return embed


def to_view(job_id: str, card: Card) -> discord.ui.View | None:
    if card.cancel_button is None:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id, label=card.cancel_button.label, enabled=card.cancel_button.enabled))
    return view
