"""The seed's input schema, checked the way the real API reports it (FastAPI/pydantic-style ``detail``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MODEL_PATH = "bytedance/seedance-1-0/lite/image-to-video"
PROMPT_MAX_LENGTH = 1900
RESOLUTIONS = ("480p", "720p", "1080p")
DURATIONS = (5, 10)
IMAGE_FIELDS = ("first_frame_image_url", "last_frame_image_url")
_REQUIRED = ("prompt", "first_frame_image_url")
_STRING_FIELDS = ("prompt", "first_frame_image_url", "last_frame_image_url", "resolution")


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
