"""The bot object: hands the core's engine its Discord ports and runs its loops. Behaviour lives in the core
and in the cogs; this class only starts and stops things in the right order."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiohttp
import discord
from discord.ext import commands

from bot.engine import EnginePace, JobEngine
from bot.leases import LeaseTerms, default_owner
from bot.metrics import BotMetrics
from bot.settings import Settings
from bot.store import JobStore
from bot.transitions import JobWriter
from client.api import RunComfyClient
from cogs.attachment_links import refresh_attachment_urls
from cogs.long_rate_limits import MAX_RATELIMIT_WAIT_S
from cogs.replies import DiscordReplies
from cogs.translator import CommandTranslator
from discord_app.command_sync import sync_if_changed

log = logging.getLogger(__name__)

EXTENSIONS = ("cogs.help", "cogs.animate", "cogs.queue", "cogs.mod")


def lease_terms(settings: Settings) -> LeaseTerms:
    """This process's lease: its configured name, or one made of the host and its shards."""
    shards = list(settings.shard_ids) if settings.shard_ids is not None else None
    owner = settings.instance_id or default_owner(shards)
    return LeaseTerms(owner, timedelta(seconds=settings.lease_s))


def shard_options(settings: Settings) -> dict[str, object]:
    """discord.py's own sharding: the shards in all and this process's share (all of them when unset)."""
    options: dict[str, object] = {}
    if settings.shard_count is not None:
        options["shard_count"] = settings.shard_count
    if settings.shard_ids is not None:
        options["shard_ids"] = list(settings.shard_ids)
    return options


class AnimateBot(commands.Bot):
    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        api: RunComfyClient,
        http: aiohttp.ClientSession,
        metrics: BotMetrics | None = None,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            # A reply Discord refuses for long is tried again later by the presenter, not waited out here.
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT_S,
            **shard_options(settings),  # type: ignore[arg-type]
        )
        self.settings = settings
        self.store = store
        self.api = api
        self.http_session = http
        self.metrics = metrics or BotMetrics()
        writer = JobWriter(store, lease=lease_terms(settings), listeners=[self.metrics])
        pace = EnginePace(
            max_active=settings.max_active,
            poll_min_s=settings.poll_min_s,
            poll_max_s=settings.poll_max_s,
            job_max_s=settings.job_max_s,
            edit_interval_s=settings.edit_interval_s,
            max_active_per_server=settings.max_active_per_server,
            max_active_per_member=settings.max_active_per_member,
        )
        self.replies = DiscordReplies(self, api_base=str(settings.runcomfy_api_base), clock=writer.clock)
        self.engine = JobEngine(
            store,
            api,
            self.replies,
            pace,
            writer=writer,
            refresh_urls=lambda urls: refresh_attachment_urls(self, urls),
            on_takeover=self.metrics.took_over,
        )
        self._engine: list[asyncio.Task[None]] = []
        self._close_task: asyncio.Task[None] | None = None
        self.engine_failure: BaseException | None = None
        """Set when a loop of the engine died; the process then exits with a failure code."""

    def engine_alive(self) -> bool:
        """The engine's loops run (for ``/healthz``)."""
        return bool(self._engine) and self.engine_failure is None and self._close_task is None

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CommandTranslator())
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        assert self.application_id is not None
        await sync_if_changed(self.tree, self.store, self.application_id, self.settings.dev_guild_id)
        await self.engine.resume()
        self._engine = [asyncio.create_task(loop(), name=name) for name, loop in self.engine.loops().items()]
        for task in self._engine:
            task.add_done_callback(self._engine_stopped)

    def _engine_stopped(self, task: asyncio.Task[None]) -> None:
        """A loop of the engine ended on its own: without it jobs would stall, so the process stops and
        its supervisor starts it again (every job is stored)."""
        if task.cancelled() or self._close_task is not None:
            return
        self.engine_failure = task.exception() or RuntimeError(f"the {task.get_name()} loop returned")
        log.critical(
            "the %s loop stopped unexpectedly: %r; shutting down", task.get_name(), self.engine_failure
        )
        self._close_task = asyncio.get_running_loop().create_task(self._close_once(), name="close")

    async def on_ready(self) -> None:
        log.info("connected as %s to %d servers", self.user, len(self.guilds))

    async def close(self) -> None:
        """Stop the engine (a submission in flight records its answer first), then Discord. Every caller
        waits for the one shutdown, however many ask for it."""
        if self._close_task is None:
            self._close_task = asyncio.get_running_loop().create_task(self._close_once(), name="close")
        await asyncio.shield(self._close_task)

    async def _close_once(self) -> None:
        try:
            await self.engine.stop()
            for task in self._engine:
                task.cancel()
            if self._engine:
                await asyncio.wait(self._engine, timeout=5)
            await self.replies.close()
        finally:
            await super().close()


class ShardedAnimateBot(AnimateBot, commands.AutoShardedBot):
    """The same bot on discord.py's own sharding, running the shards the settings name."""


def create_bot(
    settings: Settings,
    store: JobStore,
    api: RunComfyClient,
    http: aiohttp.ClientSession,
    metrics: BotMetrics | None = None,
) -> AnimateBot:
    """The bot for these settings: sharded when ``ANIMATE_SHARD_COUNT`` is set."""
    kind = AnimateBot if settings.shard_count is None else ShardedAnimateBot
    return kind(settings, store, api, http, metrics)
