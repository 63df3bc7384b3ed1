"""``/healthz`` and Prometheus ``/metrics`` on an optional port (``ANIMATE_METRICS_PORT``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.metrics import BotMetrics
from bot.store import JobStore

log = logging.getLogger(__name__)

STORE_CHECK_TIMEOUT_S = 3.0
HEALTH_META_KEY = "healthz"


async def store_answers(store: JobStore) -> bool:
    """The store answers a small read within a few seconds."""
    try:
        async with asyncio.timeout(STORE_CHECK_TIMEOUT_S):
            await store.get_meta(HEALTH_META_KEY)
    except Exception:
        log.warning("health check: the store did not answer", exc_info=True)
        return False
    return True


def ops_app(store: JobStore, metrics: BotMetrics, engine_alive: Callable[[], bool]) -> web.Application:
    """The two routes: healthy means the engine's loops run and the store answers."""

    async def healthz(_request: web.Request) -> web.Response:
        if engine_alive() and await store_answers(store):
            return web.Response(text="ok\n")
        return web.Response(status=503, text="unhealthy\n")

    async def metrics_page(_request: web.Request) -> web.Response:
        body = await metrics.render(store)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    return app


async def serve_ops(app: web.Application, port: int, host: str = "0.0.0.0") -> web.AppRunner:  # noqa: S104
    """Serve ``app`` on ``host:port`` (every interface by default, so Prometheus can scrape a container);
    clean it up with ``await runner.cleanup()``."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("health and metrics served on port %d", port)
    return runner
