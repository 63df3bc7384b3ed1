"""Command sync: bulk overwrite and read back, global and per guild, with Discord's validation."""

from __future__ import annotations

from typing import Any

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


async def test_command_checks_reach_every_option_choice_and_localisation(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    good_option = {"type": 3, "name": "prompt", "description": "What to make", "required": True}
    command = {
        "name": "animate",
        "description": "Make a video",
        "name_localizations": {"ko": "애니메이트", "xx": "bad"},
        "description_localizations": {"ko": ""},
        "options": [
            {"type": 3, "name": "style", "description": "Style"},
            {**good_option, "name": "Prompt"},
            {
                "type": 4,
                "name": "seconds",
                "description": "d" * 101,
                "choices": [{"name": "", "value": 5}] + [{"name": str(n), "value": n} for n in range(25)],
            },
            {
                "type": 1,
                "name": "nested",
                "description": "A subcommand",
                "options": [
                    {
                        "type": 3,
                        "name": "kind",
                        "description": "Kind",
                        "choices": [{"name": "long", "value": "v" * 101, "name_localizations": {"ko": ""}}],
                    }
                ],
            },
        ],
    }
    with pytest.raises(discord.HTTPException) as caught:
        await bot_http.bulk_upsert_global_commands(discordpy_at_double.application_id, [command])
    assert caught.value.status == 400
    errors = (caught.value._errors or {})["0"]

    assert set(errors["name_localizations"]) == {"xx"}
    assert errors["description_localizations"]["ko"]["_errors"][0]["code"] == "BASE_TYPE_BAD_LENGTH"
    options = errors["options"]
    assert "0" not in options
    assert options["1"]["name"]["_errors"][0]["code"] == "APPLICATION_COMMAND_INVALID_NAME"
    assert options["1"]["_errors"][0]["code"] == "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"
    assert options["2"]["description"]["_errors"][0]["code"] == "BASE_TYPE_BAD_LENGTH"
    assert options["2"]["choices"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    kind = options["3"]["options"]["0"]["choices"]["0"]
    assert set(kind) == {"value", "name_localizations"}

    command["options"] = [good_option, {"type": 3, "name": "style", "description": "Style"}]
    command["name_localizations"] = {"ko": "애니메이트"}
    command["description_localizations"] = {"ko": "동영상 만들기"}
    stored = await bot_http.bulk_upsert_global_commands(discordpy_at_double.application_id, [command])
    first: dict[str, Any] = dict(stored[0])
    assert [o["name"] for o in first["options"]] == ["prompt", "style"]
