"""Who may act on a job, decided from plain facts about the member and where they clicked."""

from __future__ import annotations

from dataclasses import dataclass

from bot.jobs import Job

MODERATOR_PERMISSIONS = frozenset({"manage_messages", "manage_guild", "administrator"})
"""Members holding any of these may act on other members' jobs."""


@dataclass(frozen=True, slots=True)
class Actor:
    """A member acting on a job, as the Discord adapter saw them."""

    user_id: int
    guild_id: int | None
    """The server the click or command came from; None outside any server."""
    permissions: frozenset[str]
    """The names of the member's permission flags set there (Discord's names, such as ``manage_guild``)."""
    role_ids: frozenset[int] = frozenset()


def is_moderator(actor: Actor) -> bool:
    return not MODERATOR_PERMISSIONS.isdisjoint(actor.permissions)


def belongs_here(job: Job, actor: Actor) -> bool:
    """The job was asked for in the server the actor acts from."""
    return actor.guild_id is not None and actor.guild_id == job.guild_id


def may_cancel(actor: Actor, job: Job) -> bool:
    """Its requester or a moderator, acting from the job's own server."""
    return belongs_here(job, actor) and (actor.user_id == job.user_id or is_moderator(actor))
