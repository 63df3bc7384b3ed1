"""Message deletion with Discord's rules, and AutoMod rules over REST and the gateway."""

from __future__ import annotations

import discord
import pytest
from discord import Permissions

from discord_double import DiscordDouble, rules
from tests.discord_double.gateway_client import AUTO_MODERATION_CONFIGURATION, GUILD_MESSAGES, GUILDS, connect

MANAGE_GUILD = Permissions(manage_guild=True).value


def _grant_bot(double: DiscordDouble, bits: int) -> None:
    bot_role = next(r for r in double.guild.roles if r.id == double.world.bot_role_ids[double.guild.id])
    bot_role.permissions |= bits


async def test_the_bot_deletes_its_own_message_and_others_only_with_manage_messages(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    log = double.add_channel("mod-log")
    async with connect(double, intents=GUILDS | GUILD_MESSAGES) as gateway:
        await double.wait_for(lambda: gateway.named("GUILD_CREATE"))
        own = await bot_http.send_message(log.id, params=discord.http.handle_message_parameters("video"))
        theirs = await double.post_message("spam", channel=log)

        await bot_http.delete_message(log.id, int(own["id"]))
        with pytest.raises(discord.Forbidden) as caught:
            await bot_http.delete_message(log.id, theirs.id)
        assert caught.value.code == rules.MISSING_PERMISSIONS
        with pytest.raises(discord.NotFound) as unknown:
            await bot_http.delete_message(log.id, int(own["id"]))
        assert unknown.value.code == rules.UNKNOWN_MESSAGE

        _grant_bot(double, Permissions(manage_messages=True).value)
        await bot_http.delete_message(log.id, theirs.id)
        deletes = await double.wait_for(
            lambda: gateway.named("MESSAGE_DELETE")[1:] and gateway.named("MESSAGE_DELETE")
        )

    assert [int(m.id) for m in double.deleted(log)] == [int(own["id"]), theirs.id]
    assert double.messages(log) == []
    assert deletes == [
        {"id": m, "channel_id": str(log.id), "guild_id": str(double.guild.id)}
        for m in (own["id"], str(theirs.id))
    ]


async def test_message_delete_needs_the_guild_messages_intent(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    async with connect(double, intents=GUILDS) as gateway:
        await double.wait_for(lambda: gateway.named("GUILD_CREATE"))
        own = await bot_http.send_message(
            double.channel.id, params=discord.http.handle_message_parameters("x")
        )
        await bot_http.delete_message(double.channel.id, int(own["id"]))
    assert gateway.named("MESSAGE_DELETE") == []
    assert len(double.deleted()) == 1


async def test_automod_rules_need_manage_server(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    mods = double.add_role("mods", 0)
    rule = await double.add_automod_rule(
        "No spam",
        keyword_filter=["spam*"],
        regex_patterns=[r"b[a4]d"],
        allow_list=["spammy"],
        exempt_roles=[mods],
        exempt_channels=[double.channel],
    )
    route = discord.http.Route("GET", "/guilds/{guild_id}/auto-moderation/rules", guild_id=double.guild.id)
    with pytest.raises(discord.Forbidden) as caught:
        await bot_http.request(route)
    assert caught.value.code == rules.MISSING_PERMISSIONS

    _grant_bot(double, MANAGE_GUILD)
    listed = await bot_http.request(route)
    one = await bot_http.request(
        discord.http.Route(
            "GET",
            "/guilds/{guild_id}/auto-moderation/rules/{rule_id}",
            guild_id=double.guild.id,
            rule_id=rule.id,
        )
    )
    assert listed == [one]
    assert one["trigger_type"] == 1
    assert one["event_type"] == 1
    assert one["trigger_metadata"] == {
        "keyword_filter": ["spam*"],
        "regex_patterns": [r"b[a4]d"],
        "allow_list": ["spammy"],
    }
    assert one["exempt_roles"] == [str(mods.id)]
    assert one["exempt_channels"] == [str(double.channel.id)]
    assert one["creator_id"] == str(double.owner.id)
    with pytest.raises(discord.NotFound):
        await bot_http.request(
            discord.http.Route(
                "GET",
                "/guilds/{guild_id}/auto-moderation/rules/{rule_id}",
                guild_id=double.guild.id,
                rule_id=1,
            )
        )
    with pytest.raises(discord.NotFound) as unknown_guild:
        await bot_http.request(
            discord.http.Route("GET", "/guilds/{guild_id}/auto-moderation/rules", guild_id=1)
        )
    assert unknown_guild.value.code == rules.UNKNOWN_GUILD


async def test_automod_events_go_to_a_bot_with_the_intent(discord_double: DiscordDouble) -> None:
    double = discord_double
    async with connect(double, intents=GUILDS | AUTO_MODERATION_CONFIGURATION) as gateway:
        await double.wait_for(lambda: gateway.named("GUILD_CREATE"))
        rule = await double.add_automod_rule("Words", keyword_filter=["cat"])
        await double.update_automod_rule(rule, keyword_filter=["cat", "dog"], enabled=False)
        await double.delete_automod_rule(rule)
        await double.wait_for(lambda: gateway.named("AUTO_MODERATION_RULE_DELETE"))

    created = gateway.named("AUTO_MODERATION_RULE_CREATE")
    updated = gateway.named("AUTO_MODERATION_RULE_UPDATE")
    assert created[0]["trigger_metadata"]["keyword_filter"] == ["cat"]
    assert updated[0]["trigger_metadata"]["keyword_filter"] == ["cat", "dog"]
    assert updated[0]["enabled"] is False
    assert gateway.named("AUTO_MODERATION_RULE_DELETE")[0]["id"] == str(rule.id)
    assert double.world.automod_rules == {}


async def test_automod_events_are_not_sent_without_the_intent(discord_double: DiscordDouble) -> None:
    double = discord_double
    async with connect(double, intents=GUILDS) as gateway:
        await double.wait_for(lambda: gateway.named("GUILD_CREATE"))
        await double.add_automod_rule("Words", keyword_filter=["cat"])
    assert [e.get("t") for e in gateway.events] == ["READY", "GUILD_CREATE"]
