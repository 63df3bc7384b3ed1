"""Doubles for the client tests: a recording sleep, a mocked HTTP layer and a scripted loopback API."""

from __future__ import annotations

import asyncio
import io
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aioresponses import aioresponses
from PIL import Image
from yarl import URL

from client.api import SUBMIT_PATH, RunComfyClient

TOKEN = "rc-test-token-9f8e7d6c5b4a"
# aioresponses answers for this base; nothing listens there.
MOCK_BASE = "http://127.0.0.1:8931"
REQUEST_ID = "req-0001"


class RecordingSleep:
    """An injectable sleep that returns at once and remembers every delay asked for."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


class _CompatResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 does not pass the ``stream_writer`` aiohttp 3.14 requires
    (pnuckowski/aioresponses#289, open); a stand-in with no output size keeps it working."""

    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class CompatAioresponses(aioresponses):
    """aioresponses whose answers are built with :class:`_CompatResponse`."""

    def add(self, url: Any, method: str = "GET", **kwargs: Any) -> None:  # type: ignore[override]
        kwargs.setdefault("response_class", _CompatResponse)
        super().add(url, method, **kwargs)


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with CompatAioresponses() as mock:
        yield mock


@pytest.fixture
async def client(sleeps: RecordingSleep) -> AsyncIterator[RunComfyClient]:
    """A client over aioresponses with deterministic jitter (always the ceiling)."""
    async with RunComfyClient(TOKEN, MOCK_BASE, sleep=sleeps, rand=lambda: 1.0, timeout_s=5) as api:
        yield api


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port); yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def png_bytes(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class ScriptedApi:
    """A loopback RunComfy whose answers the test scripts; it also serves pictures.

    ``results``: successive ``/result`` (and ``/status``) answers, the last one repeating.
    Pictures: ``/images/{w}x{h}.png``; anything else under ``/images/`` is 404.
    """

    results: list[dict[str, Any]] = field(
        default_factory=lambda: [{"request_id": REQUEST_ID, "status": "in_queue", "queue_position": 1}]
    )
    cancel_answer: dict[str, Any] = field(
        default_factory=lambda: {"request_id": REQUEST_ID, "status": "cancelled", "outcome": "cancelled"}
    )
    submit_error: tuple[int, dict[str, Any]] | None = None
    hits: Counter[str] = field(default_factory=Counter)
    submitted: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    polled: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(SUBMIT_PATH, self._submit)
        app.router.add_get("/v1/requests/{id}/result", self._result)
        app.router.add_get("/v1/requests/{id}/status", self._result)
        app.router.add_post("/v1/requests/{id}/cancel", self._cancel)
        app.router.add_get("/images/{name}", self._image)
        return app

    def _record(self, request: web.Request, name: str) -> None:
        self.hits[name] += 1
        self.authorizations.append(request.headers.get("Authorization", ""))

    async def _submit(self, request: web.Request) -> web.Response:
        self._record(request, "submit")
        self.submitted.append(await request.json())
        if self.submit_error is not None:
            status, body = self.submit_error
            return web.json_response(body, status=status)
        return web.json_response(
            {
                "request_id": REQUEST_ID,
                "status_url": f"/v1/requests/{REQUEST_ID}/status",
                "result_url": f"/v1/requests/{REQUEST_ID}/result",
                "cancel_url": f"/v1/requests/{REQUEST_ID}/cancel",
            }
        )

    async def _result(self, request: web.Request) -> web.Response:
        self._record(request, "result")
        self.polled.set()
        answer = self.results.pop(0) if len(self.results) > 1 else self.results[0]
        return web.json_response(answer)

    async def _cancel(self, request: web.Request) -> web.Response:
        self._record(request, "cancel")
        return web.json_response(self.cancel_answer)

    async def _image(self, request: web.Request) -> web.Response:
        match = re.fullmatch(r"(\d+)x(\d+)\.png", request.match_info["name"])
        if match is None:
            raise web.HTTPNotFound()
        return web.Response(body=png_bytes(int(match[1]), int(match[2])), content_type="image/png")


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[ScriptedApi, str]]:
    api = ScriptedApi()
    async with serve(api.app()) as base:
        yield api, base
