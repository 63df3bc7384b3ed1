"""The seed's image rules, checked without any network.

The seed writes every rule as a strict comparison (``width_pixels< 6000``, ``width_pixels> 300``,
``width/height> 0.4``, ``file_size_mb< 30``), so each boundary value itself is rejected:

* width and height must each be strictly between 300 and 6000 px (301..5999 pass; 300 and 6000 fail);
* width/height must be strictly between 0.4 and 2.5 (exactly 2:5 or 5:2 fails); compared in integers,
  so no float rounding decides a boundary;
* the file must be smaller than 30 MB, counted in decimal megabytes (30,000,000 bytes fails). The seed does
  not say whether a megabyte is 10^6 or 2^20 bytes; the smaller reading is the one that never pays for an
  image the API might reject.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

MIN_SIDE_PX = 300
MAX_SIDE_PX = 6000
MAX_FILE_BYTES = 30 * 1000 * 1000
# width/height must lie strictly between 2/5 and 5/2.
_RATIO_LOW = (2, 5)
_RATIO_HIGH = (5, 2)


class ImageRule(enum.StrEnum):
    """A rule of the seed, named so that callers can translate it."""

    TOO_LARGE = "too_large"
    TOO_SMALL = "too_small"
    ASPECT_RATIO = "aspect_ratio"
    FILE_TOO_HEAVY = "file_too_heavy"


API_ERROR_TEXT: dict[ImageRule, str] = {
    ImageRule.TOO_LARGE: "The uploaded image width and height must not exceed 6000 pixels.",
    ImageRule.TOO_SMALL: "The uploaded image width and height must not be less than 300 pixels.",
    ImageRule.ASPECT_RATIO: "The aspect ratio range should be between 0.4 and 2.5.",
    ImageRule.FILE_TOO_HEAVY: "File size must be less than 30 MB.",
}


@dataclass(frozen=True, slots=True)
class RuleViolation:
    """One broken rule, with the API's own error text."""

    rule: ImageRule

    @property
    def message(self) -> str:
        return API_ERROR_TEXT[self.rule]


def check_image(width: int, height: int, size_bytes: int | None) -> list[RuleViolation]:
    """Return every seed rule the image breaks, in the seed's order; an empty list means it passes.

    ``size_bytes`` may be ``None`` when the size is unknown; the size rule is then not checked.
    """
    broken: list[RuleViolation] = []
    if width >= MAX_SIDE_PX or height >= MAX_SIDE_PX:
        broken.append(RuleViolation(ImageRule.TOO_LARGE))
    if width <= MIN_SIDE_PX or height <= MIN_SIDE_PX:
        broken.append(RuleViolation(ImageRule.TOO_SMALL))
    if not _ratio_allowed(width, height):
        broken.append(RuleViolation(ImageRule.ASPECT_RATIO))
    if size_bytes is not None and size_bytes >= MAX_FILE_BYTES:
        broken.append(RuleViolation(ImageRule.FILE_TOO_HEAVY))
    return broken


def _ratio_allowed(width: int, height: int) -> bool:
    if width <= 0 or height <= 0:
        return False
    low_num, low_den = _RATIO_LOW
    high_num, high_den = _RATIO_HIGH
    return width * low_den > height * low_num and width * high_den < height * high_num
