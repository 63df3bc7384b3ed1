"""``python -m bot``: the process around the bot — settings, logging, the HTTP session, the store, signals."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import aiohttp
import discord

from bot.redaction import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from bot.store import StoreUnavailableError, open_store
from client.api import RunComfyClient
from discord_app.bot import AnimateBot
from discord_app.endpoints import GatewayDiscoveryError, use_discord_api

log = logging.getLogger("bot")


class StartupError(Exception):
    """Something the operator must fix before the bot can start; shown as one line."""


class EngineFailure(Exception):
    """A loop of the engine died; the process exits non-zero so its supervisor restarts it."""


async def run(settings: Settings) -> None:
    discord_token = settings.discord_token.get_secret_value()
    try:
        store = await open_store(settings.database_url)
    except (ValueError, StoreUnavailableError) as exc:
        raise StartupError(str(exc)) from None
    try:
        async with aiohttp.ClientSession() as http:
            if settings.discord_api_base is not None:
                try:
                    await use_discord_api(str(settings.discord_api_base), discord_token, http)
                except GatewayDiscoveryError as exc:
                    raise StartupError(str(exc)) from None
            api = RunComfyClient(
                settings.runcomfy_api_token.get_secret_value(),
                str(settings.runcomfy_api_base),
                session=http,
            )
            async with api, AnimateBot(settings, store, api, http) as bot:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, stop.set)
                runner = asyncio.create_task(bot.start(discord_token), name="discord")
                stopper = asyncio.create_task(stop.wait(), name="signals")
                done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if stopper in done:
                    log.info("stopping: finishing what is in flight")
                    await bot.close()
                    await runner
                else:
                    stopper.cancel()
                    runner.result()
                if bot.engine_failure is not None:
                    raise EngineFailure(repr(bot.engine_failure))
    except discord.LoginFailure:
        raise StartupError("Discord refused DISCORD_TOKEN") from None
    finally:
        await store.close()


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"animate-bot: {exc}", file=sys.stderr)
        return 2
    configure_logging(
        settings.log_level,
        [settings.discord_token.get_secret_value(), settings.runcomfy_api_token.get_secret_value()],
    )
    try:
        asyncio.run(run(settings))
    except StartupError as exc:
        print(f"animate-bot: {exc}", file=sys.stderr)
        return 2
    except EngineFailure as exc:
        print(f"animate-bot: stopped after an internal failure ({exc}); see the log above", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
