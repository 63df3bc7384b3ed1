"""Command sync: bulk overwrite and read back, global and per guild, with Discord's validation."""

from __future__ import annotations

import discord
import pytest

from discord_double import DiscordDouble, rules


async def test_global_overwrite_keeps_ids_of_unchanged_names(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    app = discordpy_at_double.application_id
    first = await bot_http.bulk_upsert_global_commands(app, [{"name": "help", "description": "Help"}])
    second = await bot_http.bulk_upsert_global_commands(
        app, [{"name": "help", "description": "Help!"}, {"name": "animate", "description": "Animate"}]
    )

    assert second[0]["id"] == first[0]["id"]
    assert [c["name"] for c in await bot_http.get_global_commands(app)] == ["help", "animate"]


async def test_guild_commands_are_kept_apart(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    app, guild = double.application_id, double.guild.id
    await bot_http.bulk_upsert_guild_commands(app, guild, [{"name": "probe", "description": "p"}])

    assert await bot_http.get_global_commands(app) == []
    assert [dict(c).get("guild_id") for c in await bot_http.get_guild_commands(app, guild)] == [str(guild)]
    with pytest.raises(discord.Forbidden):
        await bot_http.get_guild_commands(app, 1)


async def test_an_invalid_command_name_is_refused(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    with pytest.raises(discord.HTTPException) as caught:
        await bot_http.bulk_upsert_global_commands(
            discordpy_at_double.application_id, [{"name": "Bad Name", "description": "x"}]
        )
    assert caught.value.code == rules.INVALID_FORM_BODY
    assert "0.name" in caught.value.text
