"""Test images of exact shape and size, and the CDN that serves attachments on loopback."""

from __future__ import annotations

import io
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import discord
import pytest
from discord.http import Route
from PIL import Image

from discord_double import DiscordDouble, make_image
from discord_double.images import pad_png


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_images_have_the_asked_shape_and_format(fmt: str, content_type: str) -> None:
    image = make_image(333, 222, fmt)
    assert image.content_type == content_type
    with Image.open(io.BytesIO(image.data)) as opened:
        assert opened.size == (333, 222)
        assert opened.format == fmt


def test_a_png_is_padded_to_an_exact_size_and_still_decodes() -> None:
    image = make_image(400, 300, size=123_457)
    assert len(image.data) == 123_457
    with Image.open(io.BytesIO(image.data)) as opened:
        opened.load()
        assert opened.size == (400, 300)


def test_padding_smaller_than_a_chunk_is_refused() -> None:
    data = make_image(10, 10).data
    with pytest.raises(ValueError, match="cannot pad"):
        pad_png(data, len(data) + 5)


async def test_attachment_urls_serve_their_bytes(discord_double: DiscordDouble) -> None:
    image = make_image(640, 480)
    attachment = discord_double.world.store_file(discord_double.channel.id, "cat.png", image.data, None)
    assert attachment.get("content_type") == "image/png"
    assert (attachment.get("width"), attachment.get("height")) == (640, 480)
    async with aiohttp.ClientSession() as http:
        for url in (attachment["url"], attachment["proxy_url"]):
            assert url.startswith(discord_double.base_url)
            async with http.get(url) as answer:
                assert answer.status == 200
                assert answer.headers["Content-Type"] == "image/png"
                assert await answer.read() == image.data
        async with http.get(attachment["url"].replace("cat.png", "dog.png")) as answer:
            assert answer.status == 404


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


async def test_attachment_urls_are_signed_like_discords(discord_double: DiscordDouble) -> None:
    attachment = discord_double.world.store_file(discord_double.channel.id, "cat.png", b"png", None)
    for url in (attachment["url"], attachment["proxy_url"]):
        assert url.endswith("&")
        query = _query(url)
        assert set(query) == {"ex", "is", "hm"}
        assert int(query["ex"], 16) - int(query["is"], 16) == 24 * 3600
        assert abs(int(query["is"], 16) - discord_double.now()) < 5
        assert len(query["hm"]) == 64


async def test_the_cdn_refuses_expired_unsigned_tampered_and_withdrawn_links(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    channel = double.channel.id
    attachment = double.world.store_file(channel, "cat.png", b"png", None)
    url = attachment["url"]
    assert await bot_http.get_from_cdn(url) == b"png"

    unsigned = url.split("?")[0]
    other = double.world.store_file(channel, "dog.png", b"dog", None)
    tampered = url.replace(_query(url)["hm"], _query(other["url"])["hm"])
    for bad in (unsigned, tampered, unsigned + "?ex=ffffffff&is=0&"):
        with pytest.raises(discord.NotFound):
            await bot_http.get_from_cdn(bad)
    async with aiohttp.ClientSession() as http, http.get(unsigned) as answer:
        assert (answer.status, await answer.text()) == (404, "This content is no longer available.")

    double.advance_clock(24 * 3600 + 1)
    with pytest.raises(discord.NotFound):
        await bot_http.get_from_cdn(url)

    assert await bot_http.get_from_cdn(double.world.refreshed_url(other["url"])) == b"dog"
    double.expire_attachment(other["id"])
    with pytest.raises(discord.NotFound):
        await bot_http.get_from_cdn(double.world.refreshed_url(other["url"]))


async def test_refresh_urls_signs_attachment_links_anew(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    attachment = double.world.store_file(double.channel.id, "cat.png", b"png", None)
    double.advance_clock(25 * 3600)
    elsewhere = "https://example.com/picture.png"

    answer = await bot_http.request(
        Route("POST", "/attachments/refresh-urls"),
        json={"attachment_urls": [attachment["url"], elsewhere]},
    )

    refreshed = answer["refreshed_urls"]
    assert [r["original"] for r in refreshed] == [attachment["url"], elsewhere]
    assert refreshed[1]["refreshed"] == elsewhere
    fresh = refreshed[0]["refreshed"]
    assert fresh.split("?")[0] == attachment["url"].split("?")[0]
    assert int(_query(fresh)["ex"], 16) > double.now()
    assert await bot_http.get_from_cdn(fresh) == b"png"
    with pytest.raises(discord.HTTPException) as caught:
        await bot_http.request(Route("POST", "/attachments/refresh-urls"), json={"urls": []})
    assert caught.value.status == 400
