"""Permission predicates shared by the cogs."""

from __future__ import annotations

import discord

from bot.jobs import Job


def is_moderator(permissions: discord.Permissions) -> bool:
    """Members who may act on other members' jobs: those who can manage messages or the server."""
    return permissions.manage_messages or permissions.manage_guild or permissions.administrator


def may_cancel(user_id: int, permissions: discord.Permissions, job: Job) -> bool:
    return user_id == job.user_id or is_moderator(permissions)
