"""Two discord.py AutoShardedClients (two bot processes, one shard each) against one double."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import discord
import pytest
from discord import app_commands

from discord_double import DiscordDouble


class ShardProcess:
    """A sharded client holding ``shard_ids`` of two shards, with ``/probe`` that queues interactions."""

    def __init__(self, shard_ids: list[int]) -> None:
        self.client = discord.AutoShardedClient(
            intents=discord.Intents(guilds=True), shard_count=2, shard_ids=shard_ids
        )
        self.tree = app_commands.CommandTree(self.client)
        self.received: asyncio.Queue[discord.Interaction] = asyncio.Queue()
        received = self.received

        @self.tree.command(name="probe", description="Hands the interaction to the test")
        async def probe(interaction: discord.Interaction) -> None:
            await received.put(interaction)
            shard = interaction.guild.shard_id if interaction.guild is not None else None
            await interaction.response.send_message(f"shard {shard}")


@pytest.fixture
async def two_processes(discordpy_at_double: DiscordDouble) -> AsyncIterator[list[ShardProcess]]:
    double = discordpy_at_double
    for shard in (0, 1):
        double.add_guild(f"Guild on shard {shard}", shard=shard)
    processes = [ShardProcess([0]), ShardProcess([1])]
    runners = []
    for process in processes:
        await process.client.login(double.token)
        runners.append(asyncio.create_task(process.client.connect(reconnect=False)))
    await processes[0].tree.sync()
    try:
        await double.wait_for(double.bot_ready)
        yield processes
    finally:
        for process, runner in zip(processes, runners, strict=True):
            await process.client.close()
            with contextlib.suppress(asyncio.CancelledError, discord.ConnectionClosed):
                await runner


@pytest.mark.double_config(shard_count=2)
async def test_each_process_sees_and_serves_only_its_shards_guilds(
    two_processes: list[ShardProcess], discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    for shard, process in enumerate(two_processes):
        expected = {g.id for g in double.guilds if double.shard_of(g) == shard}
        async with asyncio.timeout(10):
            await process.client.wait_until_ready()
        assert {g.id for g in process.client.guilds} == expected

    for guild in double.guilds:
        shard = double.shard_of(guild)
        handle = await double.invoke_command("probe", channel=guild.channels[1], user=guild.members[1])
        async with asyncio.timeout(5):
            interaction = await two_processes[shard].received.get()
        assert interaction.id == handle.id
        assert interaction.guild_id == guild.id
        assert (await handle.wait_original()).content == f"shard {shard}"
    assert all(p.received.empty() for p in two_processes)
