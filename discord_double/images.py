"""Test images made with Pillow, down to an exact byte size (PNG padded with an ancillary chunk)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from discord_double.state import LocalFile

_CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
_PNG_CHUNK_OVERHEAD = 12  # length + type + CRC


def image_bytes(
    width: int, height: int, fmt: str = "PNG", *, colour: tuple[int, int, int] = (200, 80, 40)
) -> bytes:
    """An image of the given size and format (``PNG``, ``JPEG``, ``WEBP``, ``GIF``)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format=fmt.upper())
    return out.getvalue()


def pad_png(data: bytes, size: int) -> bytes:
    """Grow a PNG to exactly ``size`` bytes with a private ancillary chunk placed just before IEND."""
    missing = size - len(data)
    if missing == 0:
        return data
    if missing < _PNG_CHUNK_OVERHEAD:
        raise ValueError(
            f"cannot pad a PNG by {missing} bytes (a chunk needs at least {_PNG_CHUNK_OVERHEAD})"
        )
    body = b"\0" * (missing - _PNG_CHUNK_OVERHEAD)
    chunk_type = b"plTe"  # lowercase first letter: ancillary; lowercase third would be reserved, so keep 'T'
    chunk = (
        struct.pack(">I", len(body)) + chunk_type + body + struct.pack(">I", zlib.crc32(chunk_type + body))
    )
    iend = data.rindex(b"IEND") - 4
    return data[:iend] + chunk + data[iend:]


def make_image(
    width: int = 640,
    height: int = 480,
    fmt: str = "PNG",
    *,
    size: int | None = None,
    filename: str | None = None,
) -> LocalFile:
    """A :class:`LocalFile` image for ``invoke_command``; ``size`` (PNG only) pads it to that many bytes."""
    fmt = fmt.upper()
    data = image_bytes(width, height, fmt)
    if size is not None:
        if fmt != "PNG":
            raise ValueError("exact sizes are only made for PNG")
        data = pad_png(data, size)
    extension = {"JPEG": "jpg"}.get(fmt, fmt.lower())
    return LocalFile(filename or f"image.{extension}", data, _CONTENT_TYPES.get(fmt))
