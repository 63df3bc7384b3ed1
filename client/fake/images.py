"""Fetch the image URLs a job names and apply the seed's image rules to them, as the real API does.

Choices where the seed is silent: an image that cannot be fetched (refused connection, timeout, non-2xx
answer, unsupported scheme) or whose body is not an image Pillow can read is refused with 422, like any
other invalid input, with ``type`` ``image_fetch_failed`` or ``image_unreadable``. ``http://`` is accepted
besides ``https://`` so tests can serve images from loopback; ``data:image/...;base64,`` URIs are read too,
as RunComfy's own nodes send them.
"""

from __future__ import annotations

import base64
import binascii
import io

import aiohttp
from PIL import Image, UnidentifiedImageError

from client.fake.schema import DECIMAL_MEGABYTE, FieldIssue, broken_image_validations, size_limit_bytes

_CHUNK = 256 * 1024


class ImageUnavailable(Exception):
    """The image could not be fetched; the message says why, without any secret."""


async def check_image_url(
    session: aiohttp.ClientSession,
    field: str,
    url: str,
    timeout_s: float,
    *,
    megabyte_bytes: int = DECIMAL_MEGABYTE,
) -> list[FieldIssue]:
    """Fetch ``url`` and return the issues the seed's rules find with it (empty when it passes).

    Rules that share an error text (width and height, say) are reported once per field.
    """
    try:
        data, size = await _fetch(session, url, timeout_s, size_limit_bytes(megabyte_bytes))
    except ImageUnavailable as exc:
        return [FieldIssue(field, f"Could not fetch {field}: {exc}.", "image_fetch_failed", standalone=True)]
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        width, height = 100_000, 100_000  # far beyond the seed's maximum side; refused as too large
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        msg = f"{field} does not point to a readable image."
        return [FieldIssue(field, msg, "image_unreadable", standalone=True)]
    broken = broken_image_validations(width, height, size, megabyte_bytes=megabyte_bytes)
    texts = dict.fromkeys(rule.validation_error for rule in broken)
    return [FieldIssue(field, text, "image_validation", standalone=True) for text in texts]


async def _fetch(
    session: aiohttp.ClientSession, url: str, timeout_s: float, limit_bytes: int
) -> tuple[bytes, int]:
    """The image's bytes (about ``limit_bytes`` at most) and its size (capped just past the limit)."""
    if url.startswith("data:"):
        return _decode_data_uri(url)
    if not url.startswith(("http://", "https://")):
        raise ImageUnavailable("unsupported URL scheme")
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            if response.status >= 300:
                raise ImageUnavailable(f"HTTP {response.status}")
            buffer = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK):
                buffer.extend(chunk)
                if len(buffer) >= limit_bytes:
                    break
            return bytes(buffer), len(buffer)
    except TimeoutError as exc:
        raise ImageUnavailable("timed out") from exc
    except (aiohttp.ClientError, ValueError) as exc:
        raise ImageUnavailable("connection failed") from exc


def _decode_data_uri(url: str) -> tuple[bytes, int]:
    header, _, payload = url.partition(",")
    if not header.endswith(";base64"):
        raise ImageUnavailable("only base64 data URIs are supported")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageUnavailable("invalid base64 data URI") from exc
    return data, len(data)
