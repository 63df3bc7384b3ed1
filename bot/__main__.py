"""``python -m bot``: the process around the bot — settings, logging, the HTTP session, the store, signals."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from typing import NoReturn

import aiohttp
import discord

from bot.metrics import BotMetrics
from bot.ops_server import ops_app, serve_ops
from bot.redaction import configure_logging, redact
from bot.settings import Settings, SettingsError, load_settings
from bot.startup_failures import (
    describe_database_os_error,
    describe_unexpected,
    describe_unreachable,
    is_unreachable,
)
from bot.store import StoreUnavailableError, open_store
from client.api import RunComfyClient
from discord_app.bot import AnimateBot, create_bot
from discord_app.endpoints import GatewayDiscoveryError, use_discord_api
from discord_app.rate_limits import count_rate_limits

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
    except OSError as exc:
        raise StartupError(describe_database_os_error(exc)) from None
    try:
        async with aiohttp.ClientSession() as http:
            if settings.discord_api_base is not None:
                try:
                    await use_discord_api(str(settings.discord_api_base), discord_token, http)
                except GatewayDiscoveryError as exc:
                    raise StartupError(_discovery_failure(exc)) from None
            metrics = BotMetrics()
            api = RunComfyClient(
                settings.runcomfy_api_token.get_secret_value(),
                str(settings.runcomfy_api_base),
                session=http,
                observe=metrics.api_call,
            )
            bot = create_bot(settings, store, api, http, metrics)
            async with api, bot, _ops_endpoints(settings, bot), count_rate_limits(metrics):
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
                    _discord_outcome(runner, settings)
                if bot.engine_failure is not None:
                    raise EngineFailure(repr(bot.engine_failure))
    except discord.LoginFailure:
        raise StartupError("Discord refused DISCORD_TOKEN") from None
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def _ops_endpoints(settings: Settings, bot: AnimateBot) -> AsyncIterator[None]:
    """``/healthz`` and ``/metrics`` while the bot runs, when ``ANIMATE_METRICS_PORT`` is set."""
    if settings.metrics_port is None:
        yield
        return
    try:
        runner = await serve_ops(ops_app(bot.store, bot.metrics, bot.engine_alive), settings.metrics_port)
    except OSError as exc:
        raise StartupError(
            f"cannot serve ANIMATE_METRICS_PORT={settings.metrics_port}: {exc.strerror}"
        ) from None
    try:
        yield
    finally:
        await runner.cleanup()


def _discovery_failure(exc: GatewayDiscoveryError) -> str:
    """The discovery error, or (when no answer came at all) why DISCORD_API_BASE could not be reached."""
    cause = exc.__cause__ or exc.__context__
    if cause is not None and is_unreachable(cause):
        return describe_unreachable("DISCORD_API_BASE", cause)
    return str(exc)


def _discord_outcome(runner: asyncio.Task[None], settings: Settings) -> None:
    """Re-raise how the Discord task ended; a connection that never got an answer is a StartupError."""
    try:
        runner.result()
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        if not is_unreachable(exc):
            raise
        what = "DISCORD_API_BASE" if settings.discord_api_base is not None else "Discord"
        raise StartupError(describe_unreachable(what, exc)) from None


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """A usage mistake is one line too."""
        self.exit(2, f"animate-bot: {message} (see python -m bot --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The command line; every setting comes from the environment or ``.env`` (see ``.env.example``)."""
    parser = _OneLineParser(
        prog="python -m bot",
        description="animate-bot: /animate turns a picture into a short video (Seedance 1.0 Lite).",
        epilog="Settings are read from the environment and .env: DISCORD_TOKEN and RUNCOMFY_API_TOKEN are "
        "required; .env.example lists every setting with its default.",
    )
    parser.add_argument(
        "--playground",
        action="store_true",
        help="try the bot in a browser against local doubles of Discord and RunComfy, no secrets needed "
        "(python -m bot --playground --help for its options)",
    )
    return parser


def _secrets_of(settings: Settings) -> list[str]:
    return [settings.discord_token.get_secret_value(), settings.runcomfy_api_token.get_secret_value()]


def _fail(line: str, code: int) -> int:
    print(f"animate-bot: {line}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--playground" in args:
        try:
            from playground.cli import main as playground
        except ImportError:
            return _fail("the playground is not part of this installation; run it from a checkout", 2)
        return playground(args)
    build_parser().parse_args(args)
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(str(exc), 2)
    secrets = _secrets_of(settings)
    configure_logging(settings.log_level, secrets)
    silence_voice_warnings()
    try:
        asyncio.run(run(settings))
    except StartupError as exc:
        return _fail(redact(str(exc), secrets), 2)
    except EngineFailure as exc:
        return _fail(f"stopped after an internal failure ({redact(str(exc), secrets)}); see the log above", 1)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for the operator; the traceback only at LOG_LEVEL=DEBUG
        log.debug("unexpected failure", exc_info=True)
        return _fail(describe_unexpected(exc, secrets), 1)
    log.info("stopped")
    return 0


def silence_voice_warnings() -> None:
    """The bot never joins voice: discord.py's warnings about PyNaCl and davey are noise."""
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False


if __name__ == "__main__":
    sys.exit(main())
