"""An in-process discord.py client against the double, for rules the real bot has no command to trigger.

``probe`` is a slash command that hands each :class:`discord.Interaction` to the test, which then answers it
with discord.py's own calls and sees what the double says.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import discord
import pytest
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from discord_double import DiscordDouble, InteractionHandle, LocalFile


class ProbeBot:
    """A discord.py client with one ``/probe`` command and a ``Press`` button, queueing interactions."""

    def __init__(self, double: DiscordDouble) -> None:
        self.double = double
        self.client = discord.Client(intents=discord.Intents(guilds=True))
        self.tree = app_commands.CommandTree(self.client)
        self.received: asyncio.Queue[discord.Interaction] = asyncio.Queue()
        received = self.received

        @self.tree.command(name="probe", description="Hands the interaction to the test")
        async def probe(
            interaction: discord.Interaction, text: str | None = None, image: discord.Attachment | None = None
        ) -> None:
            await received.put(interaction)

    def press_view(self) -> discord.ui.View:
        """A view with one button (``custom_id`` ``press``) whose clicks reach the test."""
        view = discord.ui.View(timeout=None)
        button: discord.ui.Button[discord.ui.View] = discord.ui.Button(label="Press", custom_id="press")
        received = self.received

        async def pressed(interaction: discord.Interaction) -> None:
            await received.put(interaction)

        button.callback = pressed  # type: ignore[method-assign]
        view.add_item(button)
        return view

    async def invoke(
        self, options: dict[str, str] | None = None, image: LocalFile | None = None
    ) -> tuple[InteractionHandle, discord.Interaction]:
        """Run ``/probe`` and return the double's handle and discord.py's Interaction for it."""
        handle = await self.double.invoke_command("probe", options, {"image": image} if image else None)
        async with asyncio.timeout(5):
            interaction = await self.received.get()
        assert interaction.id == handle.id
        return handle, interaction

    async def click(self, message_id: int) -> tuple[InteractionHandle, discord.Interaction]:
        handle = await self.double.click(self.double.message(message_id), "press")
        async with asyncio.timeout(5):
            interaction = await self.received.get()
        assert interaction.id == handle.id
        return handle, interaction


@pytest.fixture
def discordpy_at_double(discord_double: DiscordDouble, monkeypatch: pytest.MonkeyPatch) -> DiscordDouble:
    """Point discord.py's REST base and default gateway at the double for this test."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord_double.api_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(discord_double.gateway_url))
    return discord_double


@contextlib.asynccontextmanager
async def connected(
    double: DiscordDouble, client: discord.Client, tree: app_commands.CommandTree[discord.Client]
) -> AsyncIterator[None]:
    """``client`` logged in to the double with ``tree`` synced, connected until the block ends."""
    await client.login(double.token)
    await tree.sync()
    runner = asyncio.create_task(client.connect(reconnect=True))
    try:
        await double.wait_for(double.bot_ready)
        yield
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError, discord.ConnectionClosed):
            await runner


@pytest.fixture
async def probe_bot(discordpy_at_double: DiscordDouble) -> AsyncIterator[ProbeBot]:
    """A connected in-process client with ``/probe`` synced."""
    bot = ProbeBot(discordpy_at_double)
    async with connected(discordpy_at_double, bot.client, bot.tree):
        yield bot


@pytest.fixture
async def bot_http(discordpy_at_double: DiscordDouble) -> AsyncIterator[discord.http.HTTPClient]:
    """discord.py's own REST client, logged in to the double (no gateway)."""
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    await http.static_login(discordpy_at_double.token)
    try:
        yield http
    finally:
        await http.close()
