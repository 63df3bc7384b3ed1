"""The Cancel button translates a press into the plain facts the core decides on, and carries its job id."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import cast

import discord

from bot.access import MODERATOR_PERMISSIONS, is_moderator
from cogs.cancel_button import CANCEL_ID_TEMPLATE, CancelButtonItem, actor_of


def press(
    *, user_id: int, guild_id: int | None, permissions: discord.Permissions, roles: tuple[int, ...] = ()
) -> discord.Interaction:
    user = SimpleNamespace(id=user_id, roles=[SimpleNamespace(id=role) for role in roles])
    return cast(discord.Interaction, SimpleNamespace(user=user, guild_id=guild_id, permissions=permissions))


def test_a_press_becomes_who_where_which_permissions_and_roles() -> None:
    actor = actor_of(
        press(user_id=7, guild_id=1, permissions=discord.Permissions(send_messages=True), roles=(5, 6))
    )
    assert (actor.user_id, actor.guild_id, actor.role_ids) == (7, 1, frozenset({5, 6}))
    assert "send_messages" in actor.permissions
    assert "manage_guild" not in actor.permissions
    assert not is_moderator(actor)


def test_every_moderator_permission_the_core_names_is_a_discord_flag() -> None:
    for name in MODERATOR_PERMISSIONS:
        actor = actor_of(press(user_id=8, guild_id=1, permissions=discord.Permissions(**{name: True})))
        assert is_moderator(actor), name


def test_a_press_from_a_direct_message_has_no_server() -> None:
    assert actor_of(press(user_id=7, guild_id=None, permissions=discord.Permissions.none())).guild_id is None


def test_the_button_carries_its_job_id_in_a_custom_id_its_template_reads_back() -> None:
    item = CancelButtonItem("0123abcd", label="Cancel")
    match = re.fullmatch(CANCEL_ID_TEMPLATE, item.item.custom_id or "")
    assert match is not None
    assert match["job_id"] == "0123abcd"
