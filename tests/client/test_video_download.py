"""The result video is fetched only from where it may come from, and taken only when it is an MP4.

Servers run on loopback; loopback is allowed only where RUNCOMFY_API_BASE is loopback too. Host names go
through an injected resolver, never real DNS.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from aiohttp import web
from yarl import URL

from client.api import RunComfyClient
from client.fake import FakeConfig, FakeRunComfy
from client.models import AnimateInput, Completed
from client.video_download import (
    MAX_REDIRECTS,
    DownloadPolicy,
    DownloadProblem,
    DownloadRefused,
    ShowLinkInstead,
    VideoBytes,
    VideoDownloader,
    download_video,
    is_public_address,
    looks_like_mp4,
)
from tests.client.conftest import TOKEN, serve

MP4 = (Path(__file__).resolve().parents[2] / "client" / "assets" / "sample.mp4").read_bytes()
PUBLIC_BASE = "https://model-api.runcomfy.net"
CAP = 10 * 1024 * 1024
PEERS = web.AppKey("peers", list[int])
"""The client port of each request to ``/counted.mp4``: one port per connection."""


class Resolver:
    """Answers fixed addresses for host names and records what it was asked."""

    def __init__(self, addresses: dict[str, list[str]]) -> None:
        self.addresses = addresses
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append(host)
        return self.addresses.get(host, [])


def video_server() -> web.Application:
    app = web.Application()

    async def video(_: web.Request) -> web.Response:
        return web.Response(body=MP4, content_type="video/mp4")

    async def text_as_video(_: web.Request) -> web.Response:
        return web.Response(body=b"root:x:0:0:root:/root:/bin/bash\n" * 10, content_type="video/mp4")

    async def mp4_as_text(_: web.Request) -> web.Response:
        return web.Response(body=MP4, content_type="text/plain")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def chain(request: web.Request) -> web.Response:
        left = int(request.match_info["n"])
        raise web.HTTPFound("/video.mp4" if left == 0 else f"/chain/{left - 1}")

    async def missing(_: web.Request) -> web.Response:
        return web.Response(status=404, text="gone")

    async def counted(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.app[PEERS].append(request.transport.get_extra_info("peername")[1])
        return web.Response(body=MP4, content_type="video/mp4")

    app.router.add_get("/video.mp4", video)
    app.router.add_get("/passwd.mp4", text_as_video)
    app.router.add_get("/mp4-as-text", mp4_as_text)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/chain/{n}", chain)
    app.router.add_get("/missing.mp4", missing)
    app.router.add_get("/counted.mp4", counted)
    app[PEERS] = []
    return app


@pytest.fixture
async def local() -> AsyncIterator[str]:
    async with serve(video_server()) as base:
        yield base


async def test_one_downloader_keeps_its_connection_for_the_next_download() -> None:
    app = video_server()
    async with serve(app) as base:
        downloader = VideoDownloader(api_base=base)
        try:
            first = await downloader.download(f"{base}/counted.mp4", max_bytes=CAP)
            second = await downloader.download(f"{base}/counted.mp4", max_bytes=CAP)
        finally:
            await downloader.close()
        alone = await download_video(f"{base}/counted.mp4", api_base=base, max_bytes=CAP)
    assert first == second == alone == VideoBytes(MP4, "video/mp4")
    kept, again, fresh = app[PEERS]
    assert kept == again
    assert fresh != kept


async def test_a_refused_address_is_reported_for_its_own_download_only() -> None:
    resolver = Resolver({"private.example": ["127.0.0.1"], "nowhere.example": []})
    downloader = VideoDownloader(api_base=PUBLIC_BASE, resolve=resolver)
    try:
        refused = await downloader.download("https://private.example/v.mp4", max_bytes=CAP)
        unreachable = await downloader.download("https://nowhere.example/v.mp4", max_bytes=CAP)
    finally:
        await downloader.close()
    assert isinstance(refused, DownloadRefused)
    assert refused.problem is DownloadProblem.PRIVATE_ADDRESS
    assert isinstance(unreachable, ShowLinkInstead)
    assert unreachable.problem is DownloadProblem.UNREACHABLE
    assert resolver.asked == ["private.example", "nowhere.example"]


async def test_an_mp4_from_the_api_host_is_downloaded_when_the_base_is_local(local: str) -> None:
    outcome = await download_video(f"{local}/video.mp4", api_base=local, max_bytes=CAP)
    assert outcome == VideoBytes(MP4, "video/mp4")


async def test_a_redirect_within_bounds_is_followed(local: str) -> None:
    outcome = await download_video(f"{local}/chain/{MAX_REDIRECTS - 1}", api_base=local, max_bytes=CAP)
    assert isinstance(outcome, VideoBytes)


async def test_more_redirects_than_the_bound_are_refused(local: str) -> None:
    outcome = await download_video(f"{local}/chain/{MAX_REDIRECTS}", api_base=local, max_bytes=CAP)
    assert isinstance(outcome, DownloadRefused)
    assert outcome.problem is DownloadProblem.TOO_MANY_REDIRECTS


@pytest.mark.parametrize(
    "to",
    [
        "http://localhost:1/video.mp4",  # plain http to another host than the API's
        "ftp://127.0.0.1/video.mp4",
        "file:///etc/passwd",
    ],
)
async def test_each_redirect_is_checked_again(local: str, to: str) -> None:
    outcome = await download_video(f"{local}/redirect?to={to}", api_base=local, max_bytes=CAP)
    assert isinstance(outcome, DownloadRefused)
    assert outcome.problem is DownloadProblem.UNSAFE_URL


@pytest.mark.parametrize("path", ["/passwd.mp4", "/mp4-as-text"])
async def test_a_body_that_is_not_an_mp4_is_refused(local: str, path: str) -> None:
    outcome = await download_video(local + path, api_base=local, max_bytes=CAP)
    assert isinstance(outcome, DownloadRefused)
    assert outcome.problem is DownloadProblem.NOT_A_VIDEO
    assert "root:" not in outcome.detail


async def test_a_video_over_the_cap_is_a_link_instead(local: str) -> None:
    outcome = await download_video(f"{local}/video.mp4", api_base=local, max_bytes=len(MP4) - 1)
    assert isinstance(outcome, ShowLinkInstead)
    assert outcome.problem is DownloadProblem.TOO_LARGE
    exact = await download_video(f"{local}/video.mp4", api_base=local, max_bytes=len(MP4))
    assert isinstance(exact, VideoBytes)


async def test_an_http_error_is_a_link_instead(local: str) -> None:
    outcome = await download_video(f"{local}/missing.mp4", api_base=local, max_bytes=CAP)
    assert outcome == ShowLinkInstead(DownloadProblem.HTTP_ERROR, "the video URL answered HTTP 404")


async def test_loopback_is_refused_when_the_base_is_public(local: str) -> None:
    port = URL(local).port
    resolver = Resolver({"videos.example": ["127.0.0.1"]})
    by_name = await download_video(
        f"https://videos.example:{port}/video.mp4", api_base=PUBLIC_BASE, max_bytes=CAP, resolve=resolver
    )
    assert isinstance(by_name, DownloadRefused)
    assert by_name.problem is DownloadProblem.PRIVATE_ADDRESS
    assert resolver.asked == ["videos.example"]
    by_literal = await download_video(
        f"https://127.0.0.1:{port}/video.mp4", api_base=PUBLIC_BASE, max_bytes=CAP
    )
    assert isinstance(by_literal, DownloadRefused)
    assert by_literal.problem is DownloadProblem.PRIVATE_ADDRESS


async def test_every_address_of_a_host_is_checked(local: str) -> None:
    port = URL(local).port
    resolver = Resolver({"videos.example": ["93.184.216.34", "10.0.0.7"]})
    outcome = await download_video(
        f"https://videos.example:{port}/v.mp4", api_base=PUBLIC_BASE, max_bytes=CAP, resolve=resolver
    )
    assert isinstance(outcome, DownloadRefused)
    assert outcome.problem is DownloadProblem.PRIVATE_ADDRESS


async def test_plain_http_is_refused_when_the_base_is_public(local: str) -> None:
    outcome = await download_video(f"{local}/video.mp4", api_base=PUBLIC_BASE, max_bytes=CAP)
    assert isinstance(outcome, DownloadRefused)
    assert outcome.problem is DownloadProblem.UNSAFE_URL


async def test_an_unreachable_public_host_is_a_link_instead() -> None:
    resolver = Resolver({})
    outcome = await download_video(
        "https://videos.example/v.mp4", api_base=PUBLIC_BASE, max_bytes=CAP, resolve=resolver
    )
    assert isinstance(outcome, ShowLinkInstead)
    assert outcome.problem is DownloadProblem.UNREACHABLE


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example/v.mp4",
        "javascript:alert(1)",
        "https://user:pw@cdn.example/v.mp4",
        "https:///v.mp4",
        "https://10.1.2.3/v.mp4",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/v.mp4",
        "https://[::ffff:127.0.0.1]/v.mp4",
        "https://0.0.0.0/v.mp4",
        "https://224.0.0.1/v.mp4",
        "https://[fe80::1]/v.mp4",
    ],
)
def test_the_policy_for_a_public_base_refuses(url: str) -> None:
    assert DownloadPolicy.for_api_base(PUBLIC_BASE).check_url(URL(url)) is not None


@pytest.mark.parametrize(
    ("base", "url"),
    [
        (PUBLIC_BASE, "https://cdn.runcomfy.net/v.mp4"),
        (PUBLIC_BASE, "https://93.184.216.34/v.mp4"),
        (PUBLIC_BASE, "http://model-api.runcomfy.net/v.mp4"),
        ("http://127.0.0.1:8700", "http://127.0.0.1:9999/v.mp4"),
        ("http://127.0.0.1:8700", "https://10.0.0.1/v.mp4"),
        ("http://localhost:8700", "http://localhost:8700/v.mp4"),
    ],
)
def test_the_policy_allows(base: str, url: str) -> None:
    assert DownloadPolicy.for_api_base(base).check_url(URL(url)) is None


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),
        ("::", False),
        ("ff02::1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    ("content_type", "head", "expected"),
    [
        ("video/mp4", MP4[:8], True),
        ("Video/MP4; codecs=avc1", MP4[:8], True),
        ("video/", MP4[:8], False),
        ("text/html", MP4[:8], False),
        (None, MP4[:8], False),
        ("video/mp4", b"<html><body>", False),
        ("video/mp4", b"ftyp0000", False),
    ],
)
def test_an_mp4_is_recognised_by_type_and_signature(
    content_type: str | None, head: bytes, expected: bool
) -> None:
    assert looks_like_mp4(content_type, head) is expected


async def test_the_video_of_the_runcomfy_double_is_downloaded() -> None:
    async with FakeRunComfy(TOKEN, FakeConfig(manual=True, check_images=False)) as fake:
        async with RunComfyClient(TOKEN, fake.base_url) as api:
            job = AnimateInput(prompt="a cat waves", first_frame_image_url="https://cdn.example/cat.png")
            request_id = (await api.submit(job)).request_id
            fake.advance(request_id)
            fake.advance(request_id)
            final = await api.wait(request_id, poll_min_s=0.01, poll_max_s=0.01)
        assert isinstance(final, Completed)
        assert final.video_url is not None
        outcome = await download_video(final.video_url, api_base=fake.base_url, max_bytes=CAP)
    assert isinstance(outcome, VideoBytes)
    assert outcome.content_type.startswith("video/")
