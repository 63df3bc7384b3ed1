"""Sharding as Discord does it: /gateway/bot's shard count, IDENTIFY's shard, events routed by
``(guild_id >> 22) % shard_count``, several sessions at once, and 4010/4011 for a bad shard."""

from __future__ import annotations

from functools import partial

import discord
import pytest

from discord_double import DiscordDouble
from tests.discord_double.gateway_client import RawSession, connect


def _has_guilds(session: RawSession, count: int) -> bool:
    return len(session.named("GUILD_CREATE")) == count


@pytest.mark.double_config(shard_count=2)
async def test_gateway_bot_recommends_the_configured_shard_count(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    shards, *_ = await bot_http.get_bot_gateway()
    assert shards == 2


@pytest.mark.double_config(shard_count=2)
async def test_each_guilds_events_go_to_its_shards_session(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    await bot_http.bulk_upsert_global_commands(double.application_id, [{"name": "probe", "description": "p"}])
    other = double.add_guild("Second Guild", shard=1)
    double.add_guild("Third Guild", shard=0)
    first = double.guild
    assert [double.shard_of(g) for g in double.guilds] == [(g.id >> 22) % 2 for g in double.guilds]
    assert double.shard_of(other) == 1

    async with connect(double, shard=[0, 2]) as zero, connect(double, shard=[1, 2]) as one:
        await double.wait_for(double.bot_ready)
        for session, shard in ((zero, 0), (one, 1)):
            expected = {str(g.id) for g in double.guilds if (g.id >> 22) % 2 == shard}
            await double.wait_for(partial(_has_guilds, session, len(expected)))
            assert {g["id"] for g in session.named("GUILD_CREATE")} == expected
            assert {g["id"] for g in session.named("READY")[0]["guilds"]} == expected
            assert session.named("READY")[0]["shard"] == [shard, 2]

        here = await double.invoke_command("probe", channel=other.channels[1], user=other.members[1])
        there = await double.invoke_command("probe", channel=first.channels[1])
        await double.wait_for(
            lambda: (
                one.named("INTERACTION_CREATE")
                and len(zero.named("INTERACTION_CREATE")) + len(one.named("INTERACTION_CREATE")) == 2
            )
        )

    by_shard = {0: zero, 1: one}
    assert str(here.id) in [i["id"] for i in by_shard[1].named("INTERACTION_CREATE")]
    assert str(there.id) in [i["id"] for i in by_shard[double.shard_of(first)].named("INTERACTION_CREATE")]
    for shard, session in by_shard.items():
        assert all((int(i["guild_id"]) >> 22) % 2 == shard for i in session.named("INTERACTION_CREATE"))


@pytest.mark.double_config(shard_count=2)
async def test_the_double_is_not_ready_until_every_shard_is(discord_double: DiscordDouble) -> None:
    double = discord_double
    async with connect(double, shard=[0, 2]) as zero:
        await double.wait_for(lambda: zero.named("READY"))
        assert not double.bot_ready(require_commands=False)
        assert double.connected_shards == [0]
        async with connect(double, shard=[1, 2]):
            await double.wait_for(lambda: double.bot_ready(require_commands=False))
            assert double.connected_shards == [0, 1]
        await double.wait_for(lambda: double.connected_shards == [0])
        assert not double.bot_ready(require_commands=False)


@pytest.mark.parametrize("shard", [[2, 2], [-1, 2], [0, 0], ["0", "1"], [0]])
async def test_an_invalid_shard_closes_with_4010(discord_double: DiscordDouble, shard: list[object]) -> None:
    async with connect(discord_double, shard=shard) as session:
        await discord_double.wait_for(lambda: session.close_code)
    assert session.close_code == 4010
    assert session.events == []


@pytest.mark.double_config(max_guilds_per_shard=1)
async def test_too_many_guilds_on_one_shard_closes_with_4011(discord_double: DiscordDouble) -> None:
    double = discord_double
    double.add_guild("Second Guild")
    async with connect(double) as session:
        await double.wait_for(lambda: session.close_code)
    assert session.close_code == 4011


@pytest.mark.double_config(shard_count=2)
async def test_any_process_answers_any_interaction_over_rest(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    await bot_http.bulk_upsert_global_commands(double.application_id, [{"name": "probe", "description": "p"}])
    other = double.add_guild("Second Guild", shard=1 - double.shard_of(double.guild))
    async with connect(double, shard=[0, 2]), connect(double, shard=[1, 2]):
        await double.wait_for(double.bot_ready)
        handle = await double.invoke_command("probe", channel=other.channels[1], user=other.members[1])
        # bot_http holds no gateway session at all, like a sibling process on another shard.
        await bot_http.request(
            discord.http.Route("POST", "/interactions/{i}/{t}/callback", i=handle.id, t=handle.record.token),
            json={"type": 4, "data": {"content": "from elsewhere"}},
        )
        assert (await handle.wait_original()).content == "from elsewhere"
