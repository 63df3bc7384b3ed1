"""The fake fetches the job's images and applies the seed's image rules at their boundaries."""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from client.fake import FakeConfig, FakeRunComfy
from tests.client.test_fake import (
    SUBMIT_PATH,
    TOKEN,
    call,
    http_fixture,  # noqa: F401 (provides the `http` fixture)
    valid_body,
)

# The seed's error texts, written out here so that neither the fake nor the client supplies its own answer.
TOO_LARGE = "The uploaded image width and height must not exceed 6000 pixels."
TOO_SMALL = "The uploaded image width and height must not be less than 300 pixels."
RATIO = "The aspect ratio range should be between 0.4 and 2.5."
TOO_HEAVY = "File size must be less than 30 MB."
DECIMAL_LIMIT = 30 * 10**6
BINARY_LIMIT = 30 * 2**20


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


async def serve_png(request: web.Request) -> web.Response:
    return web.Response(
        body=png(int(request.match_info["w"]), int(request.match_info["h"])), content_type="image/png"
    )


async def serve_sized(request: web.Request) -> web.Response:
    """A 400x400 PNG followed by zeros up to exactly the size asked for (Pillow ignores trailing data)."""
    image = png(400, 400)
    size = int(request.match_info["size"])
    return web.Response(body=image + bytes(size - len(image)), content_type="image/png")


async def serve_text(request: web.Request) -> web.Response:
    return web.Response(text="not a picture")


async def serve_never(request: web.Request) -> web.Response:
    """Hold the request open until the server shuts down."""
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


@pytest.fixture(name="images")
async def images_fixture() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/png/{w}x{h}", serve_png)
    app.router.add_get("/sized/{size}", serve_sized)
    app.router.add_get("/text", serve_text)
    app.router.add_get("/slow", serve_never)
    runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.fixture(name="fake")
async def fake_fixture() -> AsyncIterator[FakeRunComfy]:
    async with FakeRunComfy(TOKEN, FakeConfig(manual=True, image_fetch_timeout_s=0.3)) as running:
        yield running


async def submit_image(
    http: aiohttp.ClientSession, fake: FakeRunComfy, url: str, **changes: Any
) -> dict[str, Any]:
    status, body = await call(
        http, "POST", fake.base_url + SUBMIT_PATH, json=valid_body(first_frame_image_url=url, **changes)
    )
    assert status in (200, 422), body
    return body


@pytest.mark.parametrize(
    ("width", "height", "messages"),
    [
        (301, 301, []),
        (300, 400, [TOO_SMALL]),
        (400, 300, [TOO_SMALL]),
        (5999, 3000, []),
        (6000, 3000, [TOO_LARGE]),
        (3000, 6000, [TOO_LARGE]),
        (999, 400, []),
        (1000, 400, [RATIO]),
        (401, 1000, []),
        (400, 1000, [RATIO]),
        (300, 1000, [TOO_SMALL, RATIO]),
    ],
)
async def test_image_sides_and_ratio_at_their_boundaries(
    fake: FakeRunComfy,
    http: aiohttp.ClientSession,
    images: str,
    width: int,
    height: int,
    messages: list[str],
) -> None:
    body = await submit_image(http, fake, f"{images}/png/{width}x{height}")
    if not messages:
        assert "request_id" in body
        assert len(fake.jobs) == 1
        return
    assert body["error_code"] == 422001
    assert body["error_message"] == "; ".join(messages)
    assert [d["msg"] for d in body["detail"]] == messages
    assert {tuple(d["loc"]) for d in body["detail"]} == {("body", "first_frame_image_url")}
    assert not fake.jobs


@pytest.mark.parametrize(
    ("megabyte", "size", "accepted"),
    [
        (None, DECIMAL_LIMIT - 1, True),
        (None, DECIMAL_LIMIT, False),
        (10**6, DECIMAL_LIMIT - 1, True),
        (10**6, DECIMAL_LIMIT, False),
        (2**20, DECIMAL_LIMIT, True),
        (2**20, BINARY_LIMIT - 1, True),
        (2**20, BINARY_LIMIT, False),
    ],
)
async def test_the_file_size_limit_is_strict_in_either_megabyte(
    http: aiohttp.ClientSession, images: str, megabyte: int | None, size: int, accepted: bool
) -> None:
    config = FakeConfig(manual=True) if megabyte is None else FakeConfig(manual=True, megabyte_bytes=megabyte)
    async with FakeRunComfy(TOKEN, config) as fake:
        body = await submit_image(http, fake, f"{images}/sized/{size}")
        if accepted:
            assert "request_id" in body
            assert len(fake.jobs) == 1
        else:
            assert body["error_message"] == TOO_HEAVY
            assert body["detail"] == [
                {"loc": ["body", "first_frame_image_url"], "msg": TOO_HEAVY, "type": "image_validation"}
            ]
            assert not fake.jobs


def test_a_megabyte_must_hold_bytes() -> None:
    with pytest.raises(ValueError, match="megabyte_bytes"):
        FakeConfig(megabyte_bytes=0)


async def test_the_last_frame_is_checked_too(
    fake: FakeRunComfy, http: aiohttp.ClientSession, images: str
) -> None:
    body = await submit_image(
        http, fake, f"{images}/png/400x400", last_frame_image_url=f"{images}/png/200x200", resolution="1080p"
    )
    assert body["error_message"] == TOO_SMALL
    assert body["detail"][0]["loc"] == ["body", "last_frame_image_url"]


async def test_the_same_rule_broken_twice_reads_once(
    fake: FakeRunComfy, http: aiohttp.ClientSession, images: str
) -> None:
    small = f"{images}/png/200x200"
    body = await submit_image(http, fake, small, last_frame_image_url=small)
    assert body["error_message"] == TOO_SMALL
    assert len(body["detail"]) == 2


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("path", "kind", "says"),
    [
        ("/missing", "image_fetch_failed", "HTTP 404"),
        ("/slow", "image_fetch_failed", "timed out"),
        ("/text", "image_unreadable", "does not point to a readable image"),
    ],
)
async def test_an_image_that_cannot_be_read_is_a_422(
    fake: FakeRunComfy, http: aiohttp.ClientSession, images: str, path: str, kind: str, says: str
) -> None:
    body = await submit_image(http, fake, images + path)
    assert body["error_code"] == 422001
    assert says in body["error_message"]
    assert "first_frame_image_url" in body["error_message"]
    assert body["detail"][0]["type"] == kind
    assert not fake.jobs


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.invalid/cat.png",
        "data:image/png;base64,@@@",
        "data:image/png,plain",
    ],
)
async def test_urls_that_cannot_be_fetched_are_a_422(
    fake: FakeRunComfy, http: aiohttp.ClientSession, url: str
) -> None:
    body = await submit_image(http, fake, url)
    assert body["detail"][0]["type"] == "image_fetch_failed"


async def test_an_unreachable_host_is_a_422(fake: FakeRunComfy, http: aiohttp.ClientSession) -> None:
    body = await submit_image(http, fake, f"http://127.0.0.1:{unused_port()}/cat.png")
    assert body["detail"][0]["type"] == "image_fetch_failed"
    assert "connection failed" in body["error_message"]


async def test_image_checks_can_be_switched_off(http: aiohttp.ClientSession) -> None:
    async with FakeRunComfy(TOKEN, FakeConfig(manual=True, check_images=False)) as fake:
        body = await submit_image(http, fake, "https://cdn.example.invalid/cat.png")
    assert "request_id" in body
