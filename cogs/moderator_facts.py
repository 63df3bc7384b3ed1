"""Who acts on a moderator command or button, read from the interaction as plain facts for the core."""

from __future__ import annotations

import discord

from bot.moderation_actions import Moderator


def moderator_of(interaction: discord.Interaction) -> Moderator:
    """The member's computed permission bits and roles where they acted (only called in a server)."""
    assert interaction.guild_id is not None
    roles = getattr(interaction.user, "roles", ())
    return Moderator(
        interaction.guild_id,
        interaction.user.id,
        interaction.permissions.value,
        frozenset(role.id for role in roles),
    )
