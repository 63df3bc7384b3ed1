"""GUILD_CREATE as discord.py reads it: boost tier from the upload limit, the bot's managed role, members."""

from __future__ import annotations

import asyncio
import contextlib

import discord
import pytest

from discord_double import DiscordDouble

MIB = 1024 * 1024


async def _connected_guild(double: DiscordDouble, intents: discord.Intents) -> discord.Guild:
    client = discord.Client(intents=intents)
    await client.login(double.token)
    runner = asyncio.create_task(client.connect(reconnect=False))
    try:
        await double.wait_for(lambda: double.bot_ready(require_commands=False))
        await asyncio.wait_for(client.wait_until_ready(), 5)
        guild = client.get_guild(double.guild.id)
        assert guild is not None
        return guild
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError, discord.ConnectionClosed):
            await runner


@pytest.mark.parametrize(
    ("upload_limit", "tier", "discordpy_limit"),
    [(10 * MIB, 0, 10 * MIB), (25 * MIB, 0, 10 * MIB), (50 * MIB, 2, 50 * MIB), (100 * MIB, 3, 100 * MIB)],
)
async def test_the_upload_limit_reaches_discordpy_as_the_boost_tier(
    discordpy_at_double: DiscordDouble, upload_limit: int, tier: int, discordpy_limit: int
) -> None:
    discordpy_at_double.set_upload_limit(upload_limit)

    guild = await _connected_guild(discordpy_at_double, discord.Intents(guilds=True))

    assert guild.premium_tier == tier
    assert guild.filesize_limit == discordpy_limit


async def test_with_only_the_guilds_intent_the_bot_is_the_only_member_and_its_role_is_managed(
    discordpy_at_double: DiscordDouble,
) -> None:
    double = discordpy_at_double

    guild = await _connected_guild(double, discord.Intents(guilds=True))

    assert [m.id for m in guild.members] == [double.bot_user.id]
    me = guild.me
    bot_role = next(r for r in me.roles if not r.is_default())
    assert bot_role.managed
    assert bot_role.is_bot_managed()
    assert bot_role.tags is not None
    assert bot_role.tags.bot_id == double.bot_user.id


@pytest.mark.double_config(privileged_intents_allowed=True)
async def test_the_members_intent_lists_every_member(discordpy_at_double: DiscordDouble) -> None:
    double = discordpy_at_double

    guild = await _connected_guild(double, discord.Intents(guilds=True, members=True))

    assert {m.id for m in guild.members} == {double.bot_user.id, double.owner.id, double.member.id}
