"""Turn the core's neutral :class:`bot.render.Card` into what discord.py sends."""

from __future__ import annotations

import discord

from bot.render import Card
from cogs.cancel_button import CancelButtonItem


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
    view.add_item(
        CancelButtonItem(job_id, label=card.cancel_button.label, enabled=card.cancel_button.enabled)
    )
    return view
