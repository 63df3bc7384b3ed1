"""Test images of exact shape and size, and the CDN that serves attachments on loopback."""

from __future__ import annotations

import io

import aiohttp
import pytest
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
