"""Counts Discord's 429 answers: discord.py waits them out itself and logs each one on ``discord.http``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from bot.metrics import BotMetrics

DISCORD_HTTP_LOGGER = "discord.http"


class RateLimitCounter(logging.Handler):
    def __init__(self, metrics: BotMetrics) -> None:
        super().__init__(logging.WARNING)
        self._metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        if "rate limit" in record.getMessage().lower():
            self._metrics.discord_rate_limits.inc()


@contextlib.asynccontextmanager
async def count_rate_limits(metrics: BotMetrics) -> AsyncIterator[None]:
    handler = RateLimitCounter(metrics)
    logger = logging.getLogger(DISCORD_HTTP_LOGGER)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
