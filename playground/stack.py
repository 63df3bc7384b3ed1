"""The three running parts of the playground: the Discord double, the fake RunComfy API and the real bot.

The bot is the unmodified ``python -m bot`` in a child process, pointed at both doubles by environment
variables only, exactly as the end-to-end tests run it.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from discord import Permissions

from client.fake import FakeConfig, FakeRunComfy
from discord_double import DiscordDouble, DoubleConfig
from discord_double.feed import Actor, ChannelFeed
from discord_double.process import BotProcess
from discord_double.state import RoleSpec, UserSpec

READY_TIMEOUT_S = 60.0
QUEUE_S = 4.0
RUN_S = 8.0


class StackError(Exception):
    """The bot could not be started against the doubles; the message says why (with its output)."""


@dataclass(frozen=True)
class Member:
    """One person a visitor can be: a key for the page, the double's user and their roles."""

    key: str
    user: UserSpec
    roles: tuple[RoleSpec, ...]
    moderator: bool


def bot_environment(discord: DiscordDouble, runcomfy: FakeRunComfy, token: str, data: Path) -> dict[str, str]:
    """What ``python -m bot`` is given: both doubles' addresses, throwaway tokens, SQLite under ``data``."""
    return {
        "DISCORD_TOKEN": discord.token,
        "DISCORD_API_BASE": discord.api_base,
        "RUNCOMFY_API_TOKEN": token,
        "RUNCOMFY_API_BASE": runcomfy.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{data / 'animate-bot.sqlite3'}",
        "ANIMATE_POLL_MIN_S": "0.5",
        "ANIMATE_POLL_MAX_S": "2",
        "ANIMATE_EDIT_INTERVAL_S": "0.5",
        "LOG_LEVEL": "INFO",
    }


class Stack:
    """Start with ``await stack.start()``, stop with ``await stack.stop()``; nothing leaves the machine."""

    def __init__(self, data: Path, *, queue_s: float = QUEUE_S, run_s: float = RUN_S) -> None:
        self.data = data
        self.queue_s = queue_s
        self.run_s = run_s
        self._runcomfy_token = "playground-" + secrets.token_urlsafe(16)
        self.discord = DiscordDouble(DoubleConfig(token="playground-" + secrets.token_urlsafe(24)))
        self.runcomfy = FakeRunComfy(self._runcomfy_token, FakeConfig(queue_s=queue_s, run_s=run_s))
        self.feed = ChannelFeed(self.discord)
        self.bot = BotProcess({}, data, on_exit=self.feed.touch)
        self.members = self._cast()

    def _cast(self) -> dict[str, Member]:
        double = self.discord
        double.guild.name = "Playground"
        mods = double.add_role("Moderator", Permissions(manage_messages=True, manage_guild=True).value)
        first, second, moderator = double.add_user("mina"), double.add_user("jun"), double.add_user("sora")
        return {
            "mina": Member("mina", first, (), moderator=False),
            "jun": Member("jun", second, (), moderator=False),
            "sora": Member("sora", moderator, (mods,), moderator=True),
        }

    def actor(self, member_key: str, locale: str) -> Actor:
        member = self.members[member_key]
        return Actor(self.discord, member.user, member.roles, locale)

    def set_timing(self, *, queue_s: float, run_s: float) -> None:
        self.runcomfy.set_timing(queue_s=queue_s, run_s=run_s)
        self.queue_s, self.run_s = queue_s, run_s

    async def start(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        await self.discord.start()
        await self.runcomfy.start()
        self.bot.env = bot_environment(self.discord, self.runcomfy, self._runcomfy_token, self.data)
        await self.bot.start()
        try:
            await self.discord.wait_for(
                lambda: self.discord.bot_ready() or not self.bot.running, READY_TIMEOUT_S
            )
        except TimeoutError:
            raise StackError(
                f"the bot did not connect in {READY_TIMEOUT_S:.0f} s\n{self.bot.output()}"
            ) from None
        if not self.bot.running:
            raise StackError(f"the bot exited with {self.bot.returncode}\n{self.bot.output()}")

    async def stop(self) -> None:
        if self.bot.running:
            with contextlib.suppress(TimeoutError):
                await self.bot.terminate()
        await self.runcomfy.stop()
        await self.discord.stop()
