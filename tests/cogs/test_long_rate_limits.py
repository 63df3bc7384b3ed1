"""A 429 asking for a long wait fails the webhook call at once; a short one is left to discord.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from cogs.long_rate_limits import (
    MAX_RATELIMIT_WAIT_S,
    RateLimitedForLong,
    long_wait_refusing_session,
    retry_after_of,
)


def test_retry_after_is_read_in_seconds_and_anything_else_is_none() -> None:
    assert retry_after_of({"Retry-After": "3600"}) == 3600.0
    assert retry_after_of({"Retry-After": "1.5"}) == 1.5
    assert retry_after_of({"Retry-After": "soon"}) is None
    assert retry_after_of({}) is None


@pytest.fixture
async def limited_server() -> AsyncIterator[str]:
    async def answer(request: web.Request) -> web.Response:
        wait = request.match_info["wait"]
        return web.json_response({"retry_after": float(wait)}, status=429, headers={"Retry-After": wait})

    app = web.Application()
    app.router.add_get("/wait/{wait}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_a_long_wait_raises_and_a_short_one_is_answered(limited_server: str) -> None:
    long_wait = int(MAX_RATELIMIT_WAIT_S) + 1
    async with long_wait_refusing_session() as session:
        with pytest.raises(RateLimitedForLong) as refused:
            await session.get(f"{limited_server}/wait/{long_wait}")
        assert refused.value.retry_after == long_wait
        async with session.get(f"{limited_server}/wait/1") as short:
            assert short.status == 429
            assert (await short.json())["retry_after"] == 1.0
