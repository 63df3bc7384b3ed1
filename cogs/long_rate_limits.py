"""A request Discord refuses for long fails at once instead of waiting inside the call.

discord.py waits out every 429 of the bot's own HTTP client unless ``max_ratelimit_timeout`` says how long is
too long (then it raises :class:`discord.RateLimited`); its webhook adapter, which edits interaction replies,
has no such setting and sleeps for whatever ``retry_after`` Discord names, holding that reply's call. The
webhook calls therefore go through a session whose responses refuse such a wait: the call raises
:class:`RateLimitedForLong` and the presenter tries the reply again later, while every other reply goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from aiohttp.connector import Connection

MAX_RATELIMIT_WAIT_S = 30.0
"""The longest 429 waited out inside one call; discord.py's smallest ``max_ratelimit_timeout``."""


class RateLimitedForLong(Exception):
    """Discord asked to wait longer than :data:`MAX_RATELIMIT_WAIT_S` before trying this request again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Discord asked to wait {retry_after:.0f}s before trying again")
        self.retry_after = retry_after


def retry_after_of(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` header in seconds, when it is a number."""
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class _LongWaitRefused(aiohttp.ClientResponse):
    async def start(self, connection: Connection) -> aiohttp.ClientResponse:
        started = await super().start(connection)
        if self.status == 429:
            wait = retry_after_of(self.headers)
            if wait is not None and wait > MAX_RATELIMIT_WAIT_S:
                raise RateLimitedForLong(wait)
        return started


def long_wait_refusing_session() -> aiohttp.ClientSession:
    """A session for discord.py webhooks in which a 429 asking for a long wait raises instead."""
    return aiohttp.ClientSession(response_class=_LongWaitRefused)
