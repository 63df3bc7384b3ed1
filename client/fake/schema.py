"""The seed's input schema, checked the way the real API reports it (FastAPI/pydantic-style ``detail``).

The image rules are the seed's own ``validations`` list, copied here rule by rule and evaluated here, apart
from the client's ``client.image_rules``, so that a mistake in either shows up as a disagreement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

MODEL_PATH = "bytedance/seedance-1-0/lite/image-to-video"
PROMPT_MAX_LENGTH = 1900
RESOLUTIONS = ("480p", "720p", "1080p")
DURATIONS = (5, 10)
IMAGE_FIELDS = ("first_frame_image_url", "last_frame_image_url")
_REQUIRED = ("prompt", "first_frame_image_url")
_STRING_FIELDS = ("prompt", "first_frame_image_url", "last_frame_image_url", "resolution")
DECIMAL_MEGABYTE = 1_000_000
BINARY_MEGABYTE = 2**20


@dataclass(frozen=True, slots=True)
class ImageValidation:
    """One entry of the seed's ``validations`` list: the measure before ``<``/``>`` must lie on that side
    of ``validation_value``, else the API answers ``validation_error``."""

    validation_rule: str
    validation_value: int | float
    validation_error: str

    @property
    def measure(self) -> str:
        return self.validation_rule[:-1]

    def holds(self, width: int, height: int, size_bytes: int | None, megabyte_bytes: int) -> bool:
        """Whether an image of this size passes the rule (a rule on an unknown size passes)."""
        measured = _measure(self.measure, width, height, size_bytes, megabyte_bytes)
        if measured is None:
            return True
        limit = Fraction(str(self.validation_value))
        return measured < limit if self.validation_rule.endswith("<") else measured > limit


# The seed's "validations" for first_frame_image_url and last_frame_image_url (the same list for both),
# in the seed's order and words.
_TOO_LARGE = "The uploaded image width and height must not exceed 6000 pixels."
_TOO_SMALL = "The uploaded image width and height must not be less than 300 pixels."
_RATIO = "The aspect ratio range should be between 0.4 and 2.5."
IMAGE_VALIDATIONS: tuple[ImageValidation, ...] = (
    ImageValidation("width_pixels<", 6000, _TOO_LARGE),
    ImageValidation("height_pixels<", 6000, _TOO_LARGE),
    ImageValidation("width_pixels>", 300, _TOO_SMALL),
    ImageValidation("height_pixels>", 300, _TOO_SMALL),
    ImageValidation("width/height>", 0.4, _RATIO),
    ImageValidation("width/height<", 2.5, _RATIO),
    ImageValidation("file_size_mb<", 30, "File size must be less than 30 MB."),
)


def broken_image_validations(
    width: int, height: int, size_bytes: int | None, *, megabyte_bytes: int = DECIMAL_MEGABYTE
) -> list[ImageValidation]:
    """The seed's image rules this image breaks, in the seed's order (empty when it passes).

    Comparisons are exact (fractions, no float rounding). The seed does not say how many bytes its
    megabyte holds; ``megabyte_bytes`` picks the reading.
    """
    return [rule for rule in IMAGE_VALIDATIONS if not rule.holds(width, height, size_bytes, megabyte_bytes)]


def size_limit_bytes(megabyte_bytes: int = DECIMAL_MEGABYTE) -> int:
    """The smallest file size the seed's ``file_size_mb<`` rule refuses."""
    [rule] = [rule for rule in IMAGE_VALIDATIONS if rule.measure == "file_size_mb"]
    return math.ceil(Fraction(str(rule.validation_value)) * megabyte_bytes)


def _measure(
    name: str, width: int, height: int, size_bytes: int | None, megabyte_bytes: int
) -> Fraction | None:
    if name == "width_pixels":
        return Fraction(width)
    if name == "height_pixels":
        return Fraction(height)
    if name == "width/height":
        return Fraction(width, height) if height > 0 else None
    if name == "file_size_mb":
        return None if size_bytes is None else Fraction(size_bytes, megabyte_bytes)
    raise ValueError(f"unknown validation rule measure: {name!r}")


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One entry of a 422 answer's ``detail``; ``field`` is ``None`` for the body as a whole.

    ``standalone`` marks a ``msg`` that reads well alone (the seed's image texts): the answer's
    ``error_message`` then carries it unchanged, without the field's name in front.
    """

    field: str | None
    msg: str
    type: str
    standalone: bool = False

    def as_detail(self) -> dict[str, Any]:
        loc = ["body"] if self.field is None else ["body", self.field]
        return {"loc": loc, "msg": self.msg, "type": self.type}

    @property
    def text(self) -> str:
        return self.msg if self.field is None or self.standalone else f"{self.field}: {self.msg}"


def validate_input(body: Any) -> tuple[dict[str, Any], list[FieldIssue]]:
    """Check a decoded JSON body against the input schema.

    Returns the input with defaults filled in, and every issue found (empty when the body is valid).
    Unknown fields are ignored, as the real API's schema does not forbid them.
    """
    if not isinstance(body, dict):
        msg = "Input should be a valid dictionary or object to extract fields from"
        return {}, [FieldIssue(None, msg, "model_attributes_type")]
    issues: list[FieldIssue] = [
        FieldIssue(name, "Field required", "missing") for name in _REQUIRED if name not in body
    ]
    for name in _STRING_FIELDS:
        if name in body and not isinstance(body[name], str):
            issues.append(FieldIssue(name, "Input should be a valid string", "string_type"))
    prompt = body.get("prompt")
    if isinstance(prompt, str) and len(prompt) > PROMPT_MAX_LENGTH:
        msg = f"String should have at most {PROMPT_MAX_LENGTH} characters"
        issues.append(FieldIssue("prompt", msg, "string_too_long"))
    resolution = body.get("resolution", RESOLUTIONS[0])
    if isinstance(resolution, str) and resolution not in RESOLUTIONS:
        issues.append(FieldIssue("resolution", "Input should be '480p', '720p' or '1080p'", "literal_error"))
    duration = body.get("duration", DURATIONS[0])
    if isinstance(duration, bool) or not isinstance(duration, int):
        issues.append(FieldIssue("duration", "Input should be a valid integer", "int_type"))
    elif duration not in DURATIONS:
        issues.append(FieldIssue("duration", "Input should be 5 or 10", "literal_error"))
    normalized = {**body, "resolution": resolution, "duration": duration}
    return normalized, issues
