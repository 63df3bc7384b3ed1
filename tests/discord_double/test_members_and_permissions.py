"""Members hold roles; their permissions are computed as Discord does and sent with every interaction."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import Permissions

from discord_double import DiscordDouble, DoubleError
from tests.discord_double.conftest import ProbeBot

SEND = Permissions(send_messages=True).value
MANAGE_MESSAGES = Permissions(manage_messages=True).value
MANAGE_GUILD = Permissions(manage_guild=True).value


def test_roles_add_their_bits_and_administrator_grants_everything(discord_double: DiscordDouble) -> None:
    double = discord_double
    mods = double.add_role("mods", MANAGE_GUILD)
    admins = double.add_role("admins", Permissions(administrator=True).value)
    alice = double.add_user("alice", roles=[mods])
    bob = double.add_user("bob")

    assert double.permissions_of(alice) & MANAGE_GUILD
    assert not double.permissions_of(bob) & MANAGE_GUILD
    assert double.roles_of(alice) == [mods]
    double.assign_roles(bob, admins)
    assert double.permissions_of(bob) == Permissions.all().value
    double.remove_roles(bob, admins)
    assert double.permissions_of(bob) == double.guild.everyone.permissions
    assert double.permissions_of(double.owner) == Permissions.all().value


def test_channel_overwrites_apply_in_discords_order(discord_double: DiscordDouble) -> None:
    double = discord_double
    log = double.add_channel("mod-log")
    helpers = double.add_role("helpers", 0)
    muted = double.add_role("muted", 0)
    carol = double.add_user("carol", roles=[helpers, muted])

    double.set_overwrite(log, double.guild.everyone, deny=SEND)
    assert not double.permissions_of(carol, log) & SEND
    # Role overwrites: every deny first, then every allow, so one role's allow beats another's deny.
    double.set_overwrite(log, muted, deny=SEND)
    double.set_overwrite(log, helpers, allow=SEND | MANAGE_MESSAGES)
    assert double.permissions_of(carol, log) & (SEND | MANAGE_MESSAGES) == SEND | MANAGE_MESSAGES
    # The member's own overwrite comes last.
    double.set_overwrite(log, carol, deny=MANAGE_MESSAGES)
    assert double.permissions_of(carol, log) & (SEND | MANAGE_MESSAGES) == SEND
    assert double.permissions_of(carol) & MANAGE_MESSAGES == 0
    # Without View Channel in a channel a member has nothing there.
    double.set_overwrite(log, carol, deny=Permissions(view_channel=True).value)
    assert double.permissions_of(carol, log) == 0


def test_administrators_ignore_overwrites_and_roles_must_be_the_guilds(discord_double: DiscordDouble) -> None:
    double = discord_double
    log = double.add_channel("mod-log")
    admins = double.add_role("admins", Permissions(administrator=True).value)
    dave = double.add_user("dave", roles=[admins])
    double.set_overwrite(log, dave, deny=Permissions(view_channel=True).value)
    assert double.permissions_of(dave, log) == Permissions.all().value

    other = double.add_guild("Other Guild")
    with pytest.raises(DoubleError, match="not in Other Guild"):
        double.assign_roles(other.members[1], admins, guild=other)


async def test_interactions_carry_roles_channel_permissions_and_app_permissions(probe_bot: ProbeBot) -> None:
    double = probe_bot.double
    mods = double.add_role("mods", MANAGE_MESSAGES)
    erin = double.add_user("erin", roles=[mods])
    double.set_overwrite(double.channel, mods, deny=MANAGE_MESSAGES)
    double.set_overwrite(double.channel, erin, allow=MANAGE_GUILD)
    double.deny_bot(double.channel, attach_files=True)

    handle = await double.invoke_command("probe", user=erin)
    async with asyncio.timeout(5):
        interaction = await probe_bot.received.get()
    assert interaction.id == handle.id

    member = handle.record.payload["member"]
    assert member["roles"] == [str(mods.id)]
    assert isinstance(interaction.user, discord.Member)
    assert not interaction.permissions.manage_messages
    assert interaction.permissions.manage_guild
    assert not interaction.app_permissions.attach_files
    assert interaction.app_permissions.send_messages
    # Roles stay with the member: a later interaction without ``roles`` still carries them.
    assert double.roles_of(erin) == [mods]


async def test_messages_in_several_channels(probe_bot: ProbeBot) -> None:
    double = probe_bot.double
    log = double.add_channel("mod-log")
    posted = await double.post_message("hello", channel=log)
    channel = await probe_bot.client.fetch_channel(log.id)
    await channel.send("entry")  # type: ignore[union-attr]

    assert [m.content for m in double.messages(log)] == ["hello", "entry"]
    assert posted.payload["author"]["id"] == str(double.member.id)
    assert double.messages(double.channel) == []


async def test_a_connected_bot_learns_new_roles_channels_and_overwrites(probe_bot: ProbeBot) -> None:
    double = probe_bot.double
    mods = double.add_role("mods", MANAGE_MESSAGES)
    log = double.add_channel("mod-log")
    double.set_overwrite(log, mods, allow=SEND)
    erin = double.add_user("erin", roles=[mods])

    handle = await double.invoke_command("probe", user=erin)
    async with asyncio.timeout(5):
        interaction = await probe_bot.received.get()
    assert interaction.id == handle.id
    assert isinstance(interaction.user, discord.Member)
    assert [r.id for r in interaction.user.roles if not r.is_default()] == [mods.id]
    cached = probe_bot.client.get_channel(log.id)
    assert isinstance(cached, discord.TextChannel)
    role = cached.guild.get_role(mods.id)
    assert role is not None
    assert cached.overwrites_for(role).send_messages is True

    joined = double.add_guild("Joined Later")
    await double.invoke_command("probe", channel=joined.channels[1], user=joined.members[1])
    async with asyncio.timeout(5):
        elsewhere = await probe_bot.received.get()
    assert elsewhere.guild is not None
    assert elsewhere.guild.name == "Joined Later"


async def test_a_forged_custom_id_is_sent_only_when_asked(probe_bot: ProbeBot) -> None:
    double = probe_bot.double
    handle, interaction = await probe_bot.invoke()
    await interaction.response.send_message("card", view=probe_bot.press_view())
    card = await handle.wait_original()

    with pytest.raises(DoubleError, match="no component 'mod:approve:1'"):
        await double.click(card, "mod:approve:1")
    forged = await double.click(card, "mod:approve:1", forged=True)
    assert forged.record.payload["data"] == {"custom_id": "mod:approve:1", "component_type": 2}
    assert forged.record.payload["message"]["id"] == str(card.id)
