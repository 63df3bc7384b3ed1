"""Shared end-to-end fixtures: the Discord double, the fake RunComfy API and the real bot process.

    async def test_help(e2e: EndToEnd) -> None:
        handle = await e2e.discord.invoke_command("help")
        ...

Per-test settings: ``@pytest.mark.bot_env(ANIMATE_MAX_ACTIVE="1")`` (extra bot environment),
``@pytest.mark.double_config(response_deadline_s=0.5)`` (:class:`DoubleConfig` fields) and
``@pytest.mark.runcomfy_config(manual=True)`` (:class:`client.fake.FakeConfig` fields).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from client.fake import FakeConfig, FakeRunComfy
from discord_double import DiscordDouble, DoubleConfig
from discord_double.process import BotProcess

pytest_plugins = ["pytester", "tests.spec.session_check"]

RUNCOMFY_TOKEN = "rc-test-token"
READY_TIMEOUT_S = 30.0
BOT_PROCESS_KEY = pytest.StashKey[BotProcess]()


def pytest_configure(config: pytest.Config) -> None:
    for marker in (
        "bot_env(**env): extra environment variables for the bot process",
        "double_config(**fields): DoubleConfig fields for the Discord double",
        "runcomfy_config(**fields): FakeConfig fields for the fake RunComfy API",
        "allow_unknown_routes: do not fail the test when the bot calls a route the double does not know",
    ):
        config.addinivalue_line("markers", marker)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    process = item.stash.get(BOT_PROCESS_KEY, None)
    if process is not None and report.failed:
        report.sections.append(("bot process output", process.output()))
    return report


def _marker_kwargs(request: pytest.FixtureRequest, name: str) -> dict[str, Any]:
    marker = request.node.get_closest_marker(name)
    return dict(marker.kwargs) if marker is not None else {}


@dataclass
class EndToEnd:
    """The three running parts of an end-to-end test."""

    discord: DiscordDouble
    runcomfy: FakeRunComfy
    bot: BotProcess

    async def wait_ready(self, *, after_identifies: int = 0, timeout: float = READY_TIMEOUT_S) -> None:  # noqa: ASYNC109
        """Wait until the bot identified (more than ``after_identifies`` times in all), got its guilds and
        has commands registered; fail at once, with its output, if the process dies instead."""

        def ready_or_dead() -> bool:
            identified = self.discord.gateway.identify_count > after_identifies
            return (identified and self.discord.bot_ready()) or not self.bot.running

        try:
            await self.discord.wait_for(ready_or_dead, timeout)
        except TimeoutError:
            raise AssertionError(f"the bot did not become ready in {timeout}s\n{self.bot.output()}") from None
        if not self.bot.running:
            raise AssertionError(f"the bot exited with {self.bot.returncode}\n{self.bot.output()}")

    async def kill9(self) -> int:
        return await self.bot.kill9()

    async def terminate(self) -> int:
        """SIGTERM the bot and return its exit code."""
        return await self.bot.terminate()

    async def restart(self, *, clean: bool = False) -> None:
        """Stop the bot (SIGKILL, or SIGTERM when ``clean``), start it again and wait until it is ready."""
        before = self.discord.gateway.identify_count
        await self.bot.restart(clean=clean)
        await self.wait_ready(after_identifies=before)


@pytest.fixture
async def discord_double(request: pytest.FixtureRequest) -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(DoubleConfig(**_marker_kwargs(request, "double_config"))) as double:
        yield double


@pytest.fixture
async def runcomfy_fake(request: pytest.FixtureRequest) -> AsyncIterator[FakeRunComfy]:
    config = FakeConfig(**_marker_kwargs(request, "runcomfy_config"))
    async with FakeRunComfy(RUNCOMFY_TOKEN, config) as fake:
        yield fake


def bot_environment(discord: DiscordDouble, runcomfy_base: str, workdir: Path) -> dict[str, str]:
    """The environment the bot process gets in end-to-end tests (before per-test overrides)."""
    return {
        "DISCORD_TOKEN": discord.token,
        "DISCORD_API_BASE": discord.api_base,
        "RUNCOMFY_API_TOKEN": RUNCOMFY_TOKEN,
        "RUNCOMFY_API_BASE": runcomfy_base,
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bot.sqlite3'}",
        "ANIMATE_POLL_MIN_S": "0.05",
        "ANIMATE_POLL_MAX_S": "0.3",
        "ANIMATE_EDIT_INTERVAL_S": "0.2",
    }


@pytest.fixture
async def e2e(
    request: pytest.FixtureRequest,
    discord_double: DiscordDouble,
    runcomfy_fake: FakeRunComfy,
    tmp_path: Path,
) -> AsyncIterator[EndToEnd]:
    """The double, the fake RunComfy API and the real bot process, started and ready."""
    workdir = tmp_path / "bot"
    workdir.mkdir()
    env = bot_environment(discord_double, runcomfy_fake.base_url, workdir)
    env.update({k: str(v) for k, v in _marker_kwargs(request, "bot_env").items()})
    process = BotProcess(env, workdir, on_exit=discord_double.poke)
    request.node.stash[BOT_PROCESS_KEY] = process
    setup = EndToEnd(discord_double, runcomfy_fake, process)
    await process.start()
    try:
        await setup.wait_ready()
        yield setup
    finally:
        if process.running:
            with contextlib.suppress(TimeoutError):
                await process.terminate()
    unknown = discord_double.unknown_requests
    if unknown and request.node.get_closest_marker("allow_unknown_routes") is None:
        pytest.fail(
            "the bot called routes the double does not know: "
            + ", ".join(f"{r.method} {r.path}" for r in unknown)
        )
