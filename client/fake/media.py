"""The output video the fake serves: a real H.264 MP4, optionally padded to an exact size.

``client/assets/sample.mp4`` (1 s, 160x90, 24 fps, about 3 KB) was made once with:

    ffmpeg -f lavfi -i "testsrc=size=160x90:rate=24:duration=1" -c:v libx264 -preset veryslow -crf 40 \
        -pix_fmt yuv420p -movflags +faststart -an -map_metadata -1 -fflags +bitexact -flags:v +bitexact \
        client/assets/sample.mp4
"""

from __future__ import annotations

import struct
from importlib import resources

_BOX_HEADER = 8
_MAX_BOX = 2**32 - 1


def sample_video() -> bytes:
    """The committed sample MP4."""
    return resources.files("client").joinpath("assets/sample.mp4").read_bytes()


def padded_video(video: bytes, size: int) -> bytes:
    """``video`` grown to exactly ``size`` bytes by appending an MP4 ``free`` box, so it stays valid."""
    extra = size - len(video)
    if extra == 0:
        return video
    if extra < _BOX_HEADER or extra > _MAX_BOX:
        raise ValueError(
            f"cannot pad a {len(video)}-byte video to {size} bytes: "
            f"a free box needs {_BOX_HEADER} to {_MAX_BOX} extra bytes"
        )
    return video + struct.pack(">I4s", extra, b"free") + bytes(extra - _BOX_HEADER)
