"""The bot object's own duties: one shutdown however many ask, and a dead engine loop stopping it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.settings import Settings
from bot.store import open_store
from client.api import RunComfyClient
from discord_app.bot import AnimateBot


@pytest.fixture
async def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AnimateBot]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "discord-token-for-tests-0001")
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "runcomfy-token-for-tests-0001")
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'app.sqlite3'}")
    http = aiohttp.ClientSession()
    api = RunComfyClient("runcomfy-token-for-tests-0001", "http://127.0.0.1:9", session=http)
    animate_bot = AnimateBot(Settings(), store, api, http)
    yield animate_bot
    await http.close()
    await store.close()


async def test_a_loop_that_dies_stops_the_bot_and_is_remembered(bot: AnimateBot) -> None:
    async def dies() -> None:
        raise RuntimeError("the tracker broke")

    task = asyncio.get_running_loop().create_task(dies(), name="tracker")
    await asyncio.wait([task])
    bot._engine_stopped(task)
    await bot.close()
    assert isinstance(bot.engine_failure, RuntimeError)
    assert bot.is_closed()


async def test_every_caller_of_close_waits_for_the_one_shutdown(bot: AnimateBot) -> None:
    first = asyncio.get_running_loop().create_task(bot.close())
    await bot.close()
    await asyncio.wait_for(first, 5)
    assert first.exception() is None
    assert bot.is_closed()
    assert bot.engine_failure is None
