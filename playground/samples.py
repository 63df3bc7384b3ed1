"""The bundled sample pictures, drawn with Pillow on first use; some break the API's rules on purpose."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from discord_double.state import LocalFile

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Sample:
    name: str
    width: int
    height: int
    fmt: str
    note: str
    sky: Colour
    ground: Colour
    sun: Colour

    @property
    def filename(self) -> str:
        return f"{self.name}.{ {'JPEG': 'jpg'}.get(self.fmt, self.fmt.lower()) }"

    @property
    def content_type(self) -> str:
        return {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}[self.fmt]


SAMPLES: tuple[Sample, ...] = (
    Sample("sunset", 768, 512, "PNG", "768×512 PNG", (250, 140, 90), (60, 40, 70), (255, 230, 150)),
    Sample("lake", 640, 640, "JPEG", "640×640 JPEG", (120, 180, 230), (40, 110, 90), (255, 250, 220)),
    Sample(
        "night", 768, 512, "PNG", "768×512 PNG, a last frame", (20, 30, 70), (15, 20, 40), (235, 235, 210)
    ),
    Sample("tiny", 240, 180, "PNG", "240×180: too small", (200, 120, 200), (90, 50, 110), (255, 220, 255)),
    Sample("banner", 1500, 400, "PNG", "1500×400: too wide", (110, 200, 170), (30, 90, 80), (255, 255, 200)),
    Sample(
        "loop", 640, 480, "GIF", "640×480 GIF: not accepted", (230, 200, 80), (120, 80, 30), (255, 255, 255)
    ),
)
BY_NAME = {sample.name: sample for sample in SAMPLES}


def _draw(sample: Sample) -> Image.Image:
    """A small landscape: a sky fading into the horizon, a sun and two hills."""
    width, height = sample.width, sample.height
    image = Image.new("RGB", (width, height), sample.sky)
    draw = ImageDraw.Draw(image)
    horizon = int(height * 0.62)
    for y in range(horizon):
        mix = y / horizon
        colour = tuple(int(s + (g - s) * mix * 0.35) for s, g in zip(sample.sky, sample.ground, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    radius = min(width, height) // 9
    cx, cy = int(width * 0.68), int(horizon * 0.55)
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=sample.sun)
    hill = tuple(max(0, c - 25) for c in sample.ground)
    draw.ellipse([-width // 3, horizon - height // 6, width // 2, height + height // 2], fill=hill)
    draw.ellipse(
        [width // 4, horizon - height // 10, width + width // 3, height + height // 2], fill=sample.ground
    )
    return image


@functools.cache
def sample_bytes(name: str) -> bytes:
    sample = BY_NAME[name]
    out = io.BytesIO()
    _draw(sample).save(out, format=sample.fmt)
    return out.getvalue()


def sample_file(name: str) -> LocalFile:
    """The sample as a file a member attaches (KeyError for an unknown name)."""
    sample = BY_NAME[name]
    return LocalFile(sample.filename, sample_bytes(name), sample.content_type)
